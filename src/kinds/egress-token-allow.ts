import { KIND_EGRESS_TOKEN_ALLOW, rulesOf } from './builtin-rules.js';
import { renderDiff } from './diff.js';
import { indentedJson } from './json-payload.js';
import type { KindDefinition } from './kind.js';
import { parseTokenAllowReport } from './token-report.js';

export const egressTokenAllowKind: KindDefinition = {
  ...rulesOf(KIND_EGRESS_TOKEN_ALLOW),
  parse: parseTokenAllowReport,
  render: indentedJson,
  diff: (current, proposed) => renderDiff(current, proposed, KIND_EGRESS_TOKEN_ALLOW),
};
