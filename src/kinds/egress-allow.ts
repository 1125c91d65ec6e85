import { KIND_EGRESS_ALLOW, rulesOf } from './builtin-rules.js';
import { routesFileKind } from './routes-kind.js';

export const egressAllowKind = routesFileKind(rulesOf(KIND_EGRESS_ALLOW));
