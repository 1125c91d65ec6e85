import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkHostLayout } from '../src/admin/check.js';
import { sha256 } from '../src/core/hash.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { openHostKeyring } from '../src/keys/keyring.js';
import { BELL_KEPT_OPEN_MS, Doorbells } from '../src/notify/doorbells.js';
import type { ChangeEvent } from '../src/notify/events.js';
import { ChangeNotifier, type Notification } from '../src/notify/notifier.js';
import { QueueStore } from '../src/queue/queue-store.js';
import { openConnection } from '../src/storage/connection.js';
import { sharedDbFile, sharedDir } from '../src/storage/layout.js';

const ROUTES = 'routes:\n  - host: api.example.com\n';
const HOUR_MS = 3_600_000;
const WAKE_TEST_TIMEOUT_MS = 30_000;

let dir: string;
let file: string;
let host: SuperviseDatabase;
const closers: Array<() => Promise<unknown> | unknown> = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bells-'));
  file = path.join(dir, 'bot-bottle.db');
  host = await openHostDatabase({ path: file, watch: false });
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await host.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const enqueue = (slug: string) => host.queue.writeProposal(slug, { kind: 'egress-allow', payload: ROUTES, origin: 'agent', justification: 'needs the API' });
const bell = (slug?: string) => path.join(dir, slug === undefined ? 'bot-bottle.db-bell' : `bot-bottle.db-bell.${slug}`);

/** Resolves with whether `target` saw a file event within `ms`. */
function eventWithin(target: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const watcher = fs.watch(target, () => {
      clearTimeout(timer);
      watcher.close();
      resolve(true);
    });
    const timer = setTimeout(() => {
      watcher.close();
      resolve(false);
    }, ms);
  });
}

describe('writers ring after their commits', () => {
  it('the all-bottles bell and the bell of the bottle a commit concerns, and no other bottle\'s', async () => {
    await enqueue('alpha');
    await enqueue('beta');
    expect(fs.statSync(bell()).isFile()).toBe(true);
    // A ring writes one byte at the start of the bell: it never grows.
    expect(fs.statSync(bell('alpha')).size).toBeLessThanOrEqual(1);

    const alphaRang = eventWithin(bell('alpha'), 300);
    const allRang = eventWithin(bell(), 300);
    await enqueue('beta');
    expect(await alphaRang).toBe(false);
    expect(await allRang).toBe(true);

    const rang = eventWithin(bell('alpha'), 5_000);
    const proposal = await enqueue('alpha');
    expect(await rang).toBe(true);

    const answerRang = eventWithin(bell('alpha'), 5_000);
    await host.queue.writeResponse('alpha', proposal.id, { status: 'rejected', responder: 'operator' });
    expect(await answerRang).toBe(true);
  });
});

