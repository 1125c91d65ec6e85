import { routesFileKind } from './routes-kind.js';

export const KIND_EGRESS_ALLOW = 'egress-allow';

export const egressAllowKind = routesFileKind(KIND_EGRESS_ALLOW, 'operator', true, 'the agent asks for egress routes to be allowed (a full routes file)');
