import { routesFileKind } from './routes-kind.js';

export const KIND_EGRESS_BLOCK = 'egress-block';

export const egressBlockKind = routesFileKind(KIND_EGRESS_BLOCK, 'operator', true, 'the agent was blocked by egress and proposes a changed routes file');
