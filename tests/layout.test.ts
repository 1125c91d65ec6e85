import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnection } from '../src/storage/connection.js';
import { openHostDatabase, openSidecarDatabase } from '../src/database.js';
import { DB_FILENAME } from '../src/storage/database-file.js';
import { ensureHostLayout, hostDbPath, inspectHostLink, sharedDbFile, sharedDir, stateDir } from '../src/storage/layout.js';
import { expectFailure, ROUTES_YAML, tempDir } from './fixtures/storage-support.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';

/** Every path under `root` with its type, mode and content (or link target): equal means untouched. */
function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = fs.lstatSync(full);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) out[full] = `link -> ${fs.readlinkSync(full)}`;
      else if (stat.isDirectory()) {
        out[full] = `dir ${mode}`;
        walk(full);
      } else out[full] = `file ${mode} ${fs.readFileSync(full).toString('base64')}`;
    }
  };
  walk(root);
  return out;
}

const modeOf = (file: string): number => fs.statSync(file).mode & 0o777;

let home: string;
let savedHome: string | undefined;

beforeEach(() => {
  savedHome = process.env.HOME;
  home = tempDir('home');
  process.env.HOME = home;
});

afterEach(() => {
  if (savedHome === undefined) delete process.env.HOME;
  else process.env.HOME = savedHome;
  fs.rmSync(home, { recursive: true, force: true });
});

