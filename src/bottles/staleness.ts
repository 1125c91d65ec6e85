import { KIND_EGRESS_ALLOW, KIND_EGRESS_BLOCK } from '../kinds/builtin-rules.js';
import type { Proposal } from '../queue/proposal.js';
import type { Bottle, BottleStore } from './bottle-store.js';

/** The kinds whose payload is a whole live routes file, proposed against the file it replaces. */
export const LIVE_ROUTES_KINDS: ReadonlySet<string> = new Set([KIND_EGRESS_ALLOW, KIND_EGRESS_BLOCK]);

/**
 * Whether a routes proposal still describes a change to the live file, as far as the bottle's
 * sidecar last told. `unknown` when it published no live file (no heartbeat yet, or no routes file
 * configured): the operator is not told "current" on no evidence.
 */
export type Staleness =
  | { state: 'current'; liveRoutesHash: string; heartbeatAt: number | null }
  | { state: 'stale'; liveRoutesHash: string; liveRoutes: string | null; heartbeatAt: number | null }
  | { state: 'unknown' };

/** undefined for a proposal that replaces no live routes file. */
export function stalenessOf(proposal: Pick<Proposal, 'kind' | 'currentFileHash'>, bottle: Bottle | undefined): Staleness | undefined {
  if (!LIVE_ROUTES_KINDS.has(proposal.kind)) return undefined;
  if (bottle === undefined || bottle.liveRoutesHash === null) return { state: 'unknown' };
  const { liveRoutesHash, lastHeartbeat: heartbeatAt } = bottle;
  if (proposal.currentFileHash === liveRoutesHash) return { state: 'current', liveRoutesHash, heartbeatAt };
  return { state: 'stale', liveRoutesHash, liveRoutes: bottle.liveRoutes, heartbeatAt };
}

/** `stalenessOf` with each bottle's row read once: for one listing of many proposals. */
export function stalenessLookup(bottles: BottleStore): (proposal: Pick<Proposal, 'slug' | 'kind' | 'currentFileHash'>) => Staleness | undefined {
  const rows = new Map<string, Bottle | undefined>();
  return (proposal) => {
    if (!LIVE_ROUTES_KINDS.has(proposal.kind)) return undefined;
    if (!rows.has(proposal.slug)) rows.set(proposal.slug, bottles.readBottle(proposal.slug));
    return stalenessOf(proposal, rows.get(proposal.slug));
  };
}
