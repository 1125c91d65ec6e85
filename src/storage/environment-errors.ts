import fs from 'node:fs';
import path from 'node:path';
import { SuperviseError, isSuperviseError, type SuperviseErrorCode } from '../core/errors.js';

/** What went wrong in the environment, and what the user does about it. */
export interface EnvironmentFailure {
  code: SuperviseErrorCode;
  problem: string;
  fix: string;
}

/** Below this much free space an I/O error is taken for what it almost surely is: a full disk. */
const NEARLY_FULL_BYTES = 1024 * 1024;

/**
 * What SQLite or the filesystem throws when the environment, not the code, is at fault (a full
 * disk, a read-only mount, a file someone else owns, a damaged database, a schema rolled back
 * under a running process), turned into the `SuperviseError` that names the problem and its fix.
 * Every entry point (the CLI's `reportFailure`, the sidecar) asks here, so the same failure reads
 * the same everywhere and none of them is reported as a bug.
 */
export function environmentError(error: unknown, file?: string): SuperviseError | undefined {
  const failure = describeEnvironmentFailure(error, file);
  return failure && new SuperviseError(failure.code, `${failure.problem}. ${failure.fix}`, { cause: error });
}

/** The same mapping, with problem and fix apart (for `db check`); undefined when `error` is not the environment's. */
export function describeEnvironmentFailure(error: unknown, file?: string): EnvironmentFailure | undefined {
  if (isSuperviseError(error)) return undefined;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  // A filesystem error names its own file (the directory a chmod failed on, say); SQLite's do not.
  const where = pathOf(error) ?? (file === undefined ? 'the database' : realFile(file));
  const message = error instanceof Error ? error.message : String(error);

  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return diskFull(where, code);
  if (code === 'SQLITE_READONLY_DBMOVED') {
    return { code: 'layout', problem: `${where} was deleted or replaced while this process had it open (${code})`, fix: 'Check what is there now (`bot-bottle db check`), then run the command again.' };
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return notWritable(where, code);
  if (code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') return permissionDenied(where, code);
  if (code.startsWith('SQLITE_CANTOPEN')) return cannotOpen(where, code);
  if (code === 'SQLITE_NOTADB') {
    return {
      code: 'damaged',
      problem: `${where} is not an SQLite database (${code}): it was overwritten, or the path names another file`,
      fix: 'Restore the database from a backup (`bot-bottle db backup` makes them), or move the file away to start afresh.',
    };
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return {
      code: 'damaged',
      problem: `${where} is damaged (${code}: ${message})`,
      fix: `Stop writing to it: \`bot-bottle db check\` shows the damage. Restore it from a backup (\`bot-bottle db backup\` makes them), or salvage it with \`sqlite3 ${where} .recover | sqlite3 recovered.db\` and put recovered.db in its place while nothing runs.`,
    };
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') {
    // SQLite reports a write that ran out of space as an I/O error in some paths (the -shm, a sync).
    if ((freeBytes(where) ?? Number.POSITIVE_INFINITY) < NEARLY_FULL_BYTES) return diskFull(where, code);
    return { code: 'io-error', problem: `reading or writing ${where} failed (${code}): the disk or the filesystem reported an error`, fix: 'Check the disk (dmesg, df -h), then run the command again.' };
  }
  if (code === 'SQLITE_ERROR' && /^no such (table|column): /.test(message)) {
    return {
      code: 'schema-mismatch',
      problem: `${where} does not have the schema this build works with (${message}): it was rolled back or changed while this process had it open`,
      fix: 'Run `bot-bottle db migrate` on the host, then start this again.',
    };
  }
  if (code.startsWith('SQLITE_BUSY')) {
    return { code: 'busy', problem: `${where} stayed locked by another process (${code})`, fix: `Find the process holding it (fuser ${where}) and try again.` };
  }
  return undefined;
}

/** The file itself rather than the host link to it: what to chmod, and whose directory to look at. */
function realFile(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    // Not there (any more): the name given is all there is to say.
    return file;
  }
}

function pathOf(error: unknown): string | undefined {
  const value = (error as { path?: unknown }).path;
  return typeof value === 'string' ? value : undefined;
}

function diskFull(where: string, code: string): EnvironmentFailure {
  return { code: 'disk-full', problem: `the disk holding ${where} is full (${code})`, fix: `Free space on that filesystem (df -h ${path.dirname(where)}), then run the command again.` };
}

function notWritable(where: string, code: string): EnvironmentFailure {
  if (code === 'EROFS' || probe(path.dirname(where), fs.constants.W_OK) === 'EROFS') {
    return {
      code: 'read-only',
      problem: `${where} is on a read-only filesystem (${code}), so nothing can be written`,
      fix: 'Remount it read-write (mount -o remount,rw …), or keep ~/.bot-bottle on a writable disk, then run the command again.',
    };
  }
  return {
    code: 'read-only',
    problem: `${where} cannot be written (${code}): it or its side files are not writable by you`,
    fix: `Make them yours and writable (chown "$(id -u):$(id -g)", chmod 600 for the files and 700 for ${path.dirname(where)}), then run the command again.`,
  };
}

function permissionDenied(where: string, code: string): EnvironmentFailure {
  return {
    code: 'permission-denied',
    problem: `permission denied on ${where} (${code})`,
    fix: `The database, its side files and ${path.dirname(where)} must belong to you (chown "$(id -u):$(id -g)"), the files mode 600 and the directory 700; fix that, then run the command again.`,
  };
}

function cannotOpen(where: string, code: string): EnvironmentFailure {
  const dir = path.dirname(where);
  const denied = probe(dir, fs.constants.W_OK | fs.constants.X_OK) ?? probe(where, fs.constants.R_OK | fs.constants.W_OK);
  if (denied === 'EROFS') return notWritable(where, code);
  if (denied === 'EACCES' || denied === 'EPERM') return permissionDenied(where, code);
  if (!fs.existsSync(dir)) return { code: 'layout', problem: `cannot open ${where} (${code}): the directory ${dir} does not exist`, fix: 'Check the path, or run `bot-bottle db migrate` to create the layout.' };
  return {
    code: 'layout',
    problem: `cannot open ${where} (${code})`,
    fix: 'It and its side files (-wal, -shm) must be regular files you own, in a directory you own; `bot-bottle db check` shows what is wrong.',
  };
}

/** The error code `access(2)` gives for `mode` on `file`, or undefined when it is allowed. */
function probe(file: string, mode: number): string | undefined {
  try {
    fs.accessSync(file, mode);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'unknown';
  }
}

/** Free bytes on the filesystem holding `file`, for an unprivileged writer; undefined when it cannot be asked. */
export function freeBytes(file: string): number | undefined {
  try {
    const stats = fs.statfsSync(path.dirname(file));
    return stats.bavail * stats.bsize;
  } catch {
    // No filesystem to ask (the directory is gone): nothing to say about space.
    return undefined;
  }
}
