import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../src/admin/check.js';
import type { DatabaseStatus } from '../src/admin/status.js';
import { loadMigrations } from '../src/storage/migrations.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { assertBuilt, killCliChildren, LineChild, runCli, runCliOnTerminal, runFixture, type CliRun } from './fixtures/cli-support.js';
import { MIGRATIONS_DIR, tempDir } from './fixtures/storage-support.js';

const MIGRATIONS = loadMigrations(MIGRATIONS_DIR).map((m) => m.name);

let home: string;
const state = (): string => path.join(home, '.bot-bottle');
const link = (): string => path.join(state(), 'bot-bottle.db');
const shared = (): string => path.join(state(), 'supervise');
const sharedFile = (): string => path.join(shared(), 'bot-bottle.db');

const cli = (...args: string[]): Promise<CliRun> => runCli(args, { home });

function json<T>(run: CliRun): T {
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as T;
}

function userVersion(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

async function migrated(): Promise<void> {
  const run = await cli('db', 'migrate');
  expect(run.code, run.stderr).toBe(0);
}

beforeAll(assertBuilt);
beforeEach(() => {
  home = tempDir('cli-db');
});
afterEach(killCliChildren);

describe('db path and status', () => {
  it('prints the host path without creating anything', async () => {
    const run = await cli('db', 'path');
    expect(run).toEqual({ code: 0, stdout: `${link()}\n`, stderr: '' });
    expect(json<{ realPath: string | null }>(await cli('db', 'path', '--json'))).toEqual({ path: link(), realPath: null, sharedDir: shared() });
    expect(fs.existsSync(state())).toBe(false);
  });

  it('refuses status before the database exists, then reports it without changing it', async () => {
    const before = await cli('db', 'status');
    expect(before.code).toBe(5);
    expect(before.stderr).toMatch(/there is no database at .* yet\. `bot-bottle db migrate` creates it/);
    expect(fs.existsSync(state())).toBe(false);

    await migrated();
    const propose = await runCli(['propose', '--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin'], { home, input: 'routes:\n  - host: a.example.com\n' });
    expect(propose.code, propose.stderr).toBe(2);
    const seeded = await runFixture('cli-seed.ts', [link(), '3'], { home });
    expect(seeded.code, seeded.stderr).toBe(0);

    const status = json<DatabaseStatus>(await cli('db', 'status', '--json'));
    expect(status).toMatchObject({
      path: link(),
      realPath: sharedFile(),
      schema: { userVersion: SCHEMA_VERSION, buildVersion: SCHEMA_VERSION, applied: MIGRATIONS, pending: [] },
      journalMode: 'wal',
      proposals: { pending: 1, answered: 3, archived: 0, expired: 0, cancelled: 0, total: 4 },
      auditEntries: 3,
    });
    expect(status.files.db).toBeGreaterThan(0);
    const text = await cli('db', 'status');
    expect(text.stdout).toMatch(/schema version\s+\d+ \(this build: \d+\)\n/);
    expect(text.stdout).toMatch(/proposals\s+1 pending, 3 answered, 0 archived, 0 expired, 0 cancelled \(4 in all\)/);
  });
});

describe('db migrate and rollback', () => {
  it('migrates to a named step, then the rest, and says when there is nothing to do', async () => {
    const first = await cli('db', 'migrate', '--to', MIGRATIONS[0] as string);
    expect(first.code, first.stderr).toBe(0);
    expect(userVersion(link())).toBe(1);
    expect(json<DatabaseStatus>(await cli('db', 'status', '--json')).schema.pending).toEqual(MIGRATIONS.slice(1));

    const rest = await cli('db', 'migrate');
    expect(rest.stdout).toMatch(new RegExp(`Applied ${MIGRATIONS.slice(1).join(', ')}; .* is at schema version ${SCHEMA_VERSION}\\.`));
    expect((await cli('db', 'migrate')).stdout).toMatch(/Nothing to migrate: .* is at schema version/);
  });

  it('refuses unknown and already-passed targets without changing the schema', async () => {
    await migrated();
    const unknown = await cli('db', 'migrate', '--to', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown migration "nope"\. Known: 0001_queue_audit_events/);
    const passed = await cli('db', 'migrate', '--to', '1');
    expect(passed.code).toBe(2);
    expect(passed.stderr).toMatch(/migrate only moves forward\. To go back, use `bot-bottle db rollback --to 0001_queue_audit_events`/);
    expect(userVersion(link())).toBe(SCHEMA_VERSION);
  });

  it('refuses to roll back without a terminal unless --yes, and writes nothing', async () => {
    await migrated();
    const refused = await cli('db', 'rollback');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/rolling back migrations needs confirmation, but stdin is not a terminal to ask on\. Rerun with --yes/);
    expect(userVersion(link())).toBe(SCHEMA_VERSION);

    const newest = MIGRATIONS.at(-1) as string;
    const yes = await cli('db', 'rollback', '--yes', '--json');
    expect(json<{ reverted: string[]; userVersion: number }>(yes)).toMatchObject({ reverted: [newest], userVersion: SCHEMA_VERSION - 1 });
    const toFirst = await cli('db', 'rollback', '--yes', '--to', MIGRATIONS[0] as string);
    expect(toFirst.code, toFirst.stderr).toBe(0);
    expect(userVersion(link())).toBe(1);
    const notApplied = await cli('db', 'rollback', '--yes', '--to', MIGRATIONS[1] as string);
    expect(notApplied.code).toBe(2);
    expect(notApplied.stderr).toMatch(/cannot roll back to 0002_legacy_imports: it is not applied/);
  });

  it('--dry-run prints what migrate and rollback would do, asks nothing and changes nothing', async () => {
    const fresh = await cli('db', 'migrate', '--dry-run');
    expect(fresh).toMatchObject({ code: 0, stderr: '' });
    expect(fresh.stdout).toBe(`Would apply ${MIGRATIONS.join(', ')}, taking ${link()} from schema version 0 to ${SCHEMA_VERSION}. Dry run: nothing was changed.\n`);
    expect(fs.existsSync(state())).toBe(false);

    await migrated();
    expect((await cli('db', 'migrate', '--dry-run')).stdout).toMatch(/^Nothing to migrate: .* is at schema version \d+\.\n$/);
    const passed = await cli('db', 'migrate', '--dry-run', '--to', '1');
    expect(passed.code).toBe(2);
    expect(passed.stderr).toMatch(/migrate only moves forward/);

    const all = json<{ path: string; dryRun: boolean; direction: string; steps: Array<{ name: string; dropsTables: string[] }>; userVersion: number; userVersionAfter: number }>(
      await cli('db', 'rollback', '--dry-run', '--to', '0', '--json'),
    );
    expect(all).toMatchObject({ path: link(), dryRun: true, direction: 'down', userVersion: SCHEMA_VERSION, userVersionAfter: 0 });
    expect(all.steps.map((step) => step.name)).toEqual([...MIGRATIONS].reverse());
    expect(all.steps.flatMap((step) => step.dropsTables)).toContain('proposals');
    const newest = await cli('db', 'rollback', '--dry-run');
    expect(newest).toMatchObject({ code: 0, stderr: '' });
    expect(newest.stdout).toMatch(new RegExp(`^Would revert ${MIGRATIONS.at(-1)}, taking .* from schema version ${SCHEMA_VERSION} to ${SCHEMA_VERSION - 1}(; this drops the tables [a-z_, ]+)?\\. Dry run: nothing was changed\\.\n$`));
    expect(userVersion(link())).toBe(SCHEMA_VERSION);
  });

  it('asks on a terminal, names the tables it drops, and does nothing on "n"', async () => {
    await migrated();
    const declined = await runCliOnTerminal(['db', 'rollback', '--to', '0'], { home, input: 'n\n' });
    expect(declined.code).toBe(1);
    expect(declined.stdout).toMatch(/This DROPS the tables .*proposals.* and everything in them\. .*\[y\/N\]/s);
    expect(declined.stdout).toMatch(/Not rolled back; nothing changed\./);
    expect(userVersion(link())).toBe(SCHEMA_VERSION);

    const accepted = await runCliOnTerminal(['db', 'rollback'], { home, input: 'y\n' });
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(userVersion(link())).toBe(SCHEMA_VERSION - 1);
  });
});

