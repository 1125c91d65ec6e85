import { livenessOf, type Liveness } from '../../bottles/liveness.js';
import type { Bottle } from '../../bottles/bottle-store.js';
import type { Proposal } from '../../queue/proposal.js';

/** One bottle as the operator's bottles view lists it: from the bottles table, its pending proposals, or both. */
export interface BottleSummary {
  slug: string;
  liveness: Liveness;
  pending: number;
  lastHeartbeat: number | null;
  sidecarVersion: string | null;
}

/**
 * Every bottle the table knows or a pending proposal names (a bottle with questions but no row is
 * still listed, as `unknown`): the ones with the most waiting first, then by name.
 */
export function summarizeBottles(bottles: readonly Bottle[], proposals: readonly Proposal[], now: number): BottleSummary[] {
  const pending = new Map<string, number>();
  for (const proposal of proposals) pending.set(proposal.slug, (pending.get(proposal.slug) ?? 0) + 1);
  const rows = new Map(bottles.map((bottle) => [bottle.slug, bottle]));
  const slugs = new Set([...rows.keys(), ...pending.keys()]);
  return [...slugs]
    .map((slug): BottleSummary => {
      const bottle = rows.get(slug);
      return { slug, liveness: livenessOf(bottle, now), pending: pending.get(slug) ?? 0, lastHeartbeat: bottle?.lastHeartbeat ?? null, sidecarVersion: bottle?.sidecarVersion ?? null };
    })
    .sort((a, b) => b.pending - a.pending || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
}

/** "3 bottles: 2 alive, 1 stale" — the title's count, in a fixed order. */
export function describeBottles(summaries: readonly BottleSummary[]): string {
  if (summaries.length === 0) return 'no bottles known';
  const counts = (['alive', 'stale', 'gone', 'unknown'] as const).flatMap((state) => {
    const count = summaries.filter((summary) => summary.liveness === state).length;
    return count === 0 ? [] : [`${count} ${state}`];
  });
  return `${summaries.length === 1 ? '1 bottle' : `${summaries.length} bottles`}: ${counts.join(', ')}`;
}
