import type { Bottle } from './bottle-store.js';

/**
 * Whether a bottle's sidecar is running, as far as the bottles table tells: `alive` while its
 * heartbeats keep coming, `stale` when they stopped without the bottle being retired (a crash, a
 * hung sidecar, a stopped container), `gone` once retired, `unknown` with no heartbeat on record.
 */
export type Liveness = 'alive' | 'stale' | 'gone' | 'unknown';

/** Three of the sidecar's 30 s heartbeats missed: one late beat on a loaded host is not a dead bottle. */
export const STALE_AFTER_MS = 90_000;

export function livenessOf(bottle: Pick<Bottle, 'stoppedAt' | 'lastHeartbeat'> | undefined, now: number): Liveness {
  if (bottle === undefined) return 'unknown';
  if (bottle.stoppedAt !== null) return 'gone';
  if (bottle.lastHeartbeat === null) return 'unknown';
  return now - bottle.lastHeartbeat <= STALE_AFTER_MS ? 'alive' : 'stale';
}
