import fs from 'node:fs';
import path from 'node:path';
import { openConnection, writeTransaction, type Db } from '../storage/connection.js';
import { stateDir } from '../storage/layout.js';
import { cachedStatement } from '../storage/statements.js';

/** `fired`: this watcher tells the operator; `suppressed`: over the bottle's rate, counted for the next one; `taken`: another watcher had it. */
export type ClaimOutcome = { outcome: 'fired'; suppressedBefore: number } | { outcome: 'suppressed' } | { outcome: 'taken' };

const MINUTE_MS = 60_000;
/** Longer than any proposal lives unless it never expires; only a never-expiring one is told again after. */
const KEEP_CLAIMS_MS = 400 * 24 * 3_600_000;

/** `~/.bot-bottle/notify/claims.db`: beside the keys, outside the directory mounted into bottles. */
export function claimsPath(): string {
  return path.join(stateDir(), 'notify', 'claims.db');
}

/**
 * Which proposals the operator was already told of, shared by every notify watcher on the host so
 * each proposal is told once however many run. It is its own file outside the shared directory:
 * a claim in the shared database could be written by the bottle itself, ahead of the watchers, to
 * keep its own proposal from being told. Its one table is made here, not by the plane's migrations.
 */
export class NotifyClaims {
  readonly #db: Db;

  private constructor(db: Db) {
    this.#db = db;
  }

  static async open(file: string = claimsPath(), now: number = Date.now()): Promise<NotifyClaims> {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const db = openConnection(file);
    try {
      // Several watchers may start at once: the table is made under the write lock, with its retries.
      await writeTransaction(db, () => {
        db.exec(`CREATE TABLE IF NOT EXISTS claims (
               proposal_id TEXT PRIMARY KEY,
               slug        TEXT NOT NULL,
               outcome     TEXT NOT NULL CHECK (outcome IN ('fired', 'suppressed')),
               claimed_at  INTEGER NOT NULL
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS claims_slug_at ON claims (slug, claimed_at);`);
        db.prepare('DELETE FROM claims WHERE claimed_at < ?').run(now - KEEP_CLAIMS_MS);
      });
    } catch (error) {
      db.close();
      throw error;
    }
    return new NotifyClaims(db);
  }

  /**
   * Claims the telling of one proposal, in one write transaction so two watchers cannot both win.
   * Past `perMinute` of the bottle's notifications in the last minute it is `suppressed`; the next
   * one that fires says how many were (`suppressedBefore`).
   */
  claim(proposalId: string, slug: string, perMinute: number, now: number = Date.now()): Promise<ClaimOutcome> {
    return writeTransaction(this.#db, (): ClaimOutcome => {
      if (cachedStatement(this.#db, 'SELECT 1 FROM claims WHERE proposal_id = ?').get(proposalId)) return { outcome: 'taken' };
      const fired = cachedStatement(this.#db, `SELECT count(*) FROM claims WHERE slug = ? AND outcome = 'fired' AND claimed_at > ?`, { pluck: true }).get(slug, now - MINUTE_MS) as number;
      const outcome = fired < perMinute ? 'fired' : 'suppressed';
      cachedStatement(this.#db, 'INSERT INTO claims (proposal_id, slug, outcome, claimed_at) VALUES (?, ?, ?, ?)').run(proposalId, slug, outcome, now);
      if (outcome === 'suppressed') return { outcome };
      const lastFired = cachedStatement(this.#db, `SELECT max(claimed_at) FROM claims WHERE slug = ? AND outcome = 'fired' AND proposal_id <> ?`, { pluck: true }).get(slug, proposalId) as number | null;
      const suppressedBefore = cachedStatement(this.#db, `SELECT count(*) FROM claims WHERE slug = ? AND outcome = 'suppressed' AND claimed_at >= ?`, { pluck: true }).get(slug, lastFired ?? 0) as number;
      return { outcome, suppressedBefore };
    });
  }

  close(): void {
    this.#db.close();
  }
}