describe('ensureHostLayout', () => {
  it('creates the shared directory (0700), the database file (0600) and a relative symlink to it', () => {
    expect(hostDbPath()).toBe(path.join(home, '.bot-bottle', DB_FILENAME));
    expect(sharedDbFile()).toBe(path.join(home, '.bot-bottle', 'supervise', DB_FILENAME));

    const returned = ensureHostLayout();

    expect(returned).toBe(hostDbPath());
    expect(fs.statSync(sharedDir()).isDirectory()).toBe(true);
    expect(modeOf(sharedDir())).toBe(0o700);
    expect(fs.statSync(sharedDbFile()).isFile()).toBe(true);
    expect(modeOf(sharedDbFile())).toBe(0o600);
    expect(fs.lstatSync(hostDbPath()).isSymbolicLink()).toBe(true);
    // Relative, so the layout survives the home directory being moved or mounted elsewhere.
    expect(fs.readlinkSync(hostDbPath())).toBe(path.join('supervise', DB_FILENAME));
    expect(fs.realpathSync(hostDbPath())).toBe(fs.realpathSync(sharedDbFile()));
    expect(inspectHostLink()).toEqual({ kind: 'ok' });
  });

  it('is idempotent and tightens a shared directory that was left open', () => {
    ensureHostLayout();
    fs.chmodSync(sharedDir(), 0o755);
    const before = snapshotTree(home);

    ensureHostLayout();

    expect(modeOf(sharedDir())).toBe(0o700);
    expect(snapshotTree(home)).toEqual({ ...before, [sharedDir()]: 'dir 700' });
  });

  it('repairs a deleted link without touching the database behind it', async () => {
    const first = await openHostDatabase({ watch: false });
    const proposal = await first.queue.writeProposal('acme-api', { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
    await first.close();

    fs.unlinkSync(hostDbPath());
    expect(inspectHostLink()).toEqual({ kind: 'missing' });

    ensureHostLayout();
    expect(inspectHostLink()).toEqual({ kind: 'ok' });
    const again = await openHostDatabase({ watch: false });
    try {
      expect(again.queue.readProposal('acme-api', proposal.id)?.payload).toBe(ROUTES_YAML);
    } finally {
      await again.close();
    }
  });

  describe('refuses, explains the fix and writes nothing when something else holds the link path', () => {
    const cases: Array<{ name: string; occupy: () => void; message: RegExp }> = [
      {
        name: 'a regular file (an old standalone database)',
        occupy: () => {
          fs.mkdirSync(stateDir(), { recursive: true });
          fs.writeFileSync(hostDbPath(), 'SQLite format 3\0 pretend old database');
        },
        message: /is a regular file.*bot-bottle db adopt/s,
      },
      {
        name: 'a directory',
        occupy: () => fs.mkdirSync(hostDbPath(), { recursive: true }),
        message: /is a directory.*Move the directory away/s,
      },
      {
        name: 'a symlink to somewhere else',
        occupy: () => {
          fs.mkdirSync(stateDir(), { recursive: true });
          fs.symlinkSync('/var/lib/elsewhere.db', hostDbPath());
        },
        message: /symlink to \/var\/lib\/elsewhere\.db.*rm .*bot-bottle\.db/s,
      },
      {
        name: 'a symlink to the right file name by an absolute path into another home',
        occupy: () => {
          fs.mkdirSync(stateDir(), { recursive: true });
          fs.symlinkSync(path.join('/home/someone-else/.bot-bottle/supervise', DB_FILENAME), hostDbPath());
        },
        message: /is a symlink to \/home\/someone-else/,
      },
    ];

    for (const { name, occupy, message } of cases) {
      it(name, async () => {
        occupy();
        const before = snapshotTree(home);

        await expectFailure(() => ensureHostLayout(), 'layout', message);
        expect(snapshotTree(home)).toEqual(before);
        expect(fs.existsSync(sharedDir())).toBe(false);

        // The opener goes through the same check.
        await expectFailure(() => openHostDatabase({ watch: false }), 'layout', message);
        expect(snapshotTree(home)).toEqual(before);
      });
    }
  });
});

describe('the host database through the link', () => {
  it('keeps the -wal and -shm side files and the doorbells in the shared directory, not beside the link', async () => {
    const database = await openHostDatabase({ watch: false });
    try {
      await database.queue.writeProposal('acme-api', { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
      expect(database.path).toBe(hostDbPath());

      const shared = fs.readdirSync(sharedDir()).sort();
      expect(shared).toEqual([DB_FILENAME, `${DB_FILENAME}-bell`, `${DB_FILENAME}-bell.acme-api`, `${DB_FILENAME}-shm`, `${DB_FILENAME}-wal`]);
      expect(fs.statSync(path.join(sharedDir(), `${DB_FILENAME}-wal`)).size).toBeGreaterThan(0);
      // The host's keys (made when it first signed) live beside the shared directory, never in it.
      expect(fs.readdirSync(stateDir()).sort()).toEqual([DB_FILENAME, 'keys', 'supervise']);

      // A second connection through the shared path (the sidecar's view) sees the same data.
      const sidecar = openSidecarDatabase('acme-api', { path: sharedDbFile(), watch: false, keysDir: bottleKeysDir('acme-api') });
      try {
        expect(sidecar.queue.listPendingProposals()).toHaveLength(1);
      } finally {
        await sidecar.close();
      }
    } finally {
      await database.close();
    }
  });
});

describe('opening a path that is not a database file', () => {
  it('openConnection names a directory as the problem and leaves it alone', async () => {
    const dir = path.join(home, 'not-a-db');
    fs.mkdirSync(dir);

    await expectFailure(() => openConnection(dir), 'layout', /not-a-db is a directory, not a database file\. Point at the database file itself/);
    await expectFailure(() => openHostDatabase({ path: dir, watch: false }), 'layout', /is a directory/);
    await expectFailure(() => openSidecarDatabase('acme', { path: dir }), 'layout', /is a directory/);
    expect(fs.readdirSync(dir)).toEqual([]);
    expect(fs.readdirSync(home)).toEqual(['not-a-db']);
  });

  it('a sidecar never creates a missing database; it says the mount is missing', async () => {
    const missing = path.join(home, 'run', 'supervise', DB_FILENAME);
    fs.mkdirSync(path.dirname(missing), { recursive: true });

    await expectFailure(() => openSidecarDatabase('acme', { path: missing }), 'layout', /no database at .*shared directory mounted/);
    expect(fs.readdirSync(path.dirname(missing))).toEqual([]);
  });
});
