import type { SealVerdict } from '../keys/keyring.js';
import type { Db } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';
import { readableColumns } from '../queue/unreadable-rows.js';
import type { Bottle } from './bottle-store.js';

/**
 * How often a running sidecar republishes its row. The live routes hash is also published right
 * after the sidecar replaces the file; this interval bounds how long a change made by anyone else
 * (a hand edit) goes unnoticed by the operator's stale warning, and how soon a stopped sidecar
 * shows as stale.
 */
export const HEARTBEAT_INTERVAL_MS = 30_000;

/**
 * The one vocabulary of liveness, for every view of the bottles (`bot-bottle bottles`, the terminal
 * UI, the dashboard). `alive`: a heartbeat sealed by the bottle within `ALIVE_WITHIN_MS`; `stale`: the last one is older
 * (or, just registered, none yet) but within `GONE_AFTER_MS`, or dated ahead of the host's clock;
 * `gone`: retired by the host, silent for longer, or never heard from with its own key.
 */
export type Liveness = 'alive' | 'stale' | 'gone';

/** Three intervals: one missed beat and a busy host do not make a running bottle look stale. */
export const ALIVE_WITHIN_MS = 3 * HEARTBEAT_INTERVAL_MS;
export const GONE_AFTER_MS = 20 * HEARTBEAT_INTERVAL_MS;
/**
 * How far ahead of the host's clock a time may be and still count: a bottle shares the host's clock
 * (a VM's may drift a little). A bottle holds its own key, so a sealed beat dated next year proves
 * only that the bottle wrote it, not that it runs now.
 */
export const CLOCK_SKEW_ALLOWED_MS = HEARTBEAT_INTERVAL_MS;

/**
 * What the host registered: `registered` or `retired` under its own signature, `unregistered` when it
 * never wrote the row's registration (a bottle started without `registerBottle`), `forged` when the
 * registration columns or their seal are not what the host signed.
 */
export type RegistrationState = 'registered' | 'retired' | 'unregistered' | 'forged';

/** The heartbeat's seal: `sealed` by the bottle's own key, `none` when it never beat, else `unsealed` or `forged`. */
export type HeartbeatState = 'sealed' | 'none' | 'unsealed' | 'forged';

/** One bottle as the operator sees it: each claim only as far as its seal carries it. */
export interface BottleOverview {
  slug: string;
  liveness: Liveness;
  registration: RegistrationState;
  /** From the host's signed registration only; null otherwise. */
  backend: string | null;
  image: string | null;
  startedAt: number | null;
  stoppedAt: number | null;
  heartbeat: HeartbeatState;
  /** The bottle's claims, as stored; they count towards `liveness` only when `heartbeat` is `sealed`. */
  lastHeartbeat: number | null;
  sidecarVersion: string | null;
  schemaVersion: number | null;
  liveRoutesHash: string | null;
  /** Proposals waiting for the operator (unexpired) and the creation time of the oldest. */
  pending: number;
  oldestPendingAt: number | null;
}

export interface PendingCount {
  pending: number;
  oldestPendingAt: number;
}

/**
 * Each bottle's proposals waiting for the operator, from the pending rows' partial index, so a long
 * history costs nothing. Proposals past their expiry but not yet swept do not count.
 */
export function pendingByBottle(db: Db, now: number): Map<string, PendingCount> {
  const rows = cachedStatement(
    db,
    `SELECT slug, count(*) AS pending, min(created_at) AS oldest FROM proposals
     WHERE state = 'pending' AND target = 'operator' AND (expires_at IS NULL OR expires_at > ?) AND ${readableColumns('slug', 'created_at')} GROUP BY slug`,
  ).all(now) as Array<{ slug: unknown; pending: number; oldest: number }>;
  return new Map(rows.filter((row) => typeof row.slug === 'string').map((row) => [row.slug as string, { pending: row.pending, oldestPendingAt: row.oldest }]));
}

function registrationState(bottle: Bottle, verdict: SealVerdict): RegistrationState {
  const written = bottle.registrationSeal !== null || bottle.backend !== null || bottle.image !== null || bottle.startedAt !== null || bottle.stoppedAt !== null;
  if (!written) return 'unregistered';
  if (verdict !== 'host') return 'forged';
  return bottle.stoppedAt === null ? 'registered' : 'retired';
}

function heartbeatState(bottle: Bottle, verdict: SealVerdict): HeartbeatState {
  if (bottle.lastHeartbeat === null && bottle.heartbeatSeal === null) return 'none';
  if (verdict === 'bottle') return 'sealed';
  return bottle.heartbeatSeal === null ? 'unsealed' : 'forged';
}

/**
 * The one rule of liveness, over what the overview has verified: the heartbeat's time counts only
 * when the bottle's own key sealed it, the registration's start only when the host signed it, and a
 * retirement the host signed is final. Given an overview read earlier, it says what that overview
 * means at `now` (so a view can let liveness move with its clock between reads).
 */
export function livenessAt(bottle: Pick<BottleOverview, 'registration' | 'heartbeat' | 'lastHeartbeat' | 'startedAt'>, now: number): Liveness {
  if (bottle.registration === 'retired') return 'gone';
  const since = bottle.heartbeat === 'sealed' ? bottle.lastHeartbeat : bottle.registration === 'registered' ? bottle.startedAt : null;
  if (since === null) return 'gone';
  const age = now - since;
  // Dated ahead of now: nothing says when it was really written, so never alive, and never gone by age.
  if (age < -CLOCK_SKEW_ALLOWED_MS) return 'stale';
  if (bottle.heartbeat === 'sealed' && age <= ALIVE_WITHIN_MS) return 'alive';
  return age <= GONE_AFTER_MS ? 'stale' : 'gone';
}

/** The overview of one row (or of a bottle with pending proposals and no row: `bottle` undefined). */
export function overviewOf(
  slug: string,
  bottle: Bottle | undefined,
  seals: { registration: SealVerdict; heartbeat: SealVerdict } | undefined,
  pending: PendingCount | undefined,
  now: number,
): BottleOverview {
  const counts = { pending: pending?.pending ?? 0, oldestPendingAt: pending?.oldestPendingAt ?? null };
  if (bottle === undefined || seals === undefined) {
    return {
      slug,
      liveness: 'gone',
      registration: 'unregistered',
      backend: null,
      image: null,
      startedAt: null,
      stoppedAt: null,
      heartbeat: 'none',
      lastHeartbeat: null,
      sidecarVersion: null,
      schemaVersion: null,
      liveRoutesHash: null,
      ...counts,
    };
  }
  const registration = registrationState(bottle, seals.registration);
  const heartbeat = heartbeatState(bottle, seals.heartbeat);
  const trusted = registration === 'registered' || registration === 'retired';
  const startedAt = trusted ? bottle.startedAt : null;
  return {
    slug,
    liveness: livenessAt({ registration, heartbeat, lastHeartbeat: bottle.lastHeartbeat, startedAt }, now),
    registration,
    backend: trusted ? bottle.backend : null,
    image: trusted ? bottle.image : null,
    startedAt,
    stoppedAt: trusted ? bottle.stoppedAt : null,
    heartbeat,
    lastHeartbeat: bottle.lastHeartbeat,
    sidecarVersion: bottle.sidecarVersion,
    schemaVersion: bottle.schemaVersion,
    liveRoutesHash: bottle.liveRoutesHash,
    ...counts,
  };
}
