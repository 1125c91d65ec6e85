import type { SuperviseDatabase } from '../database.js';
import { SuperviseError } from '../core/errors.js';
import { writeTransaction } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';
import { isValidSlug } from '../core/validation.js';
import { boundedColumn, deleteProposalRow } from '../queue/unreadable-rows.js';
import { valueWithin } from '../storage/column-sizes.js';

/** Answers nobody collected for a week are archived: a waiter resumes within a proposal's lifetime (a day by default). */
export const UNCOLLECTED_ARCHIVE_AFTER_MS = 7 * 24 * 3_600_000;

/** Rows per write transaction: short enough that sidecars' writes wait milliseconds, not the whole prune. */
const PRUNE_BATCH = 2_000;

export interface PruneOptions {
  /** Archived proposals whose last change (their archiving) is older than this go. */
  olderThanMs: number;
  /** Who prunes, for the audit entries (`proposals-pruned`). */
  actor: string;
  dryRun?: boolean;
  now?: number;
}

export interface PruneResult {
  dryRun: boolean;
  /** Proposals archived before: `now - olderThanMs`. */
  cutoff: number;
  /** Answered proposals never collected for `UNCOLLECTED_ARCHIVE_AFTER_MS`, archived first (or that would be). */
  uncollectedArchived: number;
  /** Archived proposals deleted with their responses (or that would be), per bottle and in all. */
  pruned: number;
  bySlug: Record<string, number>;
  /** Unused space in the file afterwards, which `bot-bottle db vacuum` gives back to the filesystem. */
  freeBytes: number;
}

/**
 * Deletes archived proposals (and their responses) older than the horizon, in short batches.
 * The audit log keeps every entry, so each decision stays on record and `audit verify` stays
 * green; each bottle gets one `proposals-pruned` entry saying how many went. Answers nobody
 * collected are archived first. A dry run counts and changes nothing.
 */
export async function pruneArchived(database: SuperviseDatabase, options: PruneOptions): Promise<PruneResult> {
  if (!Number.isSafeInteger(options.olderThanMs) || options.olderThanMs < 0) {
    throw new SuperviseError('invalid-input', `the prune horizon must be a duration of 0 or more, got ${String(options.olderThanMs)} ms.`);
  }
  const { db } = database;
  const now = options.now ?? Date.now();
  const cutoff = now - options.olderThanMs;
  const dryRun = options.dryRun ?? false;
  const bySlug: Record<string, number> = {};
  let uncollectedArchived: number;
  if (dryRun) {
    uncollectedArchived = cachedStatement(db, `SELECT count(*) FROM proposals WHERE state = 'answered' AND updated_at < ?`, { pluck: true }).get(now - UNCOLLECTED_ARCHIVE_AFTER_MS) as number;
    const counts = cachedStatement(
      db,
      `SELECT slug, count(*) AS n FROM proposals WHERE state = 'archived' AND ${valueWithin('updated_at', 64)} < ? AND octet_length(slug) <= 256 GROUP BY slug`,
    ).all(cutoff) as Array<{ slug: string; n: number }>;
    for (const row of counts) if (isValidSlug(row.slug)) bySlug[row.slug] = row.n;
  } else {
    uncollectedArchived = await database.queue.archiveUncollected(UNCOLLECTED_ARCHIVE_AFTER_MS, now);
    let after = 0;
    for (;;) {
      const batch = await writeTransaction(db, () => {
        // A bottle may have written any row with its own SQLite: only small values are read (storage/column-sizes.ts).
        const rows = cachedStatement(
          db,
          `SELECT seq, ${boundedColumn('id')}, ${boundedColumn('slug')} FROM proposals
           WHERE seq > ? AND state = 'archived' AND ${valueWithin('updated_at', 64)} < ? ORDER BY seq LIMIT ?`,
        ).all(after, cutoff, PRUNE_BATCH) as Array<{ seq: number; id: string | null; slug: string | null }>;
        const deleted: string[] = [];
        for (const row of rows) {
          if (row.id !== null) cachedStatement(db, 'DELETE FROM responses WHERE proposal_id = ?').run(row.id);
          if (!deleteProposalRow(db, row.seq)) continue;
          // The audit log takes only a valid slug; a row with another was written with raw SQL and goes uncounted.
          if (row.slug !== null && isValidSlug(row.slug)) deleted.push(row.slug);
        }
        return { deleted, last: rows.at(-1)?.seq, full: rows.length === PRUNE_BATCH };
      });
      for (const slug of batch.deleted) bySlug[slug] = (bySlug[slug] ?? 0) + 1;
      if (!batch.full || batch.last === undefined) break;
      after = batch.last;
    }
    for (const [slug, count] of Object.entries(bySlug)) {
      await database.audit.writeAuditEntry(slug, {
        component: 'supervise',
        action: 'proposals-pruned',
        actor: options.actor,
        notes: `deleted ${count} archived proposal${count === 1 ? '' : 's'} archived before ${new Date(cutoff).toISOString()}; their audit entries stay`,
        detail: { count, cutoff },
      });
    }
  }
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const freePages = db.pragma('freelist_count', { simple: true }) as number;
  return { dryRun, cutoff, uncollectedArchived, pruned: Object.values(bySlug).reduce((a, b) => a + b, 0), bySlug, freeBytes: pageSize * freePages };
}
