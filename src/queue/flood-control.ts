import { SuperviseError } from '../core/errors.js';
import type { Db } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';
import { OVERSIZED_PROPOSAL } from './unreadable-rows.js';

/**
 * How much one bottle may ask of the operator. The launcher sets them per bottle (host side, in
 * the sidecar's environment); a bottle's agent cannot raise them, and the host's own enqueues
 * (launcher, `bot-bottle propose`) are not held to them.
 */
export interface FloodLimits {
  /** Proposals of the bottle waiting for the operator at once. */
  maxPending: number;
  /** Proposals the bottle may make in any 60 s. */
  perMinute: number;
}

/**
 * An operator answers a handful of proposals a minute; twenty waiting is already a backlog no
 * one reviews carefully, and thirty a minute is far beyond what an honest agent asks.
 */
export const DEFAULT_FLOOD_LIMITS: Readonly<FloodLimits> = { maxPending: 20, perMinute: 30 };
/** Far above any sensible quota; a typo such as 2000000 is refused rather than meaning "no limit". */
export const MAX_FLOOD_SETTING = 10_000;

const WINDOW_MS = 60_000;

/**
 * Refuses one more proposal from `slug` past either limit, with a message for the agent that says
 * to wait for answers and for how long. Runs inside the enqueue's write transaction, so concurrent
 * enqueues of one bottle count each other and a refusal writes nothing.
 */
export function admitProposal(db: Db, slug: string, limits: FloodLimits, now: number): void {
  // `state = 'pending'` lets the partial pending index answer; the bottle's history is never read.
  const pending = cachedStatement(db, `SELECT count(*) FROM proposals WHERE state = 'pending' AND target = 'operator' AND +slug = ?`, { pluck: true }).get(slug) as number;
  if (pending >= limits.maxPending) {
    throw new SuperviseError(
      'rate-limited',
      `bottle "${slug}" already has ${pending} proposals waiting for the operator (the limit is ${limits.maxPending}). Wait for answers to those before proposing more: resume one by its proposal id to keep waiting.`,
    );
  }
  const since = now - WINDOW_MS;
  const recent = cachedStatement(db, `SELECT created_at FROM proposals WHERE slug = +? AND created_at > +? AND target = 'operator' AND NOT ${OVERSIZED_PROPOSAL} ORDER BY created_at LIMIT +?`, { pluck: true }).all(
    slug,
    since,
    limits.perMinute,
  ) as number[];
  if (recent.length >= limits.perMinute) {
    // The oldest of them leaves the window first; then one more may come in.
    const seconds = Math.max(1, Math.ceil(((recent[0] as number) + WINDOW_MS - now) / 1000));
    throw new SuperviseError(
      'rate-limited',
      `bottle "${slug}" made ${recent.length} proposals in the last minute (the limit is ${limits.perMinute} per minute). Wait for answers to those, then propose again in ${seconds} s.`,
    );
  }
}
