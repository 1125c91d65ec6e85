import { routesFileKind } from './routes-kind.js';

export const KIND_EGRESS_BLOCK = 'egress-block';

export const egressBlockKind = routesFileKind(KIND_EGRESS_BLOCK, 'operator', true, 'a changed routes file, after egress blocked a request');
