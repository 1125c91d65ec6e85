import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SuperviseError } from '../core/errors.js';
import { openConnection } from './connection.js';
import { DB_FILENAME, SHARED_DIR_NAME, SIDE_FILE_SUFFIXES } from './database-file.js';
/** The one path a sidecar opens; the launcher mounts the shared directory so this file is the host's. */
export const SHARED_DIR_IN_CONTAINER = '/run/supervise';
export const DB_PATH_IN_CONTAINER = `${SHARED_DIR_IN_CONTAINER}/${DB_FILENAME}`;

const SHARED_DIR_MODE = 0o700;
const DB_FILE_MODE = 0o600;

/** `$HOME` wins over the passwd entry so tests and sandboxes can relocate everything. */
export function homeDir(): string {
  return process.env.HOME && process.env.HOME.length > 0 ? process.env.HOME : os.homedir();
}

export function stateDir(): string {
  return path.join(homeDir(), '.bot-bottle');
}

export function sharedDir(): string {
  return path.join(stateDir(), SHARED_DIR_NAME);
}

export function sharedDbFile(): string {
  return path.join(sharedDir(), DB_FILENAME);
}

/**
 * The path every host tool uses: a symlink into the shared directory, so SQLite (which resolves the
 * link) creates its side files where sidecars see them too.
 */
export function hostDbPath(): string {
  return path.join(stateDir(), DB_FILENAME);
}

/** What sits at `hostDbPath()` right now, classified so callers can explain and repair it. */
export type HostLinkState =
  | { kind: 'ok' }
  | { kind: 'missing' }
  | { kind: 'regular-file' }
  | { kind: 'directory' }
  | { kind: 'link-elsewhere'; target: string }
  | { kind: 'other'; description: string };

export function inspectHostLink(): HostLinkState {
  const link = hostDbPath();
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(link);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  if (stat.isSymbolicLink()) {
    const target = fs.readlinkSync(link);
    const resolved = path.resolve(path.dirname(link), target);
    return resolved === sharedDbFile() ? { kind: 'ok' } : { kind: 'link-elsewhere', target };
  }
  if (stat.isFile()) return { kind: 'regular-file' };
  if (stat.isDirectory()) return { kind: 'directory' };
  return { kind: 'other', description: 'neither a file, a directory nor a symlink' };
}

export function describeHostLinkProblem(state: HostLinkState): string | undefined {
  const link = hostDbPath();
  switch (state.kind) {
    case 'ok':
    case 'missing':
      return undefined;
    case 'regular-file':
      return `${link} is a regular file, probably a database from an earlier bot-bottle install. Run \`bot-bottle db adopt\` to move it into ${sharedDir()} and link it.`;
    case 'directory':
      return `${link} is a directory, but it must be a symlink to ${sharedDbFile()}. Move the directory away, then run the command again.`;
    case 'link-elsewhere':
      return `${link} is a symlink to ${state.target}, not to ${sharedDbFile()}. Remove the link (rm ${link}) and run the command again; it will be recreated.`;
    case 'other':
      return `${link} is ${state.description}; it must be a symlink to ${sharedDbFile()}. Remove it and run the command again.`;
  }
}

/**
 * Creates whatever of the host layout is missing (the 0700 shared directory, the 0600 database
 * file, the link) and returns the host DB path. Refuses, naming the fix, when something foreign
 * occupies the link's place, and when the link is there but its database is not: guessing there
 * could lose a database, or hide that one was lost.
 */
