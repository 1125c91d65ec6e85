import { renderDiff } from './diff.js';
import type { KindDefinition } from './kind.js';
import { parseRoutesYaml } from './routes-file.js';

export const KIND_EGRESS_BLOCK = 'egress-block';

export const egressBlockKind: KindDefinition = {
  name: KIND_EGRESS_BLOCK,
  component: 'egress',
  target: 'operator',
  modifiable: true,
  reasonRequiredToApprove: false,
  parse: parseRoutesYaml,
  render: (payload) => payload,
  diff: (current, proposed) => renderDiff(current, proposed, KIND_EGRESS_BLOCK),
  description: 'the agent was blocked by egress and proposes a changed routes file',
};
