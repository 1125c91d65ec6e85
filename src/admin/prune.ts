import type { SuperviseDatabase } from '../database.js';
import { SuperviseError } from '../core/errors.js';
import { writeTransaction } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';

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
    for (const row of cachedStatement(db, `SELECT slug, count(*) AS n FROM proposals WHERE state = 'archived' AND updated_at < ? GROUP BY slug`).all(cutoff) as Array<{ slug: string; n: number }>) {
      bySlug[row.slug] = row.n;
    }
  } else {
    uncollectedArchived = await database.queue.archiveUncollected(UNCOLLECTED_ARCHIVE_AFTER_MS, now);
    let after = 0;
    for (;;) {
      const batch = await writeTransaction(db, () => {
        const rows = cachedStatement(db, `SELECT seq, id, slug FROM proposals WHERE seq > ? AND state = 'archived' AND updated_at < ? ORDER BY seq LIMIT ?`).all(after, cutoff, PRUNE_BATCH) as Array<{
          seq: number;
          id: string;
          slug: string;
        }>;
        for (const row of rows) {
          cachedStatement(db, 'DELETE FROM responses WHERE proposal_id = ?').run(row.id);
          cachedStatement(db, 'DELETE FROM proposals WHERE seq = ?').run(row.seq);
        }
        return rows;
      });
      for (const row of batch) bySlug[row.slug] = (bySlug[row.slug] ?? 0) + 1;
      if (batch.length < PRUNE_BATCH) break;
      after = (batch.at(-1) as { seq: number }).seq;
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
