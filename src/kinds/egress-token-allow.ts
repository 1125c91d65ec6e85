import { renderDiff } from './diff.js';
import { indentedJson } from './json-payload.js';
import type { KindDefinition } from './kind.js';
import { parseTokenAllowReport } from './token-report.js';

export const KIND_EGRESS_TOKEN_ALLOW = 'egress-token-allow';

export const egressTokenAllowKind: KindDefinition = {
  name: KIND_EGRESS_TOKEN_ALLOW,
  component: 'egress',
  target: 'operator',
  modifiable: false,
  reasonRequiredToApprove: true,
  parse: parseTokenAllowReport,
  render: indentedJson,
  diff: (current, proposed) => renderDiff(current, proposed, KIND_EGRESS_TOKEN_ALLOW),
  description: 'a token the egress DLP caught in an outbound request',
};
