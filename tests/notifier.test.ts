import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnection, type Db } from '../src/storage/connection.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import type { ChangeEvent, ChangeType } from '../src/notify/events.js';
import { ChangeNotifier, type Notification } from '../src/notify/notifier.js';
import { QueueStore } from '../src/queue/queue-store.js';
import { openHostKeyring } from '../src/keys/keyring.js';
import type { NewResponse } from '../src/kinds/response.js';
import { Children, type FixtureChild, type Message } from './fixtures/wake-children.js';

const ROUTES = 'routes:\n  - host: api.example.com\n';
const MODIFIED_ROUTES = 'routes:\n  - host: api.example.com\n    path_allowlist: ["/v1/"]\n';
/**
 * Waits longer than any test may run: a waiter that resolves did so because it was woken, not
 * because its deadline came and it looked once more.
 */
const NEVER_MS = 600_000;
/** Generous for a wake that takes milliseconds; only a waiter that is never woken runs into it. */
const WAKE_TEST_TIMEOUT_MS = 30_000;
const HOUR_MS = 3_600_000;

const children = new Children();
let dir: string;
let file: string;
let host: SuperviseDatabase;
const extraConnections: Array<{ close(): unknown }> = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wake-'));
  file = path.join(dir, 'bot-bottle.db');
  host = await openHostDatabase({ path: file });
});

afterEach(async () => {
  await children.killAll();
  for (const connection of extraConnections.splice(0)) await connection.close();
  await host.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function enqueue(slug: string, overrides: { kind?: string; ttlMs?: number } = {}) {
  return host.queue.writeProposal(slug, { kind: overrides.kind ?? 'egress-allow', payload: ROUTES, origin: 'agent', justification: 'needs the API', ...(overrides.ttlMs === undefined ? {} : { ttlMs: overrides.ttlMs }) });
}

function startWaiter(options: { slug: string; id: string; timeouts: number[]; watch: boolean }): FixtureChild {
  return children.fixture('wake-waiter.ts', [JSON.stringify({ path: file, side: 'sidecar', ...options })]);
}

function startSubscriber(options: { side: 'host' | 'sidecar'; slug?: string }): FixtureChild {
  return children.fixture('wake-subscriber.ts', [JSON.stringify({ path: file, watch: true, ...options })]);
}

/** Collects notified change events until one for `sentinelId` arrives. */
async function eventsUntil(child: FixtureChild, sentinelId: string): Promise<ChangeEvent[]> {
  const seen: ChangeEvent[] = [];
  for (;;) {
    const message = await child.nextEvent('notified');
    const events = (message.events as Notification[]).filter((event): event is ChangeEvent => event.type !== 'resync');
    seen.push(...events);
    if (events.some((event) => event.proposalId === sentinelId)) return seen;
  }
}

describe.each([
  { watch: true, how: 'file watcher and poll' },
  { watch: false, how: 'poll alone (file watcher disabled)' },
])('a waiter in another process, woken by the $how', ({ watch }) => {
  const answers: Array<{ name: string; response: NewResponse; expected: Message }> = [
    { name: 'approved', response: { status: 'approved', responder: 'operator', notes: 'fine' }, expected: { status: 'approved', notes: 'fine', finalPayload: null } },
    {
      name: 'modified',
      response: { status: 'modified', responder: 'operator', notes: 'only /v1/', finalPayload: MODIFIED_ROUTES },
      expected: { status: 'modified', notes: 'only /v1/', finalPayload: MODIFIED_ROUTES },
    },
    { name: 'rejected', response: { status: 'rejected', responder: 'operator', notes: 'not today' }, expected: { status: 'rejected', notes: 'not today', finalPayload: null } },
  ];

  it.each(answers)(
    'resolves with the $name response',
    async ({ response, expected }) => {
      const proposal = await enqueue('acme');
      const waiter = startWaiter({ slug: 'acme', id: proposal.id, timeouts: [NEVER_MS], watch });
      await waiter.nextEvent('waiting');

      await host.queue.writeResponse('acme', proposal.id, response);

      expect(await waiter.nextEvent('outcome')).toEqual({ event: 'outcome', attempt: 0, outcome: 'answered', state: 'answered', ...expected });
      expect(await waiter.exited).toEqual({ code: 0, signal: null });
    },
    WAKE_TEST_TIMEOUT_MS,
  );

  it(
    'times out as pending naming the id, leaves the proposal queued, and resumes on the next wait',
    async () => {
      const proposal = await enqueue('acme');
      const waiter = startWaiter({ slug: 'acme', id: proposal.id, timeouts: [300, NEVER_MS], watch });

      expect(await waiter.nextEvent('outcome')).toEqual({ event: 'outcome', attempt: 0, outcome: 'pending', state: 'pending', proposalId: proposal.id });
      expect(host.queue.readProposal('acme', proposal.id)?.state).toBe('pending');
      expect(host.queue.listPendingProposals().map((p) => p.id)).toEqual([proposal.id]);

      expect(await waiter.nextEvent('waiting')).toMatchObject({ attempt: 1 });
      await host.queue.writeResponse('acme', proposal.id, { status: 'approved', responder: 'operator' });
      expect(await waiter.nextEvent('outcome')).toMatchObject({ attempt: 1, outcome: 'answered', status: 'approved' });
      expect(await waiter.exited).toEqual({ code: 0, signal: null });
      expect(host.db.prepare('SELECT count(*) FROM proposals').pluck().get()).toBe(1);
    },
    WAKE_TEST_TIMEOUT_MS,
  );

  it(
    'resolves an expiring proposal as expired, never as rejected, with an audit entry',
    async () => {
      const proposal = await enqueue('acme', { ttlMs: 400 });
      const waiter = startWaiter({ slug: 'acme', id: proposal.id, timeouts: [NEVER_MS], watch });

      expect(await waiter.nextEvent('outcome')).toEqual({ event: 'outcome', attempt: 0, outcome: 'expired', state: 'expired' });
      expect(await waiter.exited).toEqual({ code: 0, signal: null });

      expect(host.queue.readProposal('acme', proposal.id)?.state).toBe('expired');
      expect(host.queue.readResponse('acme', proposal.id)).toBeUndefined();
      const entries = host.audit.readAuditEntries({ proposalId: proposal.id });
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ slug: 'acme', action: 'expired', status: 'expired', kind: 'egress-allow' });
      await expect(host.queue.writeResponse('acme', proposal.id, { status: 'approved', responder: 'operator' })).rejects.toMatchObject({ name: 'SuperviseError', code: 'conflict' });
      expect(host.audit.verify().ok).toBe(true);
    },
    WAKE_TEST_TIMEOUT_MS,
  );
});

