// Threat: the files the host writes and reads around the database. `db backup` wrote its copy in
// progress with mode 0644 and an interrupted backup left it; `db backup ~/.bot-bottle/bot-bottle.db
// --force` replaced the host link with a plain file; `--db <typo> audit verify` created an empty
// database and called it intact; `audit export --output F` wrote through a planted `F.partial`
// symlink; `import-legacy` echoed the first characters of a symlinked file it could not parse, one
// symlink loop aborted the whole import, and after a rollback past the legacy-imports migration a
// second import appended every legacy audit line again.
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LegacyImportSummary } from '../../src/legacy/summary.js';
import { assertBuilt, killCliChildren, runCli, runFixture, snapshotTree, spawnCli, type CliRun } from '../fixtures/cli-support.js';
import { FIXTURES_DIR, tempDir } from '../fixtures/storage-support.js';

let home: string;
const state = (): string => path.join(home, '.bot-bottle');
const link = (): string => path.join(state(), 'bot-bottle.db');
const dbFile = (): string => path.join(state(), 'supervise', 'bot-bottle.db');
const cli = (...args: string[]): Promise<CliRun> => runCli(args, { home, env: { USER: 'tester' } });

/**
 * Runs the CLI and sends it SIGINT as soon as a file whose name passes `isPartial` appears in
 * `dir`; resolves, once the child has exited, with that file's mode as it was then.
 */
async function interruptOnPartial(args: string[], dir: string, isPartial: (name: string) => boolean): Promise<{ mode: number | undefined; exit: { code: number | null; signal: NodeJS.Signals | null } }> {
  const child: ChildProcess = spawnCli(args, { home });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let mode: number | undefined;
  const watcher = fs.watch(dir, (_event, name) => {
    if (mode !== undefined || name === null || !isPartial(name)) return;
    const stat = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
    if (!stat) return;
    mode = stat.mode & 0o777;
    child.kill('SIGINT');
  });
  try {
    const exit = await exited;
    return { mode, exit };
  } finally {
    watcher.close();
  }
}

beforeEach(async () => {
  assertBuilt();
  home = tempDir('adversarial-files');
  // Not the test runner's umask: a file created without an explicit mode would be readable by all.
  process.umask(0o022);
  expect((await cli('db', 'migrate')).code).toBe(0);
});

