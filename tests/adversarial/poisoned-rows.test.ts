/**
 * Every write sweeps the pending proposals of every bottle, and a bottle writes the shared file
 * with raw SQL: one row it plants must neither stop the whole plane's writes, nor sit in the
 * operator's list where no command can answer it, nor crash a list with a time no Date can show;
 * nor may an events row it plants mislead or stop a process watching for new proposals.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../../src/database.js';
import type { Notification } from '../../src/notify/notifier.js';
import { watchNewProposals, type ProposalSummary } from '../../src/queue/new-proposals.js';
import { openHostHomeForEachTest } from '../fixtures/host-home.js';
import { assertBuilt, runCli } from '../fixtures/cli-support.js';

const GOOD = 'routes:\n  - host: api.example.com\n';
const PLANTED_ID = '22222222-2222-4222-8222-222222222222';

let dir: string;
let dbFile: string;
let host: SuperviseDatabase;

beforeAll(() => assertBuilt());

openHostHomeForEachTest('poisoned-rows', (home) => ({ dir, dbFile, host } = home));

type Planted = { id?: unknown; slug?: unknown; createdAt?: unknown; expiresAt?: unknown };

/** A pending proposal a bottle writes with raw SQL, its columns as given. */
function plant({ id = PLANTED_ID, slug = 'evil', createdAt = Date.now(), expiresAt = null }: Planted): void {
  const raw = new Database(dbFile);
  try {
    raw
      .prepare(`INSERT INTO proposals (id, slug, kind, origin, target, payload, state, created_at, expires_at, updated_at) VALUES (?, ?, 'egress-allow', 'agent', 'operator', ?, 'pending', ?, ?, ?)`)
      .run(id, slug, GOOD, createdAt, expiresAt, Date.now());
  } finally {
    raw.close();
  }
}

function plantedState(): string {
  const raw = new Database(dbFile, { readonly: true });
  try {
    return raw.prepare(`SELECT state FROM proposals WHERE CAST(id AS TEXT) = ?`).pluck().get(PLANTED_ID) as string;
  } finally {
    raw.close();
  }
}

function auditedActions(): string[] {
  return host.audit.readAuditEntries().filter((entry) => entry.proposalId === PLANTED_ID).map((entry) => entry.action);
}

const propose = (slug = 'acme') => host.queue.writeProposal(slug, { kind: 'egress-allow', payload: GOOD, origin: 'agent' });

describe('an expired row the sweep cannot audit', () => {
  it.each([
    ['a slug the audit log refuses', { slug: '../Not A Slug' }],
    ['a creation time no Date can show', { createdAt: 9e18 }],
    ['a creation time that is text', { createdAt: 'yesterday' }],
  ])('(%s) is closed by the next write, which succeeds (every write failed)', async (_what, columns) => {
    plant({ ...columns, expiresAt: 1 });
    const next = await propose();
    expect(host.queue.listPendingProposals().map((p) => p.id)).toEqual([next.id]);
    expect(plantedState()).toBe('expired');
    // A slug the log takes is audited; one it refuses is closed without an entry under it.
    expect(auditedActions()).toEqual('slug' in columns ? [] : ['expired']);
    await propose('other');
    expect(plantedState()).toBe('expired');
  });
});

describe('a pending row whose id or slug is a blob', () => {
  it.each([
    ['id', { id: Buffer.from(PLANTED_ID) }],
    ['slug', { slug: Buffer.from('evil') }],
  ])('(its %s) is listed, then closed by the next write and audited once as forged (it stayed in the list, unanswerable, for good)', async (_what, columns) => {
    plant(columns);
    expect(host.queue.listPendingProposals().map((p) => p.id)).toEqual([PLANTED_ID]);
    const rejected = await runCli(['--db', dbFile, 'supervise', 'reject', PLANTED_ID.slice(0, 8), '--reason', 'planted'], { home: dir });
    // No lookup finds it; the refused answer's transaction writes nothing, the sweep with it.
    expect(rejected.code).toBe(3);

    const next = await propose();
    expect(host.queue.listPendingProposals().map((p) => p.id)).toEqual([next.id]);
    expect(plantedState()).toBe('expired');
    expect(auditedActions()).toEqual(['forged-row']);
    await propose();
    expect(auditedActions()).toEqual(['forged-row']);

    const listed = await runCli(['--db', dbFile, 'supervise', '--once', '--json'], { home: dir });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((row) => row.id)).not.toContain(PLANTED_ID);
  });
});

