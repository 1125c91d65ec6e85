import { routesFileKind } from './routes-kind.js';

/** Downward: the launcher asks a bottle's sidecar to apply a routes file, and the sidecar applies it or says why not. */
export const KIND_EGRESS_ROUTES_APPLY = 'egress-routes-apply';

export const egressRoutesApplyKind = routesFileKind(KIND_EGRESS_ROUTES_APPLY, 'sidecar', false, 'a routes file for the sidecar to apply to the live egress proxy');
