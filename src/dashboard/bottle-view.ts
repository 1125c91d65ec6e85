import type { BottleOverview } from '../bottles/bottle-overview.js';
import { safeLine } from '../core/safe-text.js';
import type { BottleView } from './page/api-types.js';

/**
 * The host's overview of the bottles (`BottleStore.overview`), as the page shows it: liveness and the
 * seals' states as the overview decided them, the registration's claims only when the host signed
 * them (the overview has already dropped them otherwise) and the heartbeat's only when the bottle's
 * key sealed it. A bottle can write its row, so every text is display-safe.
 */
export function bottleViews(overview: readonly BottleOverview[]): BottleView[] {
  return overview.map((bottle) => {
    const sealed = bottle.heartbeat === 'sealed';
    return {
      slug: safeLine(bottle.slug),
      liveness: bottle.liveness,
      registration: bottle.registration,
      heartbeat: bottle.heartbeat,
      backend: safeLine(bottle.backend ?? '-'),
      image: safeLine(bottle.image ?? '-'),
      startedAt: bottle.startedAt,
      stoppedAt: bottle.stoppedAt,
      lastHeartbeat: bottle.lastHeartbeat,
      sidecarVersion: sealed ? safeLine(bottle.sidecarVersion ?? '-') : '-',
      schemaVersion: sealed ? bottle.schemaVersion : null,
      liveRoutesHash: sealed ? safeLine(bottle.liveRoutesHash ?? '-') : '-',
      pending: bottle.pending,
      oldestPendingAt: bottle.oldestPendingAt,
    };
  });
}
