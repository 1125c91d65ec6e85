import fs from 'node:fs';
import { openConnection } from '../storage/connection.js';
import { readMigrationStatus, type MigrationStatus } from '../storage/migrations.js';
import type { ProposalState } from '../queue/proposal.js';
import { pendingByBottle } from '../bottles/bottle-overview.js';
import { tableExists } from '../storage/tables.js';

export interface FileSizes {
  db: number;
  /** `null` when the side file does not exist. */
  wal: number | null;
  shm: number | null;
  journal: number | null;
}

export interface DatabaseStatus {
  path: string;
  /** The file SQLite really opens (the link resolved). */
  realPath: string;
  schema: MigrationStatus;
  journalMode: string;
  files: FileSizes;
  proposals: Record<ProposalState, number> & { total: number };
  /** Proposals waiting for the operator (unexpired), per bottle by slug, and the oldest one's age. */
  pending: PendingStatus;
  auditEntries: number;
}

export interface PendingStatus {
  bottles: Array<{ slug: string; pending: number; oldestPendingAt: number; oldestAgeMs: number }>;
  /** null with nothing waiting. */
  oldestAgeMs: number | null;
}

function readPendingStatus(db: ReturnType<typeof openConnection>, now: number): PendingStatus {
  if (!tableExists(db, 'proposals')) return { bottles: [], oldestAgeMs: null };
  const bottles = [...pendingByBottle(db, now)]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([slug, count]) => ({ slug, pending: count.pending, oldestPendingAt: count.oldestPendingAt, oldestAgeMs: now - count.oldestPendingAt }));
  return { bottles, oldestAgeMs: bottles.length === 0 ? null : Math.max(...bottles.map((bottle) => bottle.oldestAgeMs)) };
}

const STATES: ProposalState[] = ['pending', 'answered', 'archived', 'expired', 'cancelled'];

export function fileSizes(file: string): FileSizes {
  const size = (path: string): number | null => fs.statSync(path, { throwIfNoEntry: false })?.size ?? null;
  return { db: size(file) ?? 0, wal: size(`${file}-wal`), shm: size(`${file}-shm`), journal: size(`${file}-journal`) };
}

/**
 * Facts about a database file, read without changing it (`bot-bottle db status`): a database left
 * in rollback mode reports `delete`, since not even the switch to WAL is written.
 */
export function readDatabaseStatus(file: string, now: number = Date.now()): DatabaseStatus {
  // Opening first: a missing file is then the opener's `layout` error naming the fix, not ENOENT.
  const db = openConnection(file, { readonly: true });
  const realPath = fs.realpathSync(file);
  try {
    const proposals = Object.fromEntries(STATES.map((state) => [state, 0])) as Record<ProposalState, number>;
    if (tableExists(db, 'proposals')) {
      for (const row of db.prepare('SELECT state, count(*) AS n FROM proposals GROUP BY state').all() as Array<{ state: ProposalState; n: number }>) {
        proposals[row.state] = row.n;
      }
    }
    return {
      path: file,
      realPath,
      schema: readMigrationStatus(db),
      journalMode: String(db.pragma('journal_mode', { simple: true })),
      files: fileSizes(realPath),
      proposals: { ...proposals, total: Object.values(proposals).reduce((a, b) => a + b, 0) },
      pending: readPendingStatus(db, now),
      auditEntries: tableExists(db, 'audit_entries') ? (db.prepare('SELECT count(*) FROM audit_entries').pluck().get() as number) : 0,
    };
  } finally {
    db.close();
  }
}

/** True when any table other than the migration bookkeeping holds a row. */
export function holdsData(file: string): boolean {
  if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) === 0) return false;
  const db = openConnection(file, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'`).pluck().all() as string[];
    return tables.some((table) => db.prepare(`SELECT 1 FROM "${table.replace(/"/g, '""')}" LIMIT 1`).get() !== undefined);
  } finally {
    db.close();
  }
}
