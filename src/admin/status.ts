import fs from 'node:fs';
import Database from 'better-sqlite3';
import { BUSY_TIMEOUT_MS, type Db } from '../storage/connection.js';
import { loadMigrations } from '../storage/migrations.js';
import type { ProposalState } from '../queue/proposal.js';
import { SCHEMA_VERSION } from '../storage/schema-version.js';

export const SIDE_FILE_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

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
  schema: { userVersion: number; buildVersion: number; applied: string[]; pending: string[] };
  journalMode: string;
  files: FileSizes;
  proposals: Record<ProposalState, number> & { total: number };
  auditEntries: number;
}

const STATES: ProposalState[] = ['pending', 'answered', 'archived', 'expired', 'cancelled'];

/**
 * Opens without the pragmas of `openConnection`, so what is read is what the file holds (a
 * database left in rollback mode reports `delete`), and nothing is written: not even WAL mode.
 */
export function openForInspection(file: string): Db {
  return new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
}

export function fileSizes(file: string): FileSizes {
  const size = (path: string): number | null => fs.statSync(path, { throwIfNoEntry: false })?.size ?? null;
  return { db: size(file) ?? 0, wal: size(`${file}-wal`), shm: size(`${file}-shm`), journal: size(`${file}-journal`) };
}

export function tableExists(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

export function appliedMigrations(db: Db): string[] {
  return tableExists(db, 'schema_migrations') ? (db.prepare('SELECT name FROM schema_migrations ORDER BY name').pluck().all() as string[]) : [];
}

/** Facts about a database file, read without changing it (`bot-bottle db status`). */
export function readDatabaseStatus(file: string): DatabaseStatus {
  const realPath = fs.realpathSync(file);
  const db = openForInspection(file);
  try {
    const applied = appliedMigrations(db);
    const proposals = Object.fromEntries(STATES.map((state) => [state, 0])) as Record<ProposalState, number>;
    if (tableExists(db, 'proposals')) {
      for (const row of db.prepare('SELECT state, count(*) AS n FROM proposals GROUP BY state').all() as Array<{ state: ProposalState; n: number }>) {
        proposals[row.state] = row.n;
      }
    }
    return {
      path: file,
      realPath,
      schema: {
        userVersion: db.pragma('user_version', { simple: true }) as number,
        buildVersion: SCHEMA_VERSION,
        applied,
        pending: loadMigrations()
          .map((m) => m.name)
          .filter((name) => !applied.includes(name)),
      },
      journalMode: String(db.pragma('journal_mode', { simple: true })),
      files: fileSizes(realPath),
      proposals: { ...proposals, total: Object.values(proposals).reduce((a, b) => a + b, 0) },
      auditEntries: tableExists(db, 'audit_entries') ? (db.prepare('SELECT count(*) FROM audit_entries').pluck().get() as number) : 0,
    };
  } finally {
    db.close();
  }
}

/** True when any table other than the migration bookkeeping holds a row. */
export function holdsData(file: string): boolean {
  if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) === 0) return false;
  const db = openForInspection(file);
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'`).pluck().all() as string[];
    return tables.some((table) => db.prepare(`SELECT 1 FROM "${table.replace(/"/g, '""')}" LIMIT 1`).get() !== undefined);
  } finally {
    db.close();
  }
}
