import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { SuperviseError } from '../core/errors.js';
import { requireSafeDatabaseFile, requireSameDatabaseFile } from './database-file.js';
import { environmentError } from './environment-errors.js';

export type Db = Database.Database;

/**
 * How long SQLite's own busy handler, which sleeps 1, 2, 5, 10, 15… ms between its tries, waits for
 * a lock before the call fails as busy. better-sqlite3 waits synchronously, so this is also how long
 * the event loop can stand still. Write transactions wait in slices of it, yielding to the event
 * loop between slices, the next starting over at 1 ms (see `writeTransaction`). Measured with 8
 * writers on 2 vCPUs (docs/BENCHMARKS.md §8): few wake-ups leave the CPU to the holder, so an
 * operation costs a third less CPU and the median wait falls from about 3 ms to 1 ms against short
 * looks every 0.25–2 ms; the price is the unlucky waiter's longer sleeps (p99 about 75 ms against
 * 50). One value for reads too: a WAL reader rarely waits at all, and switching the timeout around
 * every write cost two statements that SQLite prepares afresh on each run.
 */
export const BUSY_TIMEOUT_MS = 50;
export const DEFAULT_BUSY_BUDGET_MS = 30_000;

export interface OpenOptions {
  /** Sidecars must never create the database: a missing file means a missing mount. */
  fileMustExist?: boolean;
  /**
   * Nothing is written, not even the switch to WAL, so what is read is what the file holds (a
   * database left in rollback mode still reports `delete`). The file must exist.
   */
  readonly?: boolean;
  /**
   * `as-is` leaves the file in the journal mode it is in, for administration that has to see or
   * restore that mode (adopting an earlier install's file, turning a backup into one file).
   */
  journalMode?: 'wal' | 'as-is';
}

/**
 * Opens every connection, host and sidecar alike. WAL lets sidecars read while the host writes;
 * synchronous=FULL puts every acknowledged commit on disk; foreign_keys keeps responses
 * tied to their proposals.
 */
export function openConnection(file: string, options: OpenOptions = {}): Db {
  const readonly = options.readonly ?? false;
  const fileMustExist = readonly || (options.fileMustExist ?? false);
  const checked = requireSafeDatabaseFile(file);
  if (checked.stat === undefined && fileMustExist) throw missingDatabase(file, readonly ? 'inspect' : 'sidecar');
  let db: Db;
  try {
    db = new Database(file, { readonly, fileMustExist, timeout: BUSY_TIMEOUT_MS });
  } catch (error) {
    throw environmentError(error, checked.file) ?? error;
  }
  try {
    requireSameDatabaseFile(checked, file);
    if (!readonly && (options.journalMode ?? 'wal') === 'wal') {
      const mode = retrySyncOnBusy(() => db.pragma('journal_mode = WAL', { simple: true }));
      if (mode !== 'wal') {
        throw new SuperviseError('layout', `${file}: SQLite refused WAL mode (got "${String(mode)}"); the filesystem does not support shared memory. Keep the database on a local filesystem.`);
      }
    }
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    return db;
  } catch (error) {
    db.close();
    throw environmentError(error, checked.file) ?? error;
  }
}

/** Who needs the file to exist already: a sidecar (the host creates it) or a read-only inspection. */
type MustExist = 'sidecar' | 'inspect';

function missingDatabase(file: string, mustExist: MustExist): SuperviseError {
  return mustExist === 'sidecar'
    ? new SuperviseError('layout', `no database at ${file}. Start the bottle with the shared directory mounted there (prepareSupervise gives the mount), and make sure the host has created the database.`)
    : new SuperviseError('layout', `no database at ${file}, so there is nothing to read. Check the path; \`bot-bottle db migrate\` creates the database.`);
}

export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function busyGiveUp(budgetMs: number): SuperviseError {
  return new SuperviseError('busy', `the database stayed locked by another process for ${Math.round(budgetMs / 1000)} s. Find the process holding it (fuser ~/.bot-bottle/supervise/bot-bottle.db) and try again.`);
}

/** Retries `op` on SQLITE_BUSY with jittered exponential backoff, yielding to the event loop between tries. */
export async function retryOnBusy<T>(op: () => T, budgetMs: number = DEFAULT_BUSY_BUDGET_MS): Promise<T> {
  const deadline = Date.now() + budgetMs;
  let delayMs = 1;
  for (;;) {
    try {
      return op();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      if (Date.now() >= deadline) throw busyGiveUp(budgetMs);
      await sleep(delayMs * (0.5 + Math.random()));
      delayMs = Math.min(delayMs * 2, 50);
    }
  }
}

/** Only for opening, where there is no caller to yield to yet and waits are rare. */
function retrySyncOnBusy<T>(op: () => T, budgetMs: number = DEFAULT_BUSY_BUDGET_MS): T {
  const deadline = Date.now() + budgetMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return op();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      if (Date.now() >= deadline) throw busyGiveUp(budgetMs);
      Atomics.wait(pause, 0, 0, 5 + Math.random() * 10);
    }
  }
}

/**
 * Runs `fn` as one BEGIN IMMEDIATE transaction. `fn` must be synchronous and re-runnable: a busy
 * attempt rolls back and runs it again. While the lock is taken this waits for it in slices of
 * `BUSY_TIMEOUT_MS` (above), between which the event loop runs, for up to `budgetMs`, then reports a
 * `busy` error naming how to find the holder.
 */
export async function writeTransaction<T>(db: Db, fn: () => T, budgetMs: number = DEFAULT_BUSY_BUDGET_MS): Promise<T> {
  const transaction = db.transaction(fn);
  const deadline = Date.now() + budgetMs;
  for (;;) {
    try {
      return transaction.immediate();
    } catch (error) {
      if (!isBusyError(error)) throw error;
    }
    if (Date.now() >= deadline) throw busyGiveUp(budgetMs);
    await yieldToEventLoop();
  }
}

/** Keeps the WAL bounded; a busy checkpoint is simply skipped until the next call. */
export function checkpoint(db: Db): { busy: boolean; logFrames: number; checkpointed: number } {
  const row = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
  const result = row[0] ?? { busy: 0, log: 0, checkpointed: 0 };
  return { busy: result.busy !== 0, logFrames: result.log, checkpointed: result.checkpointed };
}
