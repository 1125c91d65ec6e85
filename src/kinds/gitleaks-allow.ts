import { KIND_GITLEAKS_ALLOW, rulesOf } from './builtin-rules.js';
import { renderDiff } from './diff.js';
import { parseGitleaksReport } from './gitleaks-report.js';
import { indentedJson } from './json-payload.js';
import type { KindDefinition } from './kind.js';

export const gitleaksAllowKind: KindDefinition = {
  ...rulesOf(KIND_GITLEAKS_ALLOW),
  parse: parseGitleaksReport,
  render: indentedJson,
  diff: (current, proposed) => renderDiff(current, proposed, KIND_GITLEAKS_ALLOW),
};