afterEach(async () => {
  await killCliChildren();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('db backup', () => {
  it('writes its copy in progress with mode 0600, and Ctrl-C leaves no partial copy behind', async () => {
    // Enough pages that the copy takes a while: a table of ballast beside the real ones.
    const db = new Database(dbFile());
    db.exec('CREATE TABLE ballast (b BLOB)');
    const insert = db.prepare('INSERT INTO ballast VALUES (randomblob(262144))');
    db.transaction(() => {
      for (let i = 0; i < 400; i += 1) insert.run();
    })();
    db.close();
    const out = path.join(home, 'backups');
    fs.mkdirSync(out);

    const { mode, exit } = await interruptOnPartial(['db', 'backup', path.join(out, 'copy.db')], out, (name) => name.startsWith('copy.db.partial'));
    expect(mode?.toString(8)).toBe('600');
    expect(fs.readdirSync(out).filter((name) => name.includes('partial'))).toEqual([]);
    // Interrupted during SQLite's one-step copy, the command may finish it first; either way no partial stays.
    if (exit.signal === null) expect(exit.code).toBe(0);
    else expect(fs.existsSync(path.join(out, 'copy.db'))).toBe(false);
  });

  it('refuses to write over the host link or the live database, even with --force', async () => {
    const before = snapshotTree(state());
    for (const target of [link(), dbFile(), `${dbFile()}-wal`]) {
      const run = await cli('db', 'backup', target, '--force');
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toMatch(/is the database itself \(or its link, or one of its side files\)\. Write the backup to another file/);
    }
    const elsewhere = path.join(home, 'link-to-db');
    fs.symlinkSync(link(), elsewhere);
    const viaLink = await cli('db', 'backup', elsewhere, '--force');
    expect(viaLink.code).toBe(3);
    expect(fs.lstatSync(link()).isSymbolicLink()).toBe(true);
    expect(snapshotTree(state())).toEqual(before);
  });
});

describe('read-only verbs and a database that is not there', () => {
  it('never create one: a typo in --db is an error naming the path, and nothing appears', async () => {
    const typo = path.join(home, 'bot-botle.db');
    for (const args of [
      ['audit', 'verify'],
      ['audit', 'list'],
      ['audit', 'show', '1'],
      ['audit', 'export'],
      ['supervise', '--once'],
      ['supervise', '--once', '--json'],
      ['db', 'status'],
    ]) {
      const run = await cli('--db', typo, ...args);
      expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(5);
      expect(run.stderr).toMatch(new RegExp(`there is no database at ${typo} yet\\.`));
      expect(run.stdout).not.toMatch(/intact/);
    }
    const check = await cli('--db', typo, 'db', 'check');
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(/BAD {2}database: no database at/);
    expect(fs.readdirSync(home).filter((name) => name.startsWith('bot-botle'))).toEqual([]);
  });

  it('never create the host layout either', async () => {
    fs.rmSync(state(), { recursive: true });
    for (const args of [['audit', 'verify'], ['supervise', '--once']]) {
      expect((await cli(...args)).code).toBe(5);
    }
    expect(fs.existsSync(state())).toBe(false);
  });
});

describe('audit export --output', () => {
  it('refuses to write through a planted F.partial symlink, and the file it names is untouched', async () => {
    const victim = path.join(home, 'victim.txt');
    fs.writeFileSync(victim, 'precious\n');
    const output = path.join(home, 'export.jsonl');
    fs.symlinkSync(victim, `${output}.partial`);
    const run = await cli('audit', 'export', '--output', output);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/export\.jsonl\.partial already exists \(a leftover of an interrupted run, or something put there\).*Remove it \(rm /);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.existsSync(output)).toBe(false);
  });

  it('writes the partial file with mode 0600 and removes it on Ctrl-C', async () => {
    expect((await runFixture('cli-audit-fill.ts', [dbFile(), '60000'], { home })).code).toBe(0);
    const out = path.join(home, 'exports');
    fs.mkdirSync(out);
    const output = path.join(out, 'audit.jsonl');
    const { mode, exit } = await interruptOnPartial(['audit', 'export', '--output', output], out, (name) => name === 'audit.jsonl.partial');
    expect(mode?.toString(8)).toBe('600');
    expect(exit.signal).toBe('SIGINT');
    expect(fs.readdirSync(out)).toEqual([]);
  });
});

describe('import-legacy and links in the legacy tree', () => {
  let from: string;
  const importLegacy = (...args: string[]): Promise<CliRun> => cli('import-legacy', '--from', from, '--json', ...args);
  const summary = (run: CliRun): LegacyImportSummary => JSON.parse(run.stdout) as LegacyImportSummary;

  beforeEach(() => {
    from = path.join(home, 'legacy');
    fs.cpSync(path.join(FIXTURES_DIR, 'legacy', 'tree'), from, { recursive: true });
  });

  it('does not follow a link out of the tree, and never prints what the file it names holds', async () => {
    // A link that stays inside the tree is read as what it points to.
    fs.mkdirSync(path.join(from, 'moved'));
    fs.renameSync(path.join(from, 'queue', 'zeta'), path.join(from, 'moved', 'zeta'));
    fs.symlinkSync(path.join('..', 'moved', 'zeta'), path.join(from, 'queue', 'zeta'));
    const secret = path.join(home, 'secret.txt');
    fs.writeFileSync(secret, 'TOP-SECRET-CONTENT of a file outside the legacy tree\n');
    fs.symlinkSync(secret, path.join(from, 'queue', 'acme', 'stolen.json'));
    fs.symlinkSync(secret, path.join(from, 'audit', 'stolen.jsonl'));
    const run = await importLegacy();
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/TOP-SECRET|SECRET-CON/);
    expect(summary(run).problems).toEqual(
      expect.arrayContaining([
        { path: 'queue/acme/stolen.json', reason: 'is a symlink out of the legacy tree, so it was not followed' },
        { path: 'audit/stolen.jsonl', reason: 'is a symlink out of the legacy tree, so it was not followed' },
      ]),
    );
    expect(summary(run).proposals.imported).toBe(6);
  });

  it('reports a symlink loop as a problem of that entry and imports everything else', async () => {
    fs.symlinkSync('loop.json', path.join(from, 'queue', 'acme', 'loop.json'));
    fs.symlinkSync('spin.jsonl', path.join(from, 'audit', 'spin.jsonl'));
    const run = await importLegacy();
    expect(run.code, run.stderr).toBe(1);
    const result = summary(run);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        { path: 'queue/acme/loop.json', reason: 'is a symlink loop, so it was not followed' },
        { path: 'audit/spin.jsonl', reason: 'is a symlink loop, so it was not followed' },
      ]),
    );
    expect(result.proposals.imported).toBe(6);
    expect(result.auditLines.imported).toBe(5);
    expect(result.countsVerified).toBe(true);
  });

  it('after a rollback past the legacy-imports migration, importing again adds nothing', async () => {
    const auditCount = (): number => {
      const db = new Database(dbFile(), { readonly: true });
      try {
        return db.prepare('SELECT count(*) FROM audit_entries').pluck().get() as number;
      } finally {
        db.close();
      }
    };
    const head = async (): Promise<unknown> => (JSON.parse((await cli('audit', 'verify', '--json')).stdout) as { head: unknown }).head;
    expect(summary(await importLegacy()).auditLines.imported).toBe(5);
    const imported = auditCount();
    const headBefore = await head();
    expect((await cli('db', 'rollback', '--to', '0001', '--yes')).code).toBe(0);
    expect((await cli('db', 'migrate')).code).toBe(0);

    const dry = summary(await importLegacy('--dry-run'));
    expect(dry.auditLines).toMatchObject({ imported: 0, alreadyPresent: 6 });
    const again = summary(await importLegacy());
    expect(again.auditLines).toMatchObject({ imported: 0, alreadyPresent: 6 });
    expect(again.proposals.imported).toBe(0);
    expect(again.countsVerified).toBe(true);
    expect(auditCount()).toBe(imported);
    expect(await head()).toEqual(headBefore);
  });
});