describe('a pending row whose creation time no Date can show', () => {
  it.each([
    ['past the year 275760', 9e18, 'not a time: 9000000000000000000'],
    ['text', 'yesterday', 'not a time (string stored)'],
  ])('(%s) is listed by supervise --once, human and JSON (both failed as a bug)', async (_what, createdAt, shown) => {
    plant({ createdAt });
    const json = await runCli(['--db', dbFile, 'supervise', '--once', '--json'], { home: dir });
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toEqual([expect.objectContaining({ id: PLANTED_ID, createdAt: shown, seal: 'forged' })]);
    const human = await runCli(['--db', dbFile, 'supervise', '--once'], { home: dir });
    expect({ code: human.code, stderr: human.stderr }).toEqual({ code: 0, stderr: '' });
    expect(human.stdout).toContain(PLANTED_ID.slice(0, 8));
  });
});

describe('a bottles row written with raw SQL', () => {
  it('with blobs, text times, times past any Date and screen controls in its slug, is listed as gone and unsealed, never obeyed', async () => {
    const raw = new Database(dbFile);
    try {
      const insert = raw.prepare('INSERT INTO bottles (slug, backend, image, started_at, stopped_at, last_heartbeat, sidecar_version, schema_version, live_routes_hash, live_routes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      insert.run(Buffer.from('evil'), Buffer.from([0, 1, 2]), 'image \u001b[2J', 8.9e15, 'later', 8.9e15, Buffer.from('1.0.0'), 'ten', Buffer.from('ab'), Buffer.from('routes'));
      insert.run('\u001b[31mred\u202e', null, null, null, null, Date.now(), null, null, null, null);
    } finally {
      raw.close();
    }
    const human = await runCli(['--db', dbFile, 'bottles'], { home: dir });
    expect({ code: human.code, stderr: human.stderr }).toEqual({ code: 0, stderr: '' });
    expect(human.stdout).toMatch(/evil +gone/);
    expect(human.stdout).toContain('[UNSEALED]');
    expect(human.stdout).not.toContain('\u001b');
    expect(human.stdout).not.toContain('\u202e');
    const json = await runCli(['--db', dbFile, 'bottles', '--json'], { home: dir });
    expect(json.code).toBe(0);
    const listed = (JSON.parse(json.stdout) as { bottles: Array<{ slug: string; liveness: string }> }).bottles;
    expect(listed.map((bottle) => [bottle.slug, bottle.liveness]).sort()).toEqual([['\u001b[31mred\u202e', 'gone'], ['evil', 'gone']].sort());
  });
});

describe('an events row written with raw SQL', () => {
  it('with blobs, a text time or an id no proposal has, misleads no watcher and stops none', async () => {
    const watching = await openHostDatabase({ path: dbFile });
    const summaries: ProposalSummary[] = [];
    const seen: Notification[] = [];
    const stopSummaries = watchNewProposals(watching.queue, (summary) => summaries.push(summary));
    const stopEvents = watching.queue.subscribe({}, (events) => seen.push(...events));
    try {
      const raw = new Database(dbFile);
      try {
        const insert = raw.prepare('INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, ?, ?, ?, ?)');
        insert.run(Date.now(), 'created', Buffer.from(PLANTED_ID), 'acme', 'operator');
        insert.run(Buffer.from('t'), Buffer.from('created'), Buffer.from('x'), Buffer.from('acme'), Buffer.from('operator'));
        insert.run('yesterday', 'created', PLANTED_ID, 'acme', 'operator');
      } finally {
        raw.close();
      }
      // The bottle rings the bell itself, so the watcher reads its rows at once.
      const now = new Date();
      fs.utimesSync(`${dbFile}-bell`, now, now);
      const real = await propose('acme');
      const deadline = Date.now() + 10_000;
      while (!seen.some((event) => event.type !== 'resync' && event.proposalId === real.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(summaries.map((summary) => summary.id)).toEqual([real.id]);
      expect(seen.filter((event) => event.type !== 'resync').length).toBeGreaterThanOrEqual(4);
    } finally {
      stopSummaries();
      stopEvents();
      await watching.close();
    }
  });
});
