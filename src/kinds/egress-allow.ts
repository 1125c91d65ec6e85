import { renderDiff } from './diff.js';
import type { KindDefinition } from './kind.js';
import { parseRoutesYaml } from './routes-file.js';

export const KIND_EGRESS_ALLOW = 'egress-allow';

export const egressAllowKind: KindDefinition = {
  name: KIND_EGRESS_ALLOW,
  component: 'egress',
  target: 'operator',
  modifiable: true,
  reasonRequiredToApprove: false,
  parse: parseRoutesYaml,
  render: (payload) => payload,
  diff: (current, proposed) => renderDiff(current, proposed, KIND_EGRESS_ALLOW),
  description: 'the agent asks for egress routes to be allowed (a full routes file)',
};