describe('db backup', () => {
  it('copies the database while 4 processes write; the copy passes integrity_check and holds every acknowledged proposal', async () => {
    await migrated();
    const writers = ['w0', 'w1', 'w2', 'w3'].map((slug) => new LineChild('cli-writer.ts', [link(), slug], { home }));
    await Promise.all(writers.map((writer) => writer.waitForLines(1 + 40)));
    const acknowledged = writers.flatMap((writer) => writer.lines.slice(1));

    const target = path.join(home, 'backup.db');
    const backup = await cli('db', 'backup', target, '--json');
    const result = json<{ integrity: string; proposals: number; bytes: number }>(backup);
    // Still writing after the backup finished: the copy was taken under load.
    await Promise.all(writers.map((writer) => writer.waitForLines(writer.lines.length + 5)));
    for (const writer of writers) writer.process.stdin?.end();
    expect(await Promise.all(writers.map((writer) => writer.exited))).toEqual([0, 0, 0, 0]);

    expect(result.integrity).toBe('ok');
    expect(result.proposals).toBeGreaterThanOrEqual(acknowledged.length);
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(home).filter((name) => name.startsWith('backup.db'))).toEqual(['backup.db']);
    const copy = new Database(target, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      const ids = new Set(copy.prepare('SELECT id FROM proposals').pluck().all() as string[]);
      expect(acknowledged.filter((id) => !ids.has(id))).toEqual([]);
      expect(ids.size).toBe(result.proposals);
    } finally {
      copy.close();
    }
    const total = writers.reduce((n, writer) => n + writer.lines.length - 1, 0);
    expect(total).toBeGreaterThan(result.proposals);
  });

  it('refuses an existing file without --force, the shared directory, a missing directory and a missing database', async () => {
    const none = await cli('db', 'backup', path.join(home, 'b.db'));
    expect(none.code).toBe(5);
    expect(none.stderr).toMatch(/there is no database at/);
    await migrated();

    const target = path.join(home, 'b.db');
    fs.writeFileSync(target, 'precious');
    const exists = await cli('db', 'backup', target);
    expect(exists.code).toBe(3);
    expect(exists.stderr).toMatch(/already exists\. Choose another file, or pass --force to replace it/);
    expect(fs.readFileSync(target, 'utf8')).toBe('precious');
    const forced = await cli('db', 'backup', target, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/integrity_check ok\.\naudit head [0-9a-f]{64}:0\n$/);

    const inShared = await cli('db', 'backup', path.join(shared(), 'copy.db'));
    expect(inShared.code).toBe(3);
    expect(inShared.stderr).toMatch(/the directory every sidecar has mounted/);
    const itself = await cli('--db', sharedFile(), 'db', 'backup', sharedFile(), '--force');
    expect(itself.code).toBe(3);
    expect(itself.stderr).toMatch(/is the database itself/);
    const noDir = await cli('db', 'backup', path.join(home, 'missing', 'b.db'));
    expect(noDir.code).toBe(3);
    expect(noDir.stderr).toMatch(/the directory .*missing does not exist/);
    expect(fs.readdirSync(shared()).filter((name) => name.startsWith('copy'))).toEqual([]);
  });
});