describe('a bottle swaps a bell (every file in the shared directory may be hostile)', () => {
  it('a link in a bell\'s place is not followed: its target is neither created nor touched', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
    closers.push(() => fs.rmSync(outside, { recursive: true, force: true }));
    const existing = path.join(outside, 'authorized_keys');
    fs.writeFileSync(existing, 'ssh-ed25519 AAAA user\n');
    const old = new Date('2020-01-01T00:00:00Z');
    fs.utimesSync(existing, old, old);
    fs.symlinkSync(existing, bell('alpha'));
    fs.symlinkSync(path.join(outside, 'planted'), bell());

    await enqueue('alpha');

    expect(fs.statSync(existing).mtimeMs).toBe(old.getTime());
    expect(fs.readFileSync(existing, 'utf8')).toBe('ssh-ed25519 AAAA user\n');
    expect(fs.existsSync(path.join(outside, 'planted'))).toBe(false);
  });

  it('a bell hard-linked to the database leaves the database\'s bytes as they were', async () => {
    await enqueue('alpha');
    fs.rmSync(bell('alpha'));
    fs.linkSync(file, bell('alpha'));
    const before = sha256(fs.readFileSync(file).toString('latin1'));

    new Doorbells(file).ring(['alpha']);

    expect(sha256(fs.readFileSync(file).toString('latin1'))).toBe(before);
  });

  it('a copy of the database, or any file with more in it than a ring writes, put in a bell\'s place keeps its bytes', async () => {
    await enqueue('alpha');
    fs.rmSync(bell('alpha'));
    fs.copyFileSync(file, bell('alpha'));
    fs.writeFileSync(bell(), 'xy');
    const before = fs.readFileSync(bell('alpha'));

    new Doorbells(file).ring(['alpha']);

    expect(fs.readFileSync(bell('alpha')).equals(before)).toBe(true);
    expect(fs.readFileSync(bell(), 'utf8')).toBe('xy');
  });

  it('a bell hard-linked to an empty file elsewhere leaves that file empty', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'outside-'));
    closers.push(() => fs.rmSync(outside, { recursive: true, force: true }));
    const marker = path.join(outside, 'empty-marker');
    fs.writeFileSync(marker, '');
    fs.linkSync(marker, bell('alpha'));

    new Doorbells(file).ring(['alpha']);

    expect(fs.statSync(marker).size).toBe(0);
  });

  it('a FIFO in a bell\'s place is not even opened, so a bottle reading it learns nothing', async () => {
    execFileSync('mkfifo', [bell('alpha')]);
    // A reader's open of a FIFO returns only once a writer opens it; `timeout` ends it (124) otherwise.
    const reader = spawn('timeout', ['2', 'cat', bell('alpha')], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => reader.on('exit', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));

    new Doorbells(file).ring(['alpha']);

    expect(await exited).toBe(124);
  });

  it('a bell replaced after a ring is rung again within a second, for a watcher that only knows the new one', async () => {
    await enqueue('alpha');
    fs.rmSync(bell('alpha'));
    fs.writeFileSync(bell('alpha'), '');
    const seen = await watchAlpha(HOUR_MS);

    // Past the check a new subscription makes at once, so only a ring can tell it of what follows.
    await new Promise((resolve) => setTimeout(resolve, 50));
    let proposal = await enqueue('alpha');
    for (let waited = 0; !seen.includes(proposal.id) && waited < BELL_KEPT_OPEN_MS + 2_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!seen.includes(proposal.id)) proposal = await enqueue('alpha');
    }
    expect(seen).toContain(proposal.id);
  });

  it('a FIFO in a bell\'s place does not block the writer', async () => {
    execFileSync('mkfifo', [bell('alpha')]);
    await enqueue('alpha');
    await enqueue('alpha');
    expect(fs.lstatSync(bell('alpha')).isFIFO()).toBe(true);
  });

  it('a directory or a link in a bell\'s place costs the watcher its ring, not its answer: the poll delivers', async () => {
    fs.mkdirSync(bell('alpha'));
    const db = openConnection(file);
    const notifier = new ChangeNotifier(db, { dbFile: file, watch: true, urgentPollMs: 200, idlePollMs: HOUR_MS });
    closers.push(() => db.close(), () => notifier.close());
    const queue = new QueueStore(db, { notifier, keyring: openHostKeyring() });
    const proposal = await enqueue('alpha');
    const waiting = queue.waitForResponse('alpha', proposal.id, { timeoutMs: 20_000 });
    await host.queue.writeResponse('alpha', proposal.id, { status: 'approved', responder: 'operator' });
    expect(await waiting).toMatchObject({ outcome: 'answered' });
  });
});

/** The inodes this process has inotify watches on (Linux: /proc/self/fdinfo of each inotify descriptor). */
function inotifyWatchedInodes(): Set<number> {
  const inodes = new Set<number>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:inotify') continue;
    for (const match of fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').matchAll(/^inotify wd:\S+ ino:([0-9a-f]+)/gm)) inodes.add(Number.parseInt(match[1] as string, 16));
  }
  return inodes;
}

