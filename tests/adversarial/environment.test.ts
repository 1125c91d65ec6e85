// Threat: a bottle (or plain bad luck) leaves the host's database where writing fails: a full disk,
// a read-only mount, a file of another owner or mode, garbage or a damaged page in the file, a
// truncated file, the schema rolled back under a running process. Each printed "unexpected error …
// this is a bug" and exited 70; `db check` then advised restoring a healthy database; an empty
// file was silently started afresh; the sidecar and the TUI crashed in a timer. Now each is an
// error naming the problem and its fix with exit 5, writing nothing, and `db check` names the
// actual problem. Real conditions throughout: a tmpfs and a read-only bind mount in a private
// mount namespace, chown/chmod with the CLI run as another user, bytes written into the file.
// Also here: `propose --ttl 99999999999999999999` wrote a row that broke `supervise --once --json`
// for everyone, and an expired proposal's refused answer said "still pending".
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI, assertBuilt, killCliChildren, runCli, runFixture, snapshotTree, type CliRun } from '../fixtures/cli-support.js';
import { sha256 } from '../../src/core/hash.js';
import { inMountNamespace, mountNamespaceSupport } from '../fixtures/mount-namespace.js';
import { connectClient, killChildren, startSidecar } from '../fixtures/sidecar-harness.js';
import { ROUTES_YAML, tempDir } from '../fixtures/storage-support.js';
import { bottleKeysDir } from '../fixtures/bottle-keys.js';
import { openStorage } from '../../sidecar/storage-open.js';
import { TmuxTerminal } from '../fixtures/tui-terminal.js';

const namespaces = mountNamespaceSupport();
if (!namespaces.ok) console.warn(`disk-full and read-only tests skipped: ${namespaces.reason}; they need root and unshare(1) to mount.`);
const asRoot = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
if (!asRoot) console.warn('file-mode tests skipped: they run the CLI as another user with setpriv, which needs root.');

/** The uid the mode tests run the CLI as: not root, so file modes apply to it. */
const OTHER_UID = 4321;

let home: string;
const shared = (): string => path.join(home, '.bot-bottle', 'supervise');
const dbFile = (): string => path.join(shared(), 'bot-bottle.db');
const cli = (...args: string[]): Promise<CliRun> => runCli(args, { home, env: { USER: 'tester' } });

function payload(): string {
  const file = path.join(home, 'routes.yaml');
  fs.writeFileSync(file, ROUTES_YAML);
  return file;
}

const proposeArgs = (justification: string): string[] => ['propose', '--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', payload(), '--justification', justification];

/** An environment failure as the user must see it: exit 5, the message given, and no "this is a bug". */
function expectEnvironmentError(run: CliRun, message: RegExp): void {
  expect(run.code, run.stderr).toBe(5);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/unexpected error|This is a bug/);
}

function proposalCount(): number {
  const db = new Database(dbFile(), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM proposals').pluck().get() as number;
  } finally {
    db.close();
  }
}

beforeEach(async () => {
  assertBuilt();
  home = tempDir('adversarial-environment');
  expect((await cli('db', 'migrate')).code).toBe(0);
});

