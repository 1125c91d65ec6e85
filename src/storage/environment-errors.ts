import fs from 'node:fs';
import path from 'node:path';
import { SuperviseError, isSuperviseError, type SuperviseErrorCode } from '../core/errors.js';

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
  if (isSuperviseError(error)) return undefined;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const where = file ?? pathOf(error) ?? 'the database';
  const message = error instanceof Error ? error.message : String(error);
  const make = (kind: SuperviseErrorCode, text: string): SuperviseError => new SuperviseError(kind, text, { cause: error });

  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return make('disk-full', diskFull(where, code));
  if (code === 'SQLITE_READONLY_DBMOVED') {
    return make('layout', `${where} was deleted or replaced while this process had it open (${code}). Check what replaced it (\`bot-bottle db check\`), then run the command again.`);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return make('read-only', notWritable(where, code));
  if (code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') return make('permission-denied', permissionDenied(where, code));
  if (code.startsWith('SQLITE_CANTOPEN')) return cannotOpen(where, code, make);
  if (code === 'SQLITE_NOTADB') {
    return make(
      'damaged',
      `${where} is not an SQLite database (${code}): it was overwritten, or the path names another file. Run \`bot-bottle db check\`, then restore the database from a backup (\`bot-bottle db backup\` makes them), or move the file away to start afresh.`,
    );
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return make(
      'damaged',
      `${where} is damaged (${code}: ${message}). Stop writing to it: run \`bot-bottle db check\` to see the damage, then restore from a backup (\`bot-bottle db backup\` makes them) or salvage with \`sqlite3 ${where} .recover | sqlite3 recovered.db\`.`,
    );
  }
  if (code.startsWith('SQLITE_IOERR') || code === 'EIO') {
    // SQLite reports a write that ran out of space as an I/O error in some paths (the -shm, a sync).
    if ((freeBytes(where) ?? Number.POSITIVE_INFINITY) < NEARLY_FULL_BYTES) return make('disk-full', diskFull(where, code));
    return make('io-error', `reading or writing ${where} failed (${code}): the disk or the filesystem reported an error. Check the disk (dmesg, df -h), then run the command again.`);
  }
  if (code === 'SQLITE_ERROR' && /^no such (table|column): /.test(message)) {
    return make(
      'schema-mismatch',
      `${where} does not have the schema this build works with (${message}): it was rolled back or changed while this process had it open. Run \`bot-bottle db migrate\` on the host, then start this again.`,
    );
  }
  if (code.startsWith('SQLITE_BUSY')) {
    return make('busy', `${where} stayed locked by another process (${code}). Find the process holding it (fuser ${where}) and try again.`);
  }
  return undefined;
}

function pathOf(error: unknown): string | undefined {
  const value = (error as { path?: unknown }).path;
  return typeof value === 'string' ? value : undefined;
}

function diskFull(where: string, code: string): string {
  return `the disk holding ${where} is full (${code}), so the change was not made. Free space on that filesystem (df -h ${path.dirname(where)}), then run the command again.`;
}

function notWritable(where: string, code: string): string {
  if (probe(path.dirname(where), fs.constants.W_OK) === 'EROFS') {
    return `${where} is on a read-only filesystem (${code}), so nothing can be written. Remount it read-write (mount -o remount,rw …), or keep ~/.bot-bottle on a writable disk, then run the command again.`;
  }
  return `${where} cannot be written (${code}): it or its side files are not writable by you. Make them yours and writable (chown "$(id -u):$(id -g)" and chmod 600 for the files, 700 for ${path.dirname(where)}), then run the command again.`;
}

function permissionDenied(where: string, code: string): string {
  return `permission denied on ${where} (${code}). The database, its side files and ${path.dirname(where)} must belong to you (chown "$(id -u):$(id -g)"), the files mode 600 and the directory 700; fix that, then run the command again.`;
}

function cannotOpen(where: string, code: string, make: (kind: SuperviseErrorCode, text: string) => SuperviseError): SuperviseError {
  const dir = path.dirname(where);
  const denied = probe(dir, fs.constants.W_OK | fs.constants.X_OK) ?? probe(where, fs.constants.R_OK | fs.constants.W_OK);
  if (denied === 'EROFS') return make('read-only', notWritable(where, code));
  if (denied === 'EACCES' || denied === 'EPERM') return make('permission-denied', permissionDenied(where, code));
  if (denied === 'ENOENT' && !fs.existsSync(dir)) return make('layout', `cannot open ${where} (${code}): the directory ${dir} does not exist. Check the path, or run \`bot-bottle db migrate\` to create the layout.`);
  return make('layout', `cannot open ${where} (${code}). It and its side files (-wal, -shm) must be regular files you own in a directory you own; check with \`bot-bottle db check\`, then run the command again.`);
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

function freeBytes(file: string): number | undefined {
  try {
    const stats = fs.statfsSync(path.dirname(file));
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}
