import { livenessAt, overviewOf, type BottleOverview, type Liveness } from '../../bottles/bottle-overview.js';
import { safeLine } from '../../core/safe-text.js';
import type { Proposal } from '../../queue/proposal.js';
import { excerpt, formatAge, type Palette } from './list-model.js';

/**
 * The bottles as the host's overview shows them (`BottleStore.overview`), each with its liveness at
 * `now`: the overview owns the rule (a heartbeat counts only when its bottle's key sealed it), and
 * `livenessAt` lets it move with the view's clock between reads. The ones with the most waiting
 * first, then by name.
 */
export function summarizeBottles(overview: readonly BottleOverview[], now: number): BottleOverview[] {
  return overview
    .map((bottle) => ({ ...bottle, liveness: livenessAt(bottle, now) }))
    .sort((a, b) => b.pending - a.pending || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
}

/**
 * Without the bottles table (a session given no overview), what the overview says of bottles that
 * only have proposals waiting: no row, so nothing the bottle's key sealed, so `gone`.
 */
export function overviewOfPending(proposals: readonly Proposal[], now: number): BottleOverview[] {
  const pending = new Map<string, { pending: number; oldestPendingAt: number }>();
  for (const proposal of proposals) {
    const counted = pending.get(proposal.slug);
    pending.set(proposal.slug, { pending: (counted?.pending ?? 0) + 1, oldestPendingAt: Math.min(counted?.oldestPendingAt ?? proposal.createdAt, proposal.createdAt) });
  }
  return [...pending].map(([slug, counts]) => overviewOf(slug, undefined, undefined, counts, now));
}

/** A bottle's liveness at `now`, as a group heading shows it; a slug the overview does not list has no row, so it is `gone`. */
export function livenessOfSlug(bottles: readonly BottleOverview[], slug: string, now: number): Liveness {
  const bottle = bottles.find((candidate) => candidate.slug === slug) ?? overviewOf(slug, undefined, undefined, undefined, now);
  return livenessAt(bottle, now);
}

/** "3 bottles: 2 alive, 1 stale" — the title's count, in a fixed order. */
export function describeBottles(summaries: readonly BottleOverview[]): string {
  if (summaries.length === 0) return 'no bottles known';
  const counts = (['alive', 'stale', 'gone'] as const).flatMap((state) => {
    const count = summaries.filter((summary) => summary.liveness === state).length;
    return count === 0 ? [] : [`${count} ${state}`];
  });
  return `${summaries.length === 1 ? '1 bottle' : `${summaries.length} bottles`}: ${counts.join(', ')}`;
}

export const LIVENESS_PAINT = { alive: 'green', stale: 'yellow', gone: 'dim' } as const;

/** The heartbeat as far as its seal carries it: its age only when the bottle's key sealed it, otherwise what is wrong with it. */
export function heartbeatCell(bottle: BottleOverview, now: number): string {
  const when = bottle.lastHeartbeat === null ? '' : ` ${formatAge(now - bottle.lastHeartbeat)}`;
  switch (bottle.heartbeat) {
    case 'none':
      return 'never';
    case 'forged':
      return `[FORGED]${when}`;
    case 'unsealed':
      return `[UNSEALED]${when}`;
    case 'sealed':
      return `${formatAge(now - (bottle.lastHeartbeat ?? now))} ago`;
  }
}

/** What the host registered, as far as its signature carries it. */
export function registrationCell(bottle: BottleOverview): string {
  return { registered: 'yes', retired: 'retired', unregistered: 'no', forged: '[FORGED]' }[bottle.registration];
}

/** A group heading's marks after the liveness: each half of the row whose seal does not verify. */
export function sealMarks(bottle: BottleOverview | undefined): string[] {
  if (bottle === undefined) return [];
  return [
    ...(bottle.heartbeat === 'forged' || bottle.heartbeat === 'unsealed' ? [`heartbeat [${bottle.heartbeat.toUpperCase()}]`] : []),
    ...(bottle.registration === 'forged' ? ['registration [FORGED]'] : []),
  ];
}

interface BottleCells {
  slug: string;
  state: Liveness | 'STATE';
  pending: string;
  heartbeat: string;
  sidecar: string;
  registered: string;
}

/**
 * The bottles view's lines (header first), fitted to `width`: every text the bottle wrote made
 * display-safe, its sidecar version shown only from a sealed heartbeat, `selected` inverted.
 */
export function bottleLines(summaries: readonly BottleOverview[], now: number, colors: Palette, width: number, selected: number): string[] {
  const cells = summaries.map(
    (summary): BottleCells => ({
      slug: safeLine(summary.slug),
      state: summary.liveness,
      pending: String(summary.pending),
      heartbeat: heartbeatCell(summary, now),
      sidecar: summary.heartbeat === 'sealed' && summary.sidecarVersion !== null ? safeLine(summary.sidecarVersion) : '',
      registered: registrationCell(summary),
    }),
  );
  const fixed = { state: 5, pending: 7, heartbeat: 14, registered: 10 };
  const sidecar = Math.min(16, Math.max(7, ...cells.map((cell) => [...cell.sidecar].length)));
  const slug = Math.max(6, Math.min(Math.max(...cells.map((cell) => [...cell.slug].length)), width - 2 - fixed.state - fixed.pending - fixed.heartbeat - sidecar - fixed.registered - 10));
  const line = (cell: BottleCells, paintState: (text: string) => string = (text) => text): string =>
    [
      excerpt(cell.slug, slug).padEnd(slug),
      paintState(cell.state.padEnd(fixed.state)),
      cell.pending.padStart(fixed.pending),
      cell.heartbeat.padStart(fixed.heartbeat),
      excerpt(cell.sidecar, sidecar).padEnd(sidecar),
      cell.registered,
    ].join('  ');
  const header = colors.bold(`  ${line({ slug: 'BOTTLE', state: 'STATE', pending: 'PENDING', heartbeat: 'HEARTBEAT', sidecar: 'SIDECAR', registered: 'REGISTERED' })}`);
  return [
    header,
    ...cells.map((cell, index) =>
      index === selected ? colors.inverse(`> ${line(cell)}`) : `  ${line(cell, cell.state === 'STATE' ? undefined : colors[LIVENESS_PAINT[cell.state]])}`,
    ),
  ];
}