afterEach(async () => {
  await killCliChildren();
  await killChildren();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('a disk that fills up, a filesystem mounted read-only', () => {
  it.skipIf(!namespaces.ok)('a full disk: propose says the disk is full (exit 5) and writes nothing; db check names the free space', async () => {
    // A fresh layout whose shared directory is a 1 MiB tmpfs; a first proposal succeeds, then a filler takes every block.
    fs.rmSync(path.dirname(shared()), { recursive: true });
    fs.mkdirSync(shared(), { recursive: true, mode: 0o700 });
    const runs = await inMountNamespace(
      home,
      [
        `mount -t tmpfs -o size=1m,mode=0700 tmpfs "${shared()}"`,
        'run migrate db migrate',
        `run first ${proposeArgs('first').map((arg) => `'${arg}'`).join(' ')}`,
        `dd if=/dev/zero of="${shared()}/filler" bs=4k 2>/dev/null || true`,
        `run full ${proposeArgs('second').map((arg) => `'${arg}'`).join(' ')}`,
        'run check db check --json',
        `rm "${shared()}/filler"`,
        'run list supervise --once --json',
      ].join('\n'),
    );
    expect(runs.first?.code, runs.first?.stderr).toBe(2);
    expectEnvironmentError(runs.full as CliRun, /the disk holding .*bot-bottle\.db is full \(SQLITE_[A-Z_]+\)\. Free space on that filesystem \(df -h .*supervise\)/);
    const checks = JSON.parse(runs.check?.stdout ?? '{}') as { checks: Array<{ name: string; ok: boolean; detail: string; fix?: string }> };
    expect(checks.checks).toContainEqual(expect.objectContaining({ name: 'free space', ok: false, detail: expect.stringMatching(/writes will fail with a full disk/) }));
    expect(JSON.stringify(checks)).not.toMatch(/Restore it from a backup|Restore from a backup/);
    // Nothing of the refused proposal was written: only the first is there.
    expect(runs.list?.code).toBe(0);
    expect((JSON.parse(runs.list?.stdout ?? '[]') as unknown[]).length).toBe(1);
  });

  it.skipIf(!namespaces.ok)('a read-only filesystem: writing and reading verbs say so (exit 5); db check names the mount, not a restore', async () => {
    expect((await cli(...proposeArgs('before'))).code).toBe(2);
    const before = snapshotTree(shared());
    const runs = await inMountNamespace(
      home,
      [
        `mount --bind "${shared()}" "${shared()}"`,
        `mount -o remount,ro,bind "${shared()}"`,
        `run propose ${proposeArgs('on a read-only disk').map((arg) => `'${arg}'`).join(' ')}`,
        'run verify audit verify',
        'run once supervise --once',
        'run check db check --json',
      ].join('\n'),
    );
    for (const name of ['propose', 'verify', 'once']) {
      expectEnvironmentError(runs[name] as CliRun, /supervise\/bot-bottle\.db is on a read-only filesystem \(SQLITE_CANTOPEN\).*Remount it read-write/);
    }
    const checks = JSON.parse(runs.check?.stdout ?? '{}') as { checks: Array<{ name: string; ok: boolean; detail: string; fix?: string }> };
    expect(checks.checks.filter((check) => !check.ok).map((check) => [check.name, check.fix])).toEqual([
      ['writable', expect.stringMatching(/^Remount it read-write/)],
      ['database', expect.stringMatching(/^Remount it read-write/)],
    ]);
    expect(snapshotTree(shared())).toEqual(before);
  });
});

describe('the database file of another owner, or with a mode the user cannot use', () => {
  it('a file owned by someone else is refused before it is opened: every verb exits 5, nothing is written', async () => {
    fs.chownSync(dbFile(), OTHER_UID, OTHER_UID);
    const before = snapshotTree(shared());
    for (const args of [proposeArgs('mine?'), ['supervise', '--once'], ['audit', 'verify'], ['db', 'status']]) {
      expectEnvironmentError(await cli(...args), new RegExp(`bot-bottle\\.db belongs to uid ${OTHER_UID}, not to you \\(uid 0\\)\\. If it is yours, chown 0:0 `));
    }
    const check = await cli('db', 'check');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(new RegExp(`BAD {2}database file: .*bot-bottle\\.db belongs to uid ${OTHER_UID}`));
    expect(check.stdout).not.toMatch(/Restore/);
    expect(snapshotTree(shared())).toEqual(before);
  });

  it.skipIf(!asRoot)('modes the user cannot write or read: exit 5 naming the mode as the problem, and db check agrees', async () => {
    // The CLI runs as the owner of the layout without any capability, so the file's mode applies as
    // to any ordinary user (another uid could not reach a checkout in a 0700 directory).
    fs.rmSync(home, { recursive: true });
    home = tempDir('adversarial-environment-user');
    const asUser = (...args: string[]): CliRun => {
      const result = spawnSync('setpriv', ['--bounding-set=-all', '--inh-caps=-all', 'env', `HOME=${home}`, `PATH=${process.env.PATH ?? ''}`, process.execPath, CLI, ...args], { encoding: 'utf8' });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    expect(asUser('db', 'migrate').code).toBe(0);
    payload();

    fs.chmodSync(dbFile(), 0o400);
    expectEnvironmentError(asUser(...proposeArgs('read-only file')), /supervise\/bot-bottle\.db cannot be written \(SQLITE_READONLY\): it or its side files are not writable by you\. Make them yours and writable/);

    fs.chmodSync(dbFile(), 0o000);
    expectEnvironmentError(asUser(...proposeArgs('no access')), /permission denied on .*supervise\/bot-bottle\.db \(SQLITE_CANTOPEN\)\. The database, its side files and .* must belong to you/);
    const check = asUser('db', 'check', '--json');
    const failed = (JSON.parse(check.stdout) as { checks: Array<{ name: string; ok: boolean; fix?: string }> }).checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(['database file mode', 'writable', 'database']);
    expect(failed.find((c) => c.name === 'database')?.fix).toMatch(/must belong to you/);
    expect(JSON.stringify(failed)).not.toMatch(/Restore/);

    fs.chmodSync(dbFile(), 0o600);
    expect(proposalCount()).toBe(0);
  });
});

describe('what the file holds', () => {
  it('garbage: not an SQLite database, exit 5; db check says so and nothing is rewritten', async () => {
    fs.writeFileSync(dbFile(), Buffer.from('this is not a database, just bytes a bottle wrote\n'.repeat(200)));
    for (const name of fs.readdirSync(shared())) if (name !== 'bot-bottle.db') fs.rmSync(path.join(shared(), name));
    const before = snapshotTree(shared());
    for (const args of [proposeArgs('into garbage'), ['supervise', '--once', '--json'], ['audit', 'verify']]) {
      expectEnvironmentError(await cli(...args), /bot-bottle\.db is not an SQLite database \(SQLITE_NOTADB\).*Restore the database from a backup/);
    }
    const check = await cli('db', 'check');
    expect(check.stdout).toMatch(/BAD {2}database: .*bot-bottle\.db is not an SQLite database \(SQLITE_NOTADB\)/);
    expect(snapshotTree(shared())).toEqual(before);
  });

  it('an empty file is refused, never silently started afresh (which would hide that the audit log is gone)', async () => {
    expect((await cli(...proposeArgs('soon truncated'))).code).toBe(2);
    for (const name of fs.readdirSync(shared())) fs.truncateSync(path.join(shared(), name), 0);
    for (const name of fs.readdirSync(shared())) if (name !== 'bot-bottle.db') fs.rmSync(path.join(shared(), name));
    const before = snapshotTree(shared());
    for (const args of [proposeArgs('after truncation'), ['supervise', '--once'], ['audit', 'verify'], ['db', 'migrate']]) {
      expectEnvironmentError(await cli(...args), /bot-bottle\.db is empty \(0 bytes\): the database was truncated or replaced.*Restore it from a backup/);
    }
    const check = await cli('db', 'check');
    expect(check.stdout).toMatch(/BAD {2}database: .*is empty \(0 bytes\)/);
    expect(snapshotTree(shared())).toEqual(before);
  });

  it('a deleted database is not silently replaced by an empty one either, while its link says one was made', async () => {
    expect((await cli(...proposeArgs('soon deleted'))).code).toBe(2);
    for (const name of fs.readdirSync(shared())) fs.rmSync(path.join(shared(), name));
    for (const args of [proposeArgs('after deletion'), ['db', 'migrate']]) {
      expectEnvironmentError(await cli(...args), /supervise\/bot-bottle\.db is gone although .*bot-bottle\.db links to it: the database was deleted.*remove the link \(rm /);
    }
    expect(fs.readdirSync(shared())).toEqual([]);
  });

  it('a corrupt page: audit verify exits 5 naming the damage instead of 70; db check reports the integrity failure', async () => {
    expect((await runFixture('cli-audit-fill.ts', [dbFile(), '2000'], { home })).code).toBe(0);
    const db = new Database(dbFile());
    db.pragma('wal_checkpoint(TRUNCATE)');
    const page = db.prepare(`SELECT pageno FROM dbstat WHERE name = 'audit_entries' AND pagetype = 'leaf' ORDER BY pageno LIMIT 1 OFFSET 20`).pluck().get() as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const fd = fs.openSync(dbFile(), 'r+');
    fs.writeSync(fd, Buffer.alloc(pageSize, 0xab), 0, pageSize, (page - 1) * pageSize);
    fs.closeSync(fd);

    expectEnvironmentError(await cli('audit', 'verify'), /bot-bottle\.db is damaged \(SQLITE_CORRUPT[A-Z_]*: .*\)\. Stop writing to it: `bot-bottle db check` shows the damage\. Restore it from a backup/);
    const check = await cli('db', 'check');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/BAD {2}integrity: integrity_check: /);
  });
});

describe('an agent calling on a database that fails', () => {
  it('gets a tool error that names the damage and what to do, not the bare SQLite message', async () => {
    const sidecar = await startSidecar(dbFile(), { SUPERVISE_BOTTLE_SLUG: 'acme' });
    const client = await connectClient(sidecar.url);
    try {
      // The proposals table's root page overwritten while the sidecar runs.
      const db = new Database(dbFile());
      db.pragma('wal_checkpoint(TRUNCATE)');
      const root = db.prepare(`SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'proposals'`).pluck().get() as number;
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.close();
      const fd = fs.openSync(dbFile(), 'r+');
      fs.writeSync(fd, Buffer.alloc(pageSize, 0xab), 0, pageSize, (root - 1) * pageSize);
      fs.closeSync(fd);

      const result = (await client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES_YAML, justification: 'on a damaged database' } })) as CallToolResult;
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toMatch(/the database is damaged \(SQLITE_CORRUPT[A-Z_]*: .*\)\. Stop writing to it/);
    } finally {
      await client.close();
    }
  });
});

