import type { Bottle } from '../bottles/bottle-store.js';
import { safeLine } from '../core/safe-text.js';
import type { BottleView } from './page/api-types.js';

/** A sidecar beats every 30 s; three missed beats and the bottle is shown as quiet rather than alive. */
const ALIVE_WITHIN_MS = 90_000;

function stateOf(bottle: Bottle | undefined, now: number): BottleView['state'] {
  if (bottle === undefined) return 'unknown';
  if (bottle.stoppedAt !== null && (bottle.lastHeartbeat === null || bottle.stoppedAt >= bottle.lastHeartbeat)) return 'stopped';
  if (bottle.lastHeartbeat === null) return 'unknown';
  return now - bottle.lastHeartbeat <= ALIVE_WITHIN_MS ? 'alive' : 'quiet';
}

/**
 * Every bottle the table knows, and every bottle with proposals waiting even without a row (no
 * heartbeat yet): what runs and what it asks, read together. A sidecar writes its row, so every
 * text is display-safe.
 */
export function bottleViews(bottles: Bottle[], pendingBySlug: ReadonlyMap<string, number>, now: number): BottleView[] {
  const bySlug = new Map(bottles.map((bottle) => [bottle.slug, bottle]));
  const slugs = [...new Set([...bySlug.keys(), ...pendingBySlug.keys()])].sort();
  return slugs.map((slug) => {
    const bottle = bySlug.get(slug);
    return {
      slug: safeLine(slug),
      state: stateOf(bottle, now),
      backend: safeLine(bottle?.backend ?? '-'),
      image: safeLine(bottle?.image ?? '-'),
      startedAt: bottle?.startedAt ?? null,
      stoppedAt: bottle?.stoppedAt ?? null,
      lastHeartbeat: bottle?.lastHeartbeat ?? null,
      sidecarVersion: safeLine(bottle?.sidecarVersion ?? '-'),
      schemaVersion: bottle?.schemaVersion ?? null,
      liveRoutesHash: bottle?.liveRoutesHash ?? '-',
      pending: pendingBySlug.get(slug) ?? 0,
    };
  });
}
