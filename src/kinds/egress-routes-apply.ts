import { renderDiff } from './diff.js';
import type { KindDefinition } from './kind.js';
import { parseRoutesYaml } from './routes-file.js';

/** Downward: the launcher asks a bottle's sidecar to apply a routes file, and the sidecar applies it or says why not. */
export const KIND_EGRESS_ROUTES_APPLY = 'egress-routes-apply';

export const egressRoutesApplyKind: KindDefinition = {
  name: KIND_EGRESS_ROUTES_APPLY,
  component: 'egress',
  target: 'sidecar',
  modifiable: false,
  reasonRequiredToApprove: false,
  parse: parseRoutesYaml,
  render: (payload) => payload,
  diff: (current, proposed) => renderDiff(current, proposed, KIND_EGRESS_ROUTES_APPLY),
  description: 'the launcher asks the sidecar to apply a routes file to the live egress proxy',
};
