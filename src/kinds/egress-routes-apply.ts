import { KIND_EGRESS_ROUTES_APPLY, rulesOf } from './builtin-rules.js';
import { routesFileKind } from './routes-kind.js';

export const egressRoutesApplyKind = routesFileKind(rulesOf(KIND_EGRESS_ROUTES_APPLY));