describe('db check', () => {
  const problems = (run: CliRun): CheckResult[] => json<{ ok: boolean; checks: CheckResult[] }>(run).checks.filter((check) => !check.ok);

  it('passes a fresh layout and names a fix for every problem it finds', async () => {
    const empty = await cli('db', 'check');
    expect(empty.code).toBe(1);
    expect(empty.stdout).toMatch(/BAD {2}layout: .* does not exist\n {5}fix: Run `bot-bottle db migrate`/);

    await migrated();
    const healthy = await cli('db', 'check', '--json');
    expect(healthy.code).toBe(0);
    expect(problems(healthy)).toEqual([]);

    fs.chmodSync(shared(), 0o755);
    fs.chmodSync(sharedFile(), 0o644);
    fs.writeFileSync(path.join(shared(), 'notes.txt'), 'stray');
    const bad = await cli('db', 'check', '--json');
    expect(bad.code).toBe(1);
    expect(problems(bad).map((p) => [p.name, p.fix])).toEqual([
      ['shared directory mode', `chmod 700 ${shared()}`],
      ['database file mode', `chmod 600 ${sharedFile()}`],
      ['shared directory contents', `Move it out of ${shared()}.`],
    ]);
    const text = await cli('db', 'check');
    expect(text.stdout).toMatch(/3 problems found\.\n$/);
  });

  it('finds a link pointing elsewhere', async () => {
    await migrated();
    fs.rmSync(link());
    fs.symlinkSync('/tmp/elsewhere.db', link());
    const linkRun = await cli('db', 'check', '--json');
    expect(problems(linkRun)).toEqual([expect.objectContaining({ name: 'link', fix: expect.stringMatching(/Remove the link \(rm .*\) and run the command again/) })]);
  });

  it('finds a rollback-mode database at an old schema', async () => {
    const old = path.join(home, 'old.db');
    const db = new Database(old);
    db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    db.pragma('user_version = 1');
    db.close();
    const oldRun = await cli('--db', old, 'db', 'check', '--json');
    expect(problems(oldRun).map((p) => p.name)).toEqual(['journal mode', 'schema version']);
    expect(problems(oldRun)[1]?.fix).toBe('Run `bot-bottle db migrate`.');
  });

  it('finds corruption and says to restore from a backup', async () => {
    const corrupt = path.join(home, 'corrupt.db');
    const big = new Database(corrupt);
    big.exec('CREATE TABLE t (x TEXT); CREATE INDEX t_x ON t (x);');
    const insert = big.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 2000; i += 1) insert.run(`row ${i} ${'x'.repeat(100)}`);
    big.close();
    const fd = fs.openSync(corrupt, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, 4096 * 3);
    fs.closeSync(fd);
    const corruptRun = await cli('--db', corrupt, 'db', 'check');
    expect(corruptRun.code).toBe(1);
    expect(corruptRun.stdout).toMatch(/BAD {2}(integrity: integrity_check: |database: .* cannot be read as an SQLite database)/);
    expect(corruptRun.stdout).toMatch(/fix: (Restore from a backup|Restore it from a backup)/);
  });
});

