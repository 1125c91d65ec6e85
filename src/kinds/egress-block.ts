import { KIND_EGRESS_BLOCK, rulesOf } from './builtin-rules.js';
import { routesFileKind } from './routes-kind.js';

export const egressBlockKind = routesFileKind(rulesOf(KIND_EGRESS_BLOCK));