describe('waking: the edges', () => {
  it(
    'a wait started after a timeout in another process finds an answer given meanwhile',
    async () => {
      const proposal = await enqueue('acme');
      const first = startWaiter({ slug: 'acme', id: proposal.id, timeouts: [200], watch: true });
      expect(await first.nextEvent('outcome')).toMatchObject({ outcome: 'pending', proposalId: proposal.id });
      await host.queue.writeResponse('acme', proposal.id, { status: 'rejected', responder: 'operator', notes: 'no' });

      const second = startWaiter({ slug: 'acme', id: proposal.id, timeouts: [NEVER_MS], watch: true });
      expect(await second.nextEvent('outcome')).toMatchObject({ outcome: 'answered', status: 'rejected', notes: 'no' });
    },
    WAKE_TEST_TIMEOUT_MS,
  );

  it(
    'waiters that come and go faster than the poll do not starve it (watcher off)',
    async () => {
      const db = openConnection(file);
      const notifier = new ChangeNotifier(db, { dbFile: file, watch: false, urgentPollMs: 200, idlePollMs: HOUR_MS });
      extraConnections.push({ close: async () => (await notifier.close(), db.close()) });
      const queue = new QueueStore(db, { notifier, keyring: openHostKeyring() });
      const proposal = await enqueue('acme');
      const waiting = queue.waitForResponse('acme', proposal.id, { timeoutMs: NEVER_MS });
      // Short calls of a busy sidecar: each subscribes and leaves well within one poll interval.
      const churn = setInterval(() => notifier.subscribe(() => undefined, { urgent: true })(), 50);
      try {
        await host.queue.writeResponse('acme', proposal.id, { status: 'approved', responder: 'operator' });
        expect(await waiting).toMatchObject({ outcome: 'answered', response: { status: 'approved' } });
      } finally {
        clearInterval(churn);
      }
    },
    // One 200 ms poll suffices; a starved poll lets the waiter sleep until its far deadline.
    10_000,
  );

  it(
    'an expired proposal nobody waits on is expired, with its audit entry, by the next writer',
    async () => {
      const stale = await enqueue('acme', { ttlMs: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(host.queue.listPendingProposals()).toEqual([]);

      const other = await openHostDatabase({ path: file, watch: false });
      extraConnections.push(other);
      await other.queue.writeProposal('beta', { kind: 'egress-block', payload: ROUTES, origin: 'agent' });

      expect(host.queue.readProposal('acme', stale.id)?.state).toBe('expired');
      expect(host.audit.readAuditEntries({ proposalId: stale.id, action: 'expired' })).toHaveLength(1);
    },
    WAKE_TEST_TIMEOUT_MS,
  );
});

describe('subscriptions across processes', () => {
  it(
    '"new pending proposals" fires for every bottle\'s operator proposals enqueued by another process, and nothing else',
    async () => {
      const operator = startSubscriber({ side: 'host' });
      await operator.nextEvent('ready');

      const alpha = await enqueue('alpha');
      const downward = await enqueue('alpha', { kind: 'egress-routes-apply' });
      const beta = await enqueue('beta');
      await host.queue.writeResponse('alpha', alpha.id, { status: 'approved', responder: 'operator' });
      const sentinel = await enqueue('gamma');

      const seen = await eventsUntil(operator, sentinel.id);
      expect(seen.map((event) => event.proposalId)).toEqual([alpha.id, beta.id, sentinel.id]);
      expect(seen.map((event) => [event.type, event.target])).toEqual(Array(3).fill(['created', 'operator']));
      expect(downward.target).toBe('sidecar');

      operator.endInput();
      expect(await operator.nextEvent('closed')).toBeTruthy();
      expect(await operator.exited).toEqual({ code: 0, signal: null });
    },
    WAKE_TEST_TIMEOUT_MS,
  );

  it(
    '"proposals addressed to my slug" fires only for that slug\'s downward proposals',
    async () => {
      const sidecar = startSubscriber({ side: 'sidecar', slug: 'alpha' });
      await sidecar.nextEvent('ready');

      await enqueue('beta', { kind: 'egress-routes-apply' });
      await enqueue('alpha');
      const first = await enqueue('alpha', { kind: 'egress-routes-apply' });
      await enqueue('beta', { kind: 'egress-routes-apply' });
      const second = await enqueue('alpha', { kind: 'egress-routes-apply' });

      const seen = await eventsUntil(sidecar, second.id);
      expect(seen.map((event) => event.proposalId)).toEqual([first.id, second.id]);
      expect(seen.every((event) => event.slug === 'alpha' && event.target === 'sidecar' && event.type === 'created')).toBe(true);

      sidecar.endInput();
      expect(await sidecar.exited).toEqual({ code: 0, signal: null });
    },
    WAKE_TEST_TIMEOUT_MS,
  );
});

describe('own commits', () => {
  /** A store whose notifier can only learn of changes from pokes: no watcher, a poll once an hour. */
  function pokeOnlyStore(): { db: Db; queue: QueueStore; notifier: ChangeNotifier } {
    const db = openConnection(file);
    const notifier = new ChangeNotifier(db, { dbFile: file, watch: false, urgentPollMs: HOUR_MS, idlePollMs: HOUR_MS });
    extraConnections.push({ close: async () => (await notifier.close(), db.close()) });
    return { db, queue: new QueueStore(db, { notifier, keyring: openHostKeyring() }), notifier };
  }

  it('do not move data_version, while another connection\'s commit does', async () => {
    const { db, queue } = pokeOnlyStore();
    const version = (): number => db.pragma('data_version', { simple: true }) as number;
    const before = version();
    const mine = await queue.writeProposal('acme', { kind: 'egress-allow', payload: ROUTES, origin: 'agent' });
    await queue.writeResponse('acme', mine.id, { status: 'approved', responder: 'operator' });
    expect(version()).toBe(before);

    await enqueue('acme');
    expect(version()).not.toBe(before);
  });

  it(
    'still resolve this process\'s waiters and subscribers (poke), each event once',
    async () => {
      const { queue, notifier } = pokeOnlyStore();
      const received: Array<[ChangeType, string]> = [];
      const unsubscribe = queue.subscribe({}, (events) => {
        for (const event of events) if (event.type !== 'resync') received.push([event.type, event.proposalId]);
      });

      const proposal = await queue.writeProposal('acme', { kind: 'egress-allow', payload: ROUTES, origin: 'agent' });
      const waiting = queue.waitForResponse('acme', proposal.id, { timeoutMs: NEVER_MS });
      await queue.writeResponse('acme', proposal.id, { status: 'modified', responder: 'operator', finalPayload: MODIFIED_ROUTES });
      const outcome = await waiting;
      expect(outcome).toMatchObject({ outcome: 'answered', response: { status: 'modified', finalPayload: MODIFIED_ROUTES } });
      await queue.archiveProposal('acme', proposal.id);
      await new Promise((resolve) => setImmediate(resolve));

      expect(received).toEqual([
        ['created', proposal.id],
        ['answered', proposal.id],
        ['archived', proposal.id],
      ]);
      unsubscribe();
      expect(notifier.subscriberCount).toBe(0);
    },
    WAKE_TEST_TIMEOUT_MS,
  );

  it(
    'the file watcher alone wakes a waiter for a commit that follows another within milliseconds',
    async () => {
      const db = openConnection(file);
      const notifier = new ChangeNotifier(db, { dbFile: file, watch: true, urgentPollMs: HOUR_MS, idlePollMs: HOUR_MS });
      extraConnections.push({ close: async () => (await notifier.close(), db.close()) });
      const queue = new QueueStore(db, { notifier, keyring: openHostKeyring() });

      // The watcher starts with the first subscription and misses what happens before it is ready.
      const seen = new Set<string>();
      queue.subscribe({}, (events) => {
        for (const event of events) if (event.type !== 'resync') seen.add(event.proposalId);
      });
      for (let tries = 0; ; tries += 1) {
        const warmUp = await enqueue('warm');
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (seen.has(warmUp.id)) break;
        if (tries > 50) throw new Error('the file watcher never reported a commit');
      }

      for (let round = 0; round < 5; round += 1) {
        const proposal = await enqueue('acme');
        const waiting = queue.waitForResponse('acme', proposal.id, { timeoutMs: NEVER_MS });
        await host.queue.writeResponse('acme', proposal.id, { status: 'approved', responder: 'operator' });
        expect(await waiting).toMatchObject({ outcome: 'answered' });
      }
    },
    WAKE_TEST_TIMEOUT_MS,
  );
});

describe('closing', () => {
  it.each([
    { watch: true, inFlight: false, how: 'with the file watcher' },
    { watch: false, inFlight: false, how: 'without the file watcher' },
    { watch: true, inFlight: true, how: 'while a wait is still running, which ends as pending' },
  ])(
    'leaves no open handles: a child that opens, subscribes, waits and closes exits on its own ($how)',
    async ({ watch, inFlight }) => {
      const child = children.fixture('wake-close.ts', [JSON.stringify({ path: file, side: 'host', watch, inFlight })]);
      const closed = await child.nextEvent('closed');
      expect(closed).toMatchObject({ timedOut: 'pending', outcome: inFlight ? 'pending' : 'answered', seen: [closed.proposalId] });
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(host.queue.readProposal('closer', closed.proposalId as string)?.state).toBe(inFlight ? 'pending' : 'archived');
    },
    WAKE_TEST_TIMEOUT_MS,
  );
});