describe('db adopt', () => {
  /** What the Python bot-bottle left: a regular database file in rollback mode at the host path. */
  function legacyDatabase(): void {
    fs.mkdirSync(state(), { recursive: true });
    const db = new Database(link());
    db.exec(`CREATE TABLE forge_state (key TEXT PRIMARY KEY, value TEXT); INSERT INTO forge_state VALUES ('bottle', 'acme');`);
    db.close();
  }

  it('moves an earlier install\'s database into the shared directory, migrates and links it; host commands then work', async () => {
    legacyDatabase();
    const refused = await cli('db', 'migrate');
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/is a regular file, probably a database from an earlier bot-bottle install\. Run `bot-bottle db adopt`/);

    const adopt = await cli('db', 'adopt', '--json');
    expect(json<{ adopted: boolean; migrationsApplied: string[]; userVersion: number }>(adopt)).toMatchObject({ adopted: true, migrationsApplied: MIGRATIONS, userVersion: SCHEMA_VERSION });
    expect(fs.lstatSync(link()).isSymbolicLink()).toBe(true);
    expect(fs.readlinkSync(link())).toBe(path.join('supervise', 'bot-bottle.db'));
    expect(fs.statSync(sharedFile()).mode & 0o777).toBe(0o600);
    expect(fs.statSync(shared()).mode & 0o777).toBe(0o700);
    const db = new Database(sharedFile(), { readonly: true });
    try {
      expect(db.prepare('SELECT value FROM forge_state').pluck().get()).toBe('acme');
    } finally {
      db.close();
    }
    expect((await cli('db', 'check')).code).toBe(0);
    const again = await cli('db', 'adopt');
    expect(again).toMatchObject({ code: 0, stdout: expect.stringMatching(/already links to .*; there is nothing to adopt/) });
  });

  it('is refused, changing nothing, while another process has the file open', async () => {
    legacyDatabase();
    const holder = new LineChild('cli-hold-open.ts', [link()], { home });
    await holder.waitForLines(1);
    const run = await cli('db', 'adopt');
    expect(run.code).toBe(5);
    // The holder's command line, cut with … when long (a checkout deep in /tmp makes it so).
    expect(run.stderr).toMatch(new RegExp(`is in use: pid ${holder.process.pid} \\(.*(cli-hold-open\\.ts|…).*\\) has bot-bottle\\.db open\\. Stop those processes`));
    expect(fs.lstatSync(link()).isFile()).toBe(true);
    expect(fs.existsSync(shared())).toBe(false);
    holder.process.stdin?.end();
    expect(await holder.exited).toBe(0);
    expect((await cli('db', 'adopt')).code).toBe(0);
  });

  it('is refused when the shared directory already holds a database with data', async () => {
    fs.mkdirSync(shared(), { recursive: true, mode: 0o700 });
    const other = new Database(sharedFile());
    other.exec(`CREATE TABLE kept (x); INSERT INTO kept VALUES (1);`);
    other.close();
    legacyDatabase();
    const run = await cli('db', 'adopt');
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/both .* \(the earlier install's database\) and .* hold data; adopting would hide one of them/);
    expect(fs.lstatSync(link()).isFile()).toBe(true);
  });

  it('puts the file back, in its own journal mode, when it cannot be migrated', async () => {
    fs.mkdirSync(state(), { recursive: true });
    const clash = new Database(link());
    clash.exec(`CREATE TABLE proposals (legacy TEXT); INSERT INTO proposals VALUES ('from the python plane');`);
    clash.close();
    const run = await cli('db', 'adopt');
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/the adopted database could not be migrated, so it was moved back to .*bot-bottle\.db unchanged: migration 0001_queue_audit_events failed: table proposals already exists/);
    expect(fs.lstatSync(link()).isFile()).toBe(true);
    expect(fs.existsSync(sharedFile())).toBe(false);
    const back = new Database(link(), { readonly: true });
    try {
      expect(back.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(back.prepare('SELECT legacy FROM proposals').pluck().all()).toEqual(['from the python plane']);
      expect(back.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all()).toEqual(['proposals']);
    } finally {
      back.close();
    }
  });

  it('has nothing to adopt on a fresh machine, refuses --db and a file that is not a database', async () => {
    const nothing = await cli('db', 'adopt');
    expect(nothing).toMatchObject({ code: 0, stdout: expect.stringMatching(/There is no database at .*; there is nothing to adopt/) });
    expect((await cli('--db', path.join(home, 'x.db'), 'db', 'adopt')).code).toBe(2);
    fs.mkdirSync(state(), { recursive: true });
    fs.writeFileSync(link(), 'not sqlite at all, just text that is long enough');
    const stranger = await cli('db', 'adopt');
    expect(stranger.code).toBe(5);
    expect(stranger.stderr).toMatch(/is not an SQLite database, so it is not one bot-bottle left behind/);
  });
});

describe('db --help', () => {
  it('documents every subcommand', async () => {
    for (const sub of ['path', 'status', 'migrate', 'rollback', 'backup', 'check', 'adopt', 'prune', 'vacuum']) {
      const run = await cli('db', sub, '--help');
      expect(run.code, sub).toBe(0);
      expect(run.stdout).toMatch(/^Usage: bot-bottle db /);
    }
  });
});
