import fs from 'node:fs';
import path from 'node:path';
import { GENESIS_HASH, readAuditHead, type AuditHead } from '../audit/audit-store.js';
import { openConnection, retryOnBusy } from '../storage/connection.js';
import { SIDE_FILE_SUFFIXES } from '../storage/database-file.js';
import { tableExists } from '../storage/tables.js';
import { SuperviseError } from '../core/errors.js';
import { hostDbPath, sharedDir } from '../storage/layout.js';
import { writeThroughPartial } from './partial-file.js';

export interface BackupResult {
  source: string;
  target: string;
  bytes: number;
  userVersion: number;
  proposals: number;
  audit: AuditHead;
  integrity: 'ok';
}

export interface BackupOptions {
  /** Replace `target` if it exists. */
  force?: boolean;
}

/** What the online backup API copies per step: everything, so writers between steps cannot restart it forever. */
const ALL_PAGES = 0x7fffffff;

/**
 * An online copy of a live database: never a file copy (it could catch a transaction half
 * written, or miss what is still in the WAL) and never a rename over an open file. The backup reads one consistent snapshot while sidecars keep writing; the copy is
 * then switched to a single self-contained file, checked with `integrity_check`, and only then
 * renamed to `target`. The copy is made exclusively with mode 0600, like the original, and
 * removed when anything fails or the user interrupts.
 */
export async function backupDatabase(source: string, target: string, options: BackupOptions = {}): Promise<BackupResult> {
  checkTarget(source, target, options.force ?? false);
  return writeThroughPartial(target, `${target}.partial-${process.pid}`, async (partial) => {
    const db = openConnection(source, { fileMustExist: true });
    try {
      await retryOnBusy(() => db.backup(partial.path, { progress: () => ALL_PAGES }));
    } finally {
      db.close();
    }
    const facts = verifyCopy(partial.path);
    return { source, target, bytes: fs.statSync(partial.path).size, ...facts };
  });
}

/**
 * Refuses a target whose replacement would hurt: the live database or one of its side files, a
 * link (renaming over it replaces the link: over the host link, the database's only way in), the
 * shared directory (every sidecar could read the copy there), a directory, and an existing file
 * without `force`.
 */
function checkTarget(source: string, target: string, force: boolean): void {
  const dir = path.dirname(path.resolve(target));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new SuperviseError('invalid-input', `cannot write the backup to ${target}: the directory ${dir} does not exist. Create it or choose another file.`);
  }
  const realSource = fs.realpathSync(source);
  const realTarget = path.join(fs.realpathSync(dir), path.basename(target));
  const liveFiles = [realSource, ...SIDE_FILE_SUFFIXES.map((suffix) => `${realSource}${suffix}`)];
  const existing = fs.lstatSync(target, { throwIfNoEntry: false });
  const resolved = existing?.isSymbolicLink() ? realpathIfPresent(target) : undefined;
  if (liveFiles.includes(realTarget) || (resolved !== undefined && liveFiles.includes(resolved)) || path.resolve(target) === hostDbPath()) {
    throw new SuperviseError('invalid-input', `${target} is the database itself (or its link, or one of its side files). Write the backup to another file.`);
  }
  if (existing?.isSymbolicLink()) {
    throw new SuperviseError('invalid-input', `${target} is a symlink; the backup would replace the link itself. Name a regular file (or a new one) for the backup.`);
  }
  const shared = fs.existsSync(sharedDir()) ? fs.realpathSync(sharedDir()) : sharedDir();
  if (path.dirname(realTarget) === shared) {
    throw new SuperviseError('invalid-input', `${target} is in ${sharedDir()}, the directory every sidecar has mounted. Write the backup somewhere else.`);
  }
  if (existing?.isDirectory()) throw new SuperviseError('invalid-input', `${target} is a directory; name a file for the backup.`);
  if (existing && !force) throw new SuperviseError('invalid-input', `${target} already exists. Choose another file, or pass --force to replace it.`);
}

function realpathIfPresent(file: string): string | undefined {
  try {
    return fs.realpathSync(file);
  } catch {
    // A link to nothing names no live file.
    return undefined;
  }
}

function verifyCopy(file: string): Omit<BackupResult, 'source' | 'target' | 'bytes'> {
  // The copy inherits WAL mode; a backup should be one file that can be moved and opened anywhere.
  const copy = openConnection(file, { fileMustExist: true, journalMode: 'as-is' });
  try {
    copy.pragma('journal_mode = DELETE');
    const problems = (copy.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check);
    if (problems.length !== 1 || problems[0] !== 'ok') {
      throw new SuperviseError('layout', `the backup copy failed integrity_check (${problems.slice(0, 5).join('; ')}), so it was discarded. The source may be damaged: run \`bot-bottle db check\`.`);
    }
    return {
      userVersion: copy.pragma('user_version', { simple: true }) as number,
      proposals: tableExists(copy, 'proposals') ? (copy.prepare('SELECT count(*) FROM proposals').pluck().get() as number) : 0,
      audit: tableExists(copy, 'audit_entries') ? readAuditHead(copy) : { hash: GENESIS_HASH, count: 0 },
      integrity: 'ok',
    };
  } finally {
    copy.close();
  }
}