/** Waits (up to 5 s) until this process has an inotify watch on bottle alpha's bell as it is now. */
async function untilAlphaBellWatched(): Promise<void> {
  for (let waited = 0; !inotifyWatchedInodes().has(fs.statSync(bell('alpha')).ino) && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** A notifier on a connection of its own, polling every `pollMs`, subscribed to bottle alpha once its bell is watched: the proposal ids it is told of. */
async function watchAlpha(pollMs: number): Promise<string[]> {
  const db = openConnection(file);
  const notifier = new ChangeNotifier(db, { dbFile: file, watch: true, urgentPollMs: pollMs, idlePollMs: pollMs });
  closers.push(() => db.close(), () => notifier.close());
  const seen: string[] = [];
  notifier.subscribe((events: Notification[]) => seen.push(...events.flatMap((event) => (event.type === 'resync' ? [] : [event.proposalId]))), { slug: 'alpha' });
  await untilAlphaBellWatched();
  return seen;
}

describe('a watcher of one bottle', () => {
  it('watches its bell file itself, never the shared directory every commit writes its WAL into', async () => {
    const db = openConnection(file);
    const notifier = new ChangeNotifier(db, { dbFile: file, watch: true, urgentPollMs: HOUR_MS, idlePollMs: HOUR_MS });
    closers.push(() => db.close(), () => notifier.close());
    notifier.subscribe(() => undefined, { slug: 'alpha' });
    await untilAlphaBellWatched();
    const watched = inotifyWatchedInodes();
    expect(watched.has(fs.statSync(bell('alpha')).ino)).toBe(true);
    expect(watched.has(fs.statSync(dir).ino)).toBe(false);
  });

  it('never makes a removed bell again itself (the directory may be being removed), and watches it again once a writer has', async () => {
    await watchAlpha(50);
    fs.rmSync(bell('alpha'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fs.existsSync(bell('alpha'))).toBe(false);
    // The next ring makes the bell; the poll finds it and watches it.
    await enqueue('alpha');
    for (let waited = 0; !(fs.existsSync(bell('alpha')) && inotifyWatchedInodes().has(fs.statSync(bell('alpha')).ino)) && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(inotifyWatchedInodes().has(fs.statSync(bell('alpha')).ino)).toBe(true);
  });

  it('keeps hearing its bell after the file is replaced', async () => {
    const seen = await watchAlpha(HOUR_MS);
    fs.rmSync(bell('alpha'));
    fs.writeFileSync(bell('alpha'), '');
    await untilAlphaBellWatched();
    const proposal = await enqueue('alpha');
    for (let waited = 0; !seen.includes(proposal.id) && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toContain(proposal.id);
  });

  it(
    'is woken by that bottle\'s commits in another connection with its poll an hour away, and is told of that bottle\'s events only',
    async () => {
      const db = openConnection(file);
      const notifier = new ChangeNotifier(db, { dbFile: file, watch: true, urgentPollMs: HOUR_MS, idlePollMs: HOUR_MS });
      closers.push(() => db.close(), () => notifier.close());
      const seen: ChangeEvent[] = [];
      notifier.subscribe(
        (events: Notification[]) => {
          for (const event of events) if (event.type !== 'resync') seen.push(event);
        },
        { slug: 'alpha' },
      );
      // The watch is in place once a ring gets through.
      for (let tries = 0; seen.length === 0; tries += 1) {
        if (tries > 50) throw new Error('the bell watcher never reported a commit');
        await enqueue('alpha');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      seen.length = 0;

      await enqueue('beta');
      const alpha = await enqueue('alpha');
      await enqueue('beta');
      const answered = host.queue.writeResponse('alpha', alpha.id, { status: 'approved', responder: 'operator' });
      await answered;
      for (let waited = 0; seen.length < 2 && waited < 10_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));

      expect(seen.map((event) => [event.type, event.slug, event.proposalId])).toEqual([
        ['created', 'alpha', alpha.id],
        ['answered', 'alpha', alpha.id],
      ]);
    },
    WAKE_TEST_TIMEOUT_MS,
  );
});

describe('db check', () => {
  it('counts the bells as part of the shared directory, and a link named like one as a stranger', async () => {
    const layout = await openHostDatabase();
    closers.push(() => layout.close());
    await layout.queue.writeProposal('alpha', { kind: 'egress-allow', payload: ROUTES, origin: 'agent' });
    expect(fs.readdirSync(sharedDir()).filter((name) => name.includes('-bell'))).toEqual(['bot-bottle.db-bell', 'bot-bottle.db-bell.alpha']);
    expect(checkHostLayout().filter((check) => !check.ok)).toEqual([]);

    fs.symlinkSync(sharedDbFile(), path.join(sharedDir(), 'bot-bottle.db-bell.beta'));
    const contents = checkHostLayout().find((check) => check.name === 'shared directory contents');
    expect(contents).toMatchObject({ ok: false, detail: expect.stringContaining('bot-bottle.db-bell.beta') });
  });
});
