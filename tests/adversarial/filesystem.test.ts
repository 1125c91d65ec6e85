// Threat: every sidecar has the shared directory mounted read-write, so a compromised one can put
// anything there. From a real container, replacing bot-bottle.db with a symlink to a file of the
// host user made the operator's next `supervise --once` migrate that file (WAL mode, six tables)
// and report "No pending proposals". The host now opens the database only when the file in the
// shared directory is a regular file the user owns, and each side file present (-wal, -shm,
// -journal) likewise: anything else is refused with its fix, nothing is written, and the file the
// link names is left exactly as it was.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase } from '../../src/database.js';
import { prepareSupervise } from '../../src/launcher/launcher.js';
import { assertBuilt, killCliChildren, runCli, snapshotTree, type CliRun } from '../fixtures/cli-support.js';
import { NODE, detectPodman, hostMounts, makeRootfs } from '../fixtures/podman.js';
import { killChildren, runSidecar } from '../fixtures/sidecar-harness.js';
import { ROUTES_YAML, expectFailure, tempDir } from '../fixtures/storage-support.js';

const podman = detectPodman();
if (!podman.ok && !process.env.CI) console.warn(`the container case is SKIPPED: ${podman.reason}. CI runs it (and fails instead of skipping).`);

/** A database of the user's that is not bot-bottle's: what a planted link points the host at. */
const VICTIM = Buffer.from('SQLite format 3\0 stands in for a database of some other program of the user\n');

let home: string;
/** Outside `home`, so what a refused command leaves in `home` can be compared whole. */
let inputs: string;
let savedHome: string | undefined;
const shared = (): string => path.join(home, '.bot-bottle', 'supervise');
const dbFile = (): string => path.join(shared(), 'bot-bottle.db');
const cli = (...args: string[]): Promise<CliRun> => runCli(args, { home, env: { USER: 'tester' } });

function victim(name = 'victim.db', content: Buffer = VICTIM): string {
  const dir = path.join(home, 'elsewhere');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

function payload(): string {
  const file = path.join(inputs, 'routes.yaml');
  fs.writeFileSync(file, ROUTES_YAML);
  return file;
}

function expectRefused(run: CliRun, message: RegExp): void {
  expect(run.code, run.stderr).toBe(5);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/unexpected error|This is a bug/);
}

beforeEach(async () => {
  assertBuilt();
  savedHome = process.env.HOME;
  home = tempDir('adversarial-filesystem');
  inputs = tempDir('adversarial-filesystem-inputs');
  process.env.HOME = home;
  expect((await cli('db', 'migrate')).code).toBe(0);
});

afterEach(async () => {
  await killCliChildren();
  await killChildren();
  process.env.HOME = savedHome;
  fs.rmSync(home, { recursive: true, force: true });
  fs.rmSync(inputs, { recursive: true, force: true });
});