export function ensureHostLayout(): string {
  const link = inspectHostLink();
  const problem = describeHostLinkProblem(link);
  if (problem) throw new SuperviseError('layout', problem);
  // The link is made after the database, so a link without one means the database was deleted.
  if (link.kind === 'ok' && !fs.lstatSync(sharedDbFile(), { throwIfNoEntry: false })) {
    throw new SuperviseError(
      'damaged',
      `${sharedDbFile()} is gone although ${hostDbPath()} links to it: the database was deleted (every sidecar can write ${sharedDir()}), and the host does not start a new one in its place unasked. Restore it from a backup (\`bot-bottle db backup\` makes them); to start afresh instead, remove the link (rm ${hostDbPath()}) and run the command again.`,
    );
  }

  fs.mkdirSync(stateDir(), { recursive: true, mode: SHARED_DIR_MODE });
  ensureDirectory(sharedDir());
  // Only when needed: a chmod that changes nothing still fails on a read-only filesystem.
  if ((fs.statSync(sharedDir()).mode & 0o777) !== SHARED_DIR_MODE) fs.chmodSync(sharedDir(), SHARED_DIR_MODE);
  ensureDatabaseFile(sharedDbFile());

  if (inspectHostLink().kind === 'missing') {
    try {
      fs.symlinkSync(path.join(SHARED_DIR_NAME, DB_FILENAME), hostDbPath());
    } catch (error) {
      // Another host process may have created it between our check and now.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const problem = describeHostLinkProblem(inspectHostLink());
      if (problem) throw new SuperviseError('layout', problem);
    }
  }
  return hostDbPath();
}

function ensureDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: SHARED_DIR_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!fs.statSync(dir).isDirectory()) {
      throw new SuperviseError('layout', `${dir} exists but is not a directory. Move it away and run the command again.`);
    }
  }
}

/**
 * The database a host command that may create one works on: `file` when one is named (--db, the
 * library's `path`), made as the host layout makes its own if it is missing; else the host layout.
 */
export function ensureHostDatabase(file: string | undefined): string {
  if (file === undefined) return ensureHostLayout();
  ensureDatabaseFile(file);
  return file;
}

/**
 * Makes the database file whole or not at all: a new database is initialised (its first page
 * written, WAL mode set, mode 0600, which SQLite gives its -wal and -shm files too) under a
 * temporary name and then hard-linked into place, which never replaces a file another host process
 * made meanwhile. So a database the host made is never empty, and an empty one can be recognised
 * as truncated instead of silently started afresh.
 */
function ensureDatabaseFile(file: string): void {
  const stat = fs.lstatSync(file, { throwIfNoEntry: false });
  if (stat) {
    // Symlinks, foreign owners and side files are refused, with their fix, when the file is opened.
    if (stat.isDirectory()) throw new SuperviseError('layout', `${file} is a directory, not a database file. Move it away and run the command again.`);
    return;
  }
  const dir = path.dirname(path.resolve(file));
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new SuperviseError('layout', `cannot create the database ${file}: the directory ${dir} does not exist. Create it (mkdir -p ${dir}) or name a database in a directory that exists.`);
  }
  const temp = path.join(dir, `.${path.basename(file)}.new-${process.pid}-${randomBytes(4).toString('hex')}`);
  fs.closeSync(fs.openSync(temp, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW, DB_FILE_MODE));
  try {
    // The umask may have taken bits away, never added them; the mode is the layout's whatever it is.
    fs.chmodSync(temp, DB_FILE_MODE);
    openConnection(temp).close();
    try {
      fs.linkSync(temp, file);
    } catch (error) {
      // Another host process made it first: theirs is the database.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  } finally {
    for (const leftover of [temp, ...SIDE_FILE_SUFFIXES.map((suffix) => `${temp}${suffix}`)]) fs.rmSync(leftover, { force: true });
  }
}

/**
 * The database a command that must not create anything works on. With the host layout (no
 * explicit file) a broken host link is refused first, with its fix: the file behind it is not the
 * one the user means.
 */
export function requireExistingDatabase(file: string, options: { hostLayout: boolean }): string {
  if (options.hostLayout) {
    const problem = describeHostLinkProblem(inspectHostLink());
    if (problem) throw new SuperviseError('layout', problem);
  }
  if (!fs.existsSync(file)) {
    throw new SuperviseError('layout', `there is no database at ${file} yet. \`bot-bottle db migrate\` creates it (so does any command that writes, such as propose); if you named it with --db, check the path.`);
  }
  return file;
}
