import { routesFileKind } from './routes-kind.js';

export const KIND_EGRESS_ALLOW = 'egress-allow';

export const egressAllowKind = routesFileKind(KIND_EGRESS_ALLOW, 'operator', true, 'egress routes to allow, as a whole routes file');