describe('the database in the shared directory replaced by a symlink', () => {
  const containers: string[] = [];
  afterAll(() => {
    for (const name of containers) spawnSync('podman', ['rm', '--force', '--time', '0', '--ignore', name], { timeout: 60_000 });
  });

  it.skipIf(!podman.ok && !process.env.CI)('planted from a real container: the host refuses it, writes nothing, and the linked file is untouched', async () => {
    if (!podman.ok) throw new Error(`podman must run in CI: ${podman.reason}`);
    // An empty file of the user's, as a freshly made database of another program would be: the old
    // host migrated exactly such a file into a supervise database.
    const target = victim('empty.db', Buffer.alloc(0));
    const name = `bot-bottle-symlink-${process.pid}-${Date.now()}`;
    containers.push(name);
    const plan = await prepareSupervise('mallory', { network: 'podman', name });
    const rootfs = makeRootfs();
    try {
      // The sidecar's mount and user exactly as the launcher gives them; the command is the attacker's.
      const args = plan.runArgs('podman', rootfs);
      args.splice(args.length - 1, 0, '--rm', ...podman.setup.run, ...hostMounts(), '--rootfs');
      const plant = "const fs = require('fs'); const dir = '/run/supervise'; for (const f of fs.readdirSync(dir)) fs.rmSync(dir + '/' + f); fs.symlinkSync(process.argv[1], dir + '/bot-bottle.db');";
      const child = spawn('podman', [...podman.setup.global, ...args, NODE, '-e', plant, target], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(code, stderr).toBe(0);
    } finally {
      fs.rmSync(rootfs, { recursive: true, force: true });
    }
    expect(fs.readlinkSync(dbFile())).toBe(target);
    const elsewhere = snapshotTree(path.dirname(target));

    const once = await cli('supervise', '--once');
    expectRefused(once, new RegExp(`supervise/bot-bottle\\.db is a symlink to ${target}, not the database file.*Remove the link \\(rm .*supervise/bot-bottle\\.db\\)`));
    expect(once.stdout).not.toMatch(/No pending proposals/);
    const check = await cli('db', 'check');
    expect(check.stdout).toMatch(/BAD {2}database file: .*bot-bottle\.db is a symlink to .*empty\.db, not the database file/);
    expect(snapshotTree(path.dirname(target))).toEqual(elsewhere);
    expect(fs.statSync(target).size).toBe(0);
  });

  it('every host entry point refuses it the same way: the CLI verbs, the launcher and the library', async () => {
    const target = victim();
    for (const name of fs.readdirSync(shared())) fs.rmSync(path.join(shared(), name));
    fs.symlinkSync(target, dbFile());
    const before = snapshotTree(home);
    const planted = /bot-bottle\.db is a symlink to .*victim\.db, not the database file: something replaced the database with a link/;
    for (const args of [
      ['supervise', '--once', '--json'],
      ['propose', '--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', payload(), '--justification', 'through a link'],
      ['audit', 'verify'],
      ['audit', 'export'],
      ['db', 'status'],
      ['db', 'migrate'],
      ['db', 'backup', path.join(home, 'copy.db')],
    ]) {
      expectRefused(await cli(...args), planted);
    }
    await expectFailure(() => openHostDatabase({ watch: false }), 'layout', planted);
    await expectFailure(() => prepareSupervise('acme'), 'layout', planted);
    expect(snapshotTree(home)).toEqual(before);
  });

  it('the sidecar refuses a link in its own directory too', async () => {
    const target = victim();
    const link = path.join(home, 'run-supervise', 'bot-bottle.db');
    fs.mkdirSync(path.dirname(link));
    fs.symlinkSync(target, link);
    const exit = await runSidecar(['serve', '--db', link, '--port', '0', '--host', '127.0.0.1'], { SUPERVISE_BOTTLE_SLUG: 'acme' });
    expect(exit.code).toBe(1);
    expect(exit.stderr).toMatch(/bot-bottle\.db is a symlink to .*victim\.db/);
    expect(fs.readFileSync(target)).toEqual(VICTIM);
  });
});

describe('side files planted beside the database', () => {
  for (const suffix of ['-wal', '-shm', '-journal']) {
    it(`a ${suffix} symlink to a file of the user's is refused by name, and the file is untouched`, async () => {
      const target = victim();
      const side = `${dbFile()}${suffix}`;
      fs.rmSync(side, { force: true });
      fs.symlinkSync(target, side);
      const before = snapshotTree(home);
      const planted = new RegExp(`bot-bottle\\.db${suffix} is a symlink to .*victim\\.db, where SQLite keeps a side file of the database: SQLite never makes a link there, so it was planted\\. Remove it \\(rm .*bot-bottle\\.db${suffix}\\)`);
      expectRefused(await cli('supervise', '--once'), planted);
      expectRefused(await cli('propose', '--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', payload(), '--justification', 'beside a link'), planted);
      const check = await cli('db', 'check');
      expect(check.stdout).toMatch(new RegExp(`BAD {2}side file: .*bot-bottle\\.db${suffix} is a symlink`));
      expect(check.stdout).not.toMatch(/Restore/);
      expect(snapshotTree(home)).toEqual(before);
    });
  }

  it('a -wal directory and a -shm of another owner are refused with what to do about each', async () => {
    fs.rmSync(`${dbFile()}-wal`, { force: true });
    fs.mkdirSync(`${dbFile()}-wal`);
    expectRefused(await cli('audit', 'verify'), /bot-bottle\.db-wal is not a regular file, where SQLite keeps a side file of the database\. Move it away/);
    fs.rmdirSync(`${dbFile()}-wal`);
    fs.writeFileSync(`${dbFile()}-shm`, Buffer.alloc(32768));
    fs.chownSync(`${dbFile()}-shm`, 4321, 4321);
    expectRefused(await cli('audit', 'verify'), /bot-bottle\.db-shm belongs to uid 4321, not to you \(uid 0\), where SQLite keeps a side file/);
  });
});