describe('the schema rolled back under a running process', () => {
  it('the sidecar logs the reason and shuts down (exit 1), never a stack trace from a timer', async () => {
    // Everything, the events table the notifier reads included.
    const sidecar = await startSidecar(dbFile(), { SUPERVISE_BOTTLE_SLUG: 'acme' });
    expect((await cli('db', 'rollback', '--to', '0', '--yes')).code).toBe(0);
    const exit = await sidecar.exited;
    expect(exit.code, exit.stderr).toBe(1);
    expect(exit.stderr).toMatch(/bot-bottle\.db changed schema under this process \(version \d+, now 0\): it was rolled back, or migrated by another bot-bottle build\. Run `bot-bottle db migrate` on the host/);
    expect(exit.stderr).not.toMatch(/\n\s+at |unexpected error|SqliteError/);
  });

  it('a rollback between the ready line and the end of the warm-up is told as the schema change, not as a missing table', async () => {
    // The sidecar listens before it loads what it serves with; this is what it asks when that fails.
    const storage = await openStorage('acme', { dbPath: dbFile(), keysDir: bottleKeysDir('acme'), watch: false });
    try {
      expect(storage.schemaChange()).toBeUndefined();
      expect((await cli('db', 'rollback', '--to', '0', '--yes')).code).toBe(0);
      expect(storage.schemaChange()?.message).toMatch(/bot-bottle\.db changed schema under this process \(version \d+, now 0\): it was rolled back/);
    } finally {
      await storage.close();
    }
  });

  it('the TUI leaves the screen and exits 5 with the reason', async () => {
    const terminal = new TmuxTerminal(home);
    try {
      terminal.start(`env HOME=${JSON.stringify(home)} USER=tester ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} supervise`);
      await terminal.waitForText('No pending proposals');
      // One step, the usual rollback: every table the list reads is still there, only the newest is gone.
      expect((await cli('db', 'rollback', '--yes')).code).toBe(0);
      const screen = await terminal.waitFor('the exit status', (text) => /exit=\d+/.test(text));
      expect(screen).toMatch(/exit=5/);
      expect(screen.replace(/\n/g, '')).toMatch(/changed schema under this process \(version (\d+), now (\d+)\): it was rolled back.*bot-bottle db migrate/);
      expect(screen).not.toMatch(/SqliteError|\n\s+at /);
    } finally {
      terminal.kill();
    }
  });
});

