import fs from 'node:fs';
import path from 'node:path';
import { openConnection } from '../storage/connection.js';
import { holdsData } from './status.js';
import { SuperviseError } from '../core/errors.js';
import { migrateUp } from '../storage/migrations.js';
import { processesHolding, type FileHolder } from './open-files.js';
import { DB_FILENAME, SHARED_DIR_NAME, SIDE_FILE_SUFFIXES } from '../storage/database-file.js';
import { describeHostLinkProblem, hostDbPath, inspectHostLink, sharedDbFile, sharedDir } from '../storage/layout.js';

export type AdoptResult =
  | { adopted: false; reason: 'already-linked' | 'nothing-there'; message: string }
  | { adopted: true; from: string; to: string; migrationsApplied: string[]; userVersion: number };

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Refuses anything that is not an SQLite file: moving a stranger's file into the mount would be worse than stopping. */
function assertSqliteFile(file: string): void {
  const size = fs.statSync(file).size;
  if (size === 0) return;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, header.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!header.equals(SQLITE_HEADER)) {
    throw new SuperviseError('layout', `${file} is not an SQLite database, so it is not one bot-bottle left behind. Move it away; host commands will then create the link.`);
  }
}

function withSideFiles(file: string): string[] {
  return [file, ...SIDE_FILE_SUFFIXES.map((suffix) => `${file}${suffix}`)];
}

function describeHolders(holders: FileHolder[]): string {
  return holders.map((h) => `pid ${h.pid} (${h.command || 'unknown command'}) has ${path.basename(h.file)} open`).join('; ');
}

function assertNobodyHolds(file: string, what: string): void {
  const holders = processesHolding(withSideFiles(file));
  if (holders.length > 0) {
    throw new SuperviseError('busy', `${what} is in use: ${describeHolders(holders)}. Stop those processes (an earlier bot-bottle, its sidecars, a sqlite3 shell) and run \`bot-bottle db adopt\` again.`);
  }
}

/**
 * Folds the file's WAL or hot journal back into it and leaves no side files, so moving the one
 * file moves the whole database. SQLite does this itself when the last connection closes.
 */
function settle(file: string): string {
  const db = openConnection(file, { fileMustExist: true, journalMode: 'as-is' });
  let journalMode: string;
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    journalMode = String(db.pragma('journal_mode', { simple: true }));
    if (journalMode === 'wal') db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  const left = SIDE_FILE_SUFFIXES.map((suffix) => `${file}${suffix}`).filter((side) => fs.existsSync(side));
  const unsafe = left.filter((side) => !side.endsWith('-shm') || fs.existsSync(`${file}-wal`));
  if (unsafe.length > 0) {
    throw new SuperviseError('layout', `${unsafe.join(' and ')} stayed behind after closing ${file}, so moving the file alone could lose data. Open it once with sqlite3 (sqlite3 ${file} 'PRAGMA wal_checkpoint(TRUNCATE)'), then run \`bot-bottle db adopt\` again.`);
  }
  for (const side of left) fs.rmSync(side, { force: true });
  return journalMode;
}

/** Undoes the one thing a rolled-back migration leaves behind: the switch to WAL. */
function restoreJournalMode(file: string, journalMode: string): void {
  const db = openConnection(file, { fileMustExist: true, journalMode: 'as-is' });
  try {
    db.pragma(`journal_mode = ${journalMode}`);
  } finally {
    db.close();
  }
}

/** An empty database the layout created before the adoption may be replaced; one with rows never. */
function clearEmptySharedDatabase(target: string): void {
  if (!fs.existsSync(target)) return;
  if (holdsData(target)) {
    throw new SuperviseError(
      'layout',
      `both ${hostDbPath()} (the earlier install's database) and ${target} hold data; adopting would hide one of them. Keep the one you want: move the other out of ~/.bot-bottle (and \`bot-bottle import-legacy\` cannot merge databases), then run \`bot-bottle db adopt\` again.`,
    );
  }
  assertNobodyHolds(target, target);
  for (const file of withSideFiles(target)) fs.rmSync(file, { force: true });
}

/**
 * A regular database file at `~/.bot-bottle/bot-bottle.db` (the Python bot-bottle kept it there)
 * is moved into the shared directory, so sidecars reach it through their mount, migrated, and
 * replaced by the link. Nothing may have it open; a failed migration puts it back where it was.
 */
export async function adoptLegacyDatabase(): Promise<AdoptResult> {
  const legacy = hostDbPath();
  const target = sharedDbFile();
  const state = inspectHostLink();
  if (state.kind === 'ok') return { adopted: false, reason: 'already-linked', message: `${legacy} already links to ${target}; there is nothing to adopt.` };
  if (state.kind === 'missing') return { adopted: false, reason: 'nothing-there', message: `there is no database at ${legacy}; there is nothing to adopt.` };
  if (state.kind !== 'regular-file') throw new SuperviseError('layout', describeHostLinkProblem(state) ?? `${legacy} is not a database file.`);

  assertSqliteFile(legacy);
  assertNobodyHolds(legacy, legacy);
  clearEmptySharedDatabase(target);
  const journalMode = settle(legacy);

  fs.mkdirSync(sharedDir(), { recursive: true, mode: 0o700 });
  fs.chmodSync(sharedDir(), 0o700);
  fs.renameSync(legacy, target);
  fs.chmodSync(target, 0o600);
  let migrated;
  try {
    migrated = await migrateUp(target);
  } catch (error) {
    restoreJournalMode(target, journalMode);
    fs.renameSync(target, legacy);
    const reason = error instanceof Error ? error.message : String(error);
    throw new SuperviseError('migration', `the adopted database could not be migrated, so it was moved back to ${legacy} unchanged: ${reason}`);
  }
  try {
    fs.symlinkSync(path.join(SHARED_DIR_NAME, DB_FILENAME), legacy);
  } catch (error) {
    // A host command run meanwhile may have made the same link.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || inspectHostLink().kind !== 'ok') throw error;
  }
  return { adopted: true, from: legacy, to: target, migrationsApplied: migrated.applied, userVersion: migrated.userVersion };
}
