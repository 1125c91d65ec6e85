import fs from 'node:fs';
import path from 'node:path';
import { isSuperviseError } from '../core/errors.js';
import { openConnection, type Db } from '../storage/connection.js';
import { readMigrationStatus } from '../storage/migrations.js';
import { checkDbMount } from '../storage/mount-guard.js';
import { DB_FILENAME, SHARED_DIR_NAME, SIDE_FILE_SUFFIXES, inspectDatabaseFile } from '../storage/database-file.js';
import { describeEnvironmentFailure, freeBytes } from '../storage/environment-errors.js';
import { BELL_SUFFIX } from '../notify/doorbells.js';
import { describeHostLinkProblem, hostDbPath, inspectHostLink, sharedDbFile, sharedDir, stateDir } from '../storage/layout.js';
import { SCHEMA_VERSION } from '../storage/schema-version.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about it; present when `ok` is false. */
  fix?: string;
}

const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, ok: false, detail, fix });

const CREATE_LAYOUT = 'Run `bot-bottle db migrate`: host commands create the layout.';
/** Less free space than this beside the database is reported: the WAL alone can grow by megabytes before a checkpoint. */
const LOW_SPACE_BYTES = 16 * 1024 * 1024;

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0');
}

function checkMode(name: string, file: string, stat: fs.Stats, wanted: number): CheckResult {
  return (stat.mode & 0o777) === wanted ? pass(`${name} mode`, `${file} is ${octal(stat.mode)}`) : fail(`${name} mode`, `${file} is ${octal(stat.mode)}, not ${octal(wanted)}`, `chmod ${octal(wanted).slice(1)} ${file}`);
}

function checkOwner(name: string, file: string, stat: fs.Stats): CheckResult[] {
  const uid = process.getuid?.();
  if (uid === undefined || stat.uid === uid) return [];
  return [fail(`${name} owner`, `${file} belongs to uid ${stat.uid}, not to you (uid ${uid}); sidecars run as your uid and could not open it`, `chown ${uid}:${process.getgid?.() ?? uid} ${file}`)];
}

/**
 * The host layout: the shared directory (0700) holding only the database (0600) and its side files,
 * since every sidecar mounts it, and the host path linking to that file. Sidecars run as your uid,
 * so both must be yours.
 */
export function checkHostLayout(): CheckResult[] {
  if (!fs.existsSync(stateDir())) return [fail('layout', `${stateDir()} does not exist`, CREATE_LAYOUT)];
  const results: CheckResult[] = [];
  const link = inspectHostLink();
  if (link.kind === 'ok') results.push(pass('link', `${hostDbPath()} -> ${path.join(SHARED_DIR_NAME, DB_FILENAME)}`));
  else if (link.kind === 'missing') results.push(fail('link', `${hostDbPath()} is missing`, CREATE_LAYOUT));
  else results.push(fail('link', `${hostDbPath()} is not the link to ${sharedDbFile()}`, describeHostLinkProblem(link) ?? 'Remove it and run the command again.'));

  const dirStat = fs.statSync(sharedDir(), { throwIfNoEntry: false });
  if (!dirStat) return [...results, fail('shared directory', `${sharedDir()} does not exist`, CREATE_LAYOUT)];
  if (!dirStat.isDirectory()) return [...results, fail('shared directory', `${sharedDir()} is not a directory`, `Move ${sharedDir()} away, then run \`bot-bottle db migrate\`.`)];
  results.push(checkMode('shared directory', sharedDir(), dirStat, 0o700), ...checkOwner('shared directory', sharedDir(), dirStat));

  // What else the file may be (a planted link, someone else's) is for the database checks to say.
  const fileStat = fs.lstatSync(sharedDbFile(), { throwIfNoEntry: false });
  if (!fileStat) results.push(fail('database file', `${sharedDbFile()} does not exist`, CREATE_LAYOUT));
  else if (fileStat.isFile()) results.push(checkMode('database file', sharedDbFile(), fileStat, 0o600));

  const allowed = new Set([DB_FILENAME, ...SIDE_FILE_SUFFIXES.map((suffix) => `${DB_FILENAME}${suffix}`)]);
  const bell = `${DB_FILENAME}${BELL_SUFFIX}`;
  // The doorbells writers ring after their commits (regular files of at most one byte); a link in their place is a stranger.
  const isBell = (name: string): boolean => (name === bell || name.startsWith(`${bell}.`)) && fs.lstatSync(path.join(sharedDir(), name)).isFile();
  const strangers = fs.readdirSync(sharedDir()).filter((name) => !allowed.has(name) && !isBell(name));
  results.push(
    strangers.length === 0
      ? pass('shared directory contents', 'only the database, its side files and doorbells')
      : fail('shared directory contents', `${strangers.join(', ')} in ${sharedDir()}, which every sidecar has mounted`, `Move ${strangers.length === 1 ? 'it' : 'them'} out of ${sharedDir()}.`),
  );
  results.push(checkFilesystem(sharedDbFile()));
  return results;
}