describe('refusals that say what happened', () => {
  it('propose --ttl past a year is refused (exit 4) and writes nothing; supervise --once --json keeps working', async () => {
    const huge = await cli(...proposeArgs('forever'), '--ttl', '99999999999999999999');
    expect(huge.code).toBe(4);
    expect(huge.stderr).toMatch(/--ttl "99999999999999999999" is not valid: give a number of seconds \(above 0 to 31536000\)/);
    expect(proposalCount()).toBe(0);
    expect((await cli(...proposeArgs('a year'), '--ttl', '31536000')).code).toBe(2);
    const list = await cli('supervise', '--once', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toHaveLength(1);
  });

  it('answering a proposal whose time ran out says it expired, not that it is still pending', async () => {
    const proposed = await cli(...proposeArgs('short-lived'), '--ttl', '0.2', '--json');
    const { proposalId } = JSON.parse(proposed.stdout) as { proposalId: string };
    // Its expiry passes; nothing sweeps it before the answer does.
    const db = new Database(dbFile());
    db.prepare('UPDATE proposals SET expires_at = ? WHERE id = ?').run(Date.now() - 1000, proposalId);
    db.close();
    const approve = await cli('supervise', 'approve', proposalId, '--expect-sha256', sha256(ROUTES_YAML));
    expect(approve.code).toBe(4);
    expect(approve.stderr).toMatch(/is no longer pending: expired unanswered at \d{4}-\d\d-\d\dT/);
    expect(approve.stderr).not.toMatch(/still pending/);
  });
});
