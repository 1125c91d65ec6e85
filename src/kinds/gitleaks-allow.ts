import { renderDiff } from './diff.js';
import { parseGitleaksReport } from './gitleaks-report.js';
import { indentedJson } from './json-payload.js';
import type { KindDefinition } from './kind.js';

export const KIND_GITLEAKS_ALLOW = 'gitleaks-allow';

export const gitleaksAllowKind: KindDefinition = {
  name: KIND_GITLEAKS_ALLOW,
  component: 'git-gate',
  target: 'operator',
  modifiable: false,
  reasonRequiredToApprove: true,
  parse: parseGitleaksReport,
  render: indentedJson,
  diff: (current, proposed) => renderDiff(current, proposed, KIND_GITLEAKS_ALLOW),
  description: 'secrets gitleaks:allow suppressed in a push',
};
