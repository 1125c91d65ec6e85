import { routesFileKind } from './routes-kind.js';

/** Downward: the launcher asks a bottle's sidecar to apply a routes file, and the sidecar applies it or says why not. */
export const KIND_EGRESS_ROUTES_APPLY = 'egress-routes-apply';

export const egressRoutesApplyKind = routesFileKind(KIND_EGRESS_ROUTES_APPLY, 'sidecar', false, 'the launcher asks the sidecar to apply a routes file to the live egress proxy');