function checkFilesystem(file: string): CheckResult {
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return pass('filesystem', 'not checked (no /proc/self/mountinfo on this system)');
  }
  const verdict = checkDbMount(file, mountinfo);
  return verdict.ok ? pass('filesystem', `${verdict.fsType} (mounted at ${verdict.mountPoint})`) : fail('filesystem', verdict.message, 'Move ~/.bot-bottle to a local disk.');
}

/**
 * The database itself: a regular file of yours (so are its side files), writable, with room to
 * grow, readable by SQLite, intact, in WAL mode and at the schema version this build expects.
 * Each failure names what is actually wrong: a restore is suggested only for a damaged file.
 */
export function checkDatabaseFile(file: string): CheckResult[] {
  const { found, problems } = inspectDatabaseFile(file);
  if (problems.length > 0) return problems.map((problem) => fail(problem.file === found.file ? 'database file' : 'side file', problem.problem, problem.fix));
  if (!found.stat) return [fail('database', `no database at ${file}`, CREATE_LAYOUT)];
  if (found.stat.size === 0) {
    return [fail('database', `${found.file} is empty (0 bytes): the database was truncated or replaced`, `Restore it from a backup (\`bot-bottle db backup\` makes them); to start afresh instead, remove it (rm ${found.file}) and run \`bot-bottle db migrate\`.`)];
  }
  const results = [checkWritable(found.file), checkFreeSpace(found.file)];
  let db: Db | undefined;
  try {
    db = openConnection(file, { readonly: true });
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    db?.close();
    // The opener already turned the environment's failures into errors; db check lists problem and fix apart.
    const failure = describeEnvironmentFailure(isSuperviseError(error) ? error.cause : error, found.file);
    if (failure) return [...results, fail('database', failure.problem, failure.fix)];
    return [...results, fail('database', `${file} cannot be read as an SQLite database: ${(error as Error).message}`, 'Restore it from a backup (`bot-bottle db backup` makes them), or move it away to start afresh.')];
  }
  try {
    let problems: string[];
    try {
      problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check);
    } catch (error) {
      // Damage bad enough that SQLite gives up on the check itself.
      problems = [(error as Error).message];
    }
    results.push(
      problems.length === 1 && problems[0] === 'ok'
        ? pass('integrity', 'integrity_check: ok')
        : fail('integrity', `integrity_check: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`, `Restore from a backup, or salvage with \`sqlite3 ${file} .recover | sqlite3 recovered.db\` and put recovered.db in its place while nothing runs.`),
    );
    const mode = String(db.pragma('journal_mode', { simple: true }));
    results.push(mode === 'wal' ? pass('journal mode', 'wal') : fail('journal mode', `${mode}, not wal: sidecars and the host would block each other`, 'Run `bot-bottle db migrate` (every host connection switches the database to WAL).'));
    const { userVersion: version, pending } = readMigrationStatus(db);
    if (version === SCHEMA_VERSION && pending.length === 0) results.push(pass('schema version', `${version}, as this build expects`));
    else if (version > SCHEMA_VERSION) results.push(fail('schema version', `${version}, newer than this build (${SCHEMA_VERSION})`, 'Upgrade bot-bottle on this host.'));
    else results.push(fail('schema version', `${version}, this build expects ${SCHEMA_VERSION}${pending.length ? ` (pending: ${pending.join(', ')})` : ''}`, 'Run `bot-bottle db migrate`.'));
    return results;
  } finally {
    db.close();
  }
}

function checkWritable(file: string): CheckResult {
  for (const target of [path.dirname(file), file]) {
    try {
      fs.accessSync(target, fs.constants.W_OK);
    } catch (error) {
      const failure = describeEnvironmentFailure(error, target);
      if (failure) return fail('writable', failure.problem, failure.fix);
      return fail('writable', `${target} is not writable (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'Make it yours and writable, then run the command again.');
    }
  }
  return pass('writable', `${file} and its directory`);
}

function checkFreeSpace(file: string): CheckResult {
  const free = freeBytes(file);
  if (free === undefined) return pass('free space', 'not checked (the filesystem does not say)');
  const mib = (free / (1024 * 1024)).toFixed(1);
  return free >= LOW_SPACE_BYTES
    ? pass('free space', `${mib} MiB free beside ${file}`)
    : fail('free space', `only ${mib} MiB free on the filesystem holding ${file}: writes will fail with a full disk`, `Free space there (df -h ${path.dirname(file)}).`);
}

/** Everything `db check` looks at: the host layout too when `file` is the default one, then the database file. */
export function checkDatabase(options: { file?: string } = {}): CheckResult[] {
  return [...(options.file === undefined ? checkHostLayout() : []), ...checkDatabaseFile(options.file ?? sharedDbFile())];
}
