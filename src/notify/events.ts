import type { Db } from '../storage/connection.js';
import { columnsWithin, valueWithin } from '../storage/column-sizes.js';
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
/**
 * No column of an event the plane writes is longer (an id is 36 bytes, a slug at most 63); a longer
 * event was written with raw SQL and is passed over, as one too big to read must be (column-sizes.ts).
 */
const EVENT_COLUMN_BYTES = 64;
const SMALL_EVENT = columnsWithin(['ts', 'type', 'proposal_id', 'slug', 'target'], EVENT_COLUMN_BYTES);

/** Appends inside the caller's write transaction, so the event commits with the change it describes. */
export function appendEvent(db: Db, event: Omit<ChangeEvent, 'id'>): number {
  const id = Number(
    cachedStatement(db, 'INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, ?, ?, ?, ?)').run(event.ts, event.type, event.proposalId, event.slug, event.target)
      .lastInsertRowid,
  );
  if (id % PRUNE_EVERY === 0) {
    // Walks up from the oldest row to the first one young enough: only the rows it deletes.
    cachedStatement(db, `DELETE FROM events WHERE id < coalesce((SELECT id FROM events WHERE ${valueWithin('ts', EVENT_COLUMN_BYTES)} >= ? ORDER BY id LIMIT 1), ?)`).run(event.ts - EVENT_RETENTION_MS, id);
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

/**
 * Events after `cursor` up to `through`, oldest first: every bottle's, or only `slugs`' (one seek
 * per bottle on the (slug, id) index, however busy the others are).
 */
export function readEventsAfter(db: Db, cursor: number, through: number, limit: number, slugs?: readonly string[]): ChangeEvent[] {
  const columns = 'SELECT id, ts, type, proposal_id, slug, target FROM events';
  const rows = (
    slugs === undefined
      ? cachedStatement(db, `${columns} WHERE ${SMALL_EVENT} AND id > +? AND id <= +? ORDER BY id LIMIT +?`).all(cursor, through, limit)
      : slugs.length === 1
        ? cachedStatement(db, `${columns} WHERE ${SMALL_EVENT} AND slug = +? AND id > +? AND id <= +? ORDER BY id LIMIT +?`).all(slugs[0], cursor, through, limit)
        : cachedStatement(db, `${columns} WHERE ${SMALL_EVENT} AND slug IN (SELECT value FROM json_each(?)) AND id > +? AND id <= +? ORDER BY id LIMIT +?`).all(JSON.stringify(slugs), cursor, through, limit)
  ) as EventRow[];
  return rows.map((row) => ({ id: row.id, ts: row.ts, type: row.type, proposalId: row.proposal_id, slug: row.slug, target: row.target }));
}

/** The oldest event still kept; a reader whose cursor is older than the one before it missed pruned events. */
export function oldestEventId(db: Db): number | undefined {
  return (cachedStatement(db, 'SELECT min(id) FROM events', { pluck: true }).get() as number | null) ?? undefined;
}

export function latestEventId(db: Db): number {
  return (cachedStatement(db, 'SELECT coalesce(max(id), 0) FROM events', { pluck: true }).get() as number) ?? 0;
}
