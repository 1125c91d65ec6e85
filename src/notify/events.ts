import type { Db } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';
import type { Target } from '../core/target.js';

export type ChangeType = 'created' | 'answered' | 'archived' | 'expired' | 'cancelled';

export interface ChangeEvent {
  id: number;
  ts: number;
  type: ChangeType;
  proposalId: string;
  slug: string;
  target: Target;
}

/** Events older than this are pruned; a reader that fell further behind resyncs from the tables. */
export const EVENT_RETENTION_MS = 60 * 60 * 1000;
const PRUNE_EVERY = 512;

/** Appends inside the caller's write transaction, so the event commits with the change it describes. */
export function appendEvent(db: Db, event: Omit<ChangeEvent, 'id'>): number {
  const id = Number(
    cachedStatement(db, 'INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, ?, ?, ?, ?)').run(event.ts, event.type, event.proposalId, event.slug, event.target)
      .lastInsertRowid,
  );
  if (id % PRUNE_EVERY === 0) {
    cachedStatement(db, 'DELETE FROM events WHERE ts < ? AND id < ?').run(event.ts - EVENT_RETENTION_MS, id);
  }
  return id;
}

interface EventRow {
  id: number;
  ts: number;
  type: ChangeType;
  proposal_id: string;
  slug: string;
  target: Target;
}

export function readEventsAfter(db: Db, cursor: number, limit: number): ChangeEvent[] {
  const rows = cachedStatement(db, 'SELECT id, ts, type, proposal_id, slug, target FROM events WHERE id > ? ORDER BY id LIMIT ?').all(cursor, limit) as EventRow[];
  return rows.map((row) => ({ id: row.id, ts: row.ts, type: row.type, proposalId: row.proposal_id, slug: row.slug, target: row.target }));
}

export function latestEventId(db: Db): number {
  return (cachedStatement(db, 'SELECT coalesce(max(id), 0) FROM events', { pluck: true }).get() as number) ?? 0;
}
