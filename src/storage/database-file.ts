import fs from 'node:fs';
import path from 'node:path';
import { SuperviseError } from '../core/errors.js';

export const DB_FILENAME = 'bot-bottle.db';
/** The shared directory sits beside the host link: `~/.bot-bottle/supervise`. */
export const SHARED_DIR_NAME = 'supervise';
/** What SQLite keeps beside a database file; each is part of the database while it exists. */
export const SIDE_FILE_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/** One thing wrong with a database file or one of its side files, and what to do about it. */
export interface FileProblem {
  file: string;
  problem: string;
  fix: string;
}

/** The regular file SQLite opens for a path (the host link followed), as it was when checked. */
export interface DatabaseFile {
  file: string;
  /** Absent when the file does not exist yet (a host creating it). */
  stat: fs.Stats | undefined;
}

/**
 * Every sidecar can write the shared directory, so the file there may have been swapped for a
 * link to any file of the user's, a directory, or a file someone else owns; SQLite would follow
 * the link and migrate, write or WAL-convert whatever it names. The only link followed is the
 * host's own (`~/.bot-bottle/bot-bottle.db -> supervise/bot-bottle.db`); the file reached, and
 * each side file present, must be a regular file owned by this user. Returns what was found, with
 * every problem, so `db check` can list them all.
 */
export function inspectDatabaseFile(file: string): { found: DatabaseFile; problems: FileProblem[] } {
  const reached = followHostLink(path.resolve(file));
  if ('problem' in reached) return { found: { file, stat: undefined }, problems: [reached] };
  const stat = lstatIfPresent(reached.file);
  const problems: FileProblem[] = [];
  if (stat) {
    const problem = databaseProblem(reached.file, stat);
    if (problem) problems.push(problem);
  }
  for (const suffix of SIDE_FILE_SUFFIXES) {
    const side = `${reached.file}${suffix}`;
    const sideStat = lstatIfPresent(side);
    const problem = sideStat && sideFileProblem(side, sideStat);
    if (problem) problems.push(problem);
  }
  return { found: { file: reached.file, stat }, problems };
}

/** Refuses, naming the fix, unless the database at `file` may be opened; returns what was checked. */
export function requireSafeDatabaseFile(file: string): DatabaseFile {
  const { found, problems } = inspectDatabaseFile(file);
  const [first] = problems;
  if (first) throw new SuperviseError('layout', `${first.problem}. ${first.fix}`);
  return found;
}

/**
 * After SQLite opened `file`: the file checked before is the one there now, so a swap made
 * between the check and the open that stays (a link, or another file, in its place) is refused.
 * A link planted and removed again inside that window is not seen here.
 */
export function requireSameDatabaseFile(before: DatabaseFile, file: string): void {
  const after = requireSafeDatabaseFile(file);
  const same = before.stat === undefined || (after.stat !== undefined && after.stat.dev === before.stat.dev && after.stat.ino === before.stat.ino);
  if (after.file !== before.file || !same) {
    throw new SuperviseError('layout', `${after.file} was replaced while it was being opened. Run \`bot-bottle db check\` to see what is there now, and find out what keeps replacing it: every sidecar can write ${path.dirname(after.file)}.`);
  }
}

/**
 * A database the host made is never empty (it is created with its first page written), so an
 * empty file is one that was truncated or replaced; starting a new database in it would hide
 * that the old one, audit log and all, is gone.
 */
export function refuseEmptyDatabase(found: DatabaseFile): void {
  if (found.stat === undefined || found.stat.size > 0) return;
  throw new SuperviseError(
    'damaged',
    `${found.file} is empty (0 bytes): the database was truncated or replaced, and the host does not start a new one in its place unasked. Restore it from a backup (\`bot-bottle db backup\` makes them); to start afresh instead, remove it (rm ${found.file}) and run the command again.`,
  );
}

function followHostLink(file: string): { file: string } | FileProblem {
  const stat = lstatIfPresent(file);
  if (!stat?.isSymbolicLink()) return { file };
  const target = fs.readlinkSync(file);
  const resolved = path.resolve(path.dirname(file), target);
  if (path.basename(file) !== DB_FILENAME) {
    return {
      file,
      problem: `${file} is a symlink to ${target}; the only link the host follows to a database is ~/.bot-bottle/${DB_FILENAME} -> ${SHARED_DIR_NAME}/${DB_FILENAME}`,
      fix: 'Name the database file itself.',
    };
  }
  if (resolved === path.join(path.dirname(file), SHARED_DIR_NAME, DB_FILENAME)) return { file: resolved };
  // A database file that is now a link to somewhere else: the shared file, or a sidecar's view of it.
  return plantedLink(file);
}

function plantedLink(file: string): FileProblem {
  return {
    file,
    problem: `${file} is a symlink to ${fs.readlinkSync(file)}, not the database file: something replaced the database with a link, and following it would let it choose which file of yours the host writes`,
    fix: `Remove the link (rm ${file}) and restore the database from a backup (\`bot-bottle db backup\` makes them); the next host command starts an empty one otherwise. Every sidecar can write ${path.dirname(file)}: find out which one did this.`,
  };
}

function databaseProblem(file: string, stat: fs.Stats): FileProblem | undefined {
  if (stat.isSymbolicLink()) return plantedLink(file);
  if (stat.isDirectory()) return { file, problem: `${file} is a directory, not a database file`, fix: 'Point at the database file itself, or move the directory away.' };
  if (!stat.isFile()) return { file, problem: `${file} is not a regular file`, fix: 'Move it away; the database is a regular file.' };
  const owner = ownerProblem(file, stat);
  return owner === undefined ? undefined : { file, problem: owner, fix: `If it is yours, chown ${ownId()} ${file}; otherwise move it away. The host opens only a database you own: sidecars run as your uid, so a file someone else owns is not one it made.` };
}

function sideFileProblem(file: string, stat: fs.Stats): FileProblem | undefined {
  const role = 'where SQLite keeps a side file of the database';
  if (stat.isSymbolicLink()) {
    return { file, problem: `${file} is a symlink to ${fs.readlinkSync(file)}, ${role}: SQLite never makes a link there, so it was planted`, fix: `Remove it (rm ${file}); no data of the database is in a link. Then run the command again.` };
  }
  if (!stat.isFile()) return { file, problem: `${file} is not a regular file, ${role}`, fix: `Move it away (it holds no data of the database), then run the command again.` };
  const owner = ownerProblem(file, stat);
  return owner === undefined ? undefined : { file, problem: `${owner}, ${role}`, fix: `If it is yours, chown ${ownId()} ${file}; otherwise stop everything using the database and move it away.` };
}

function ownerProblem(file: string, stat: fs.Stats): string | undefined {
  const uid = process.getuid?.();
  return uid === undefined || stat.uid === uid ? undefined : `${file} belongs to uid ${stat.uid}, not to you (uid ${uid})`;
}

function ownId(): string {
  return `${process.getuid?.() ?? ''}:${process.getgid?.() ?? ''}`;
}

function lstatIfPresent(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
