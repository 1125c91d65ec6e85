/**
 * A bottle writes the shared file with any SQLite it likes, and SQLite stores values of up to a
 * gigabyte where better-sqlite3 reads at most what a V8 string holds (2^29 − 24 bytes). One planted
 * value over that made every read of its row fail with "string or blob too big": the operator's
 * list, every write's expiry sweep (so every write in the plane) and every process watching events.
 * Rows and events with a column larger than any writer of the plane stores are read by nothing and
 * removed by the next write, which audits it.
 */
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../../src/database.js';
import { MAX_COLUMN_BYTES } from '../../src/core/limits.js';
import type { Notification } from '../../src/notify/notifier.js';
import { openHostHomeForEachTest } from '../fixtures/host-home.js';
import { assertBuilt, runCli } from '../fixtures/cli-support.js';

const GOOD = 'routes:\n  - host: api.example.com\n';
const PLANTED_ID = '33333333-3333-4333-8333-333333333333';
/** One byte more than better-sqlite3 can turn into a string. */
const UNREADABLE_BYTES = 2 ** 29 - 24 + 1;

let dir: string;
let dbFile: string;
let host: SuperviseDatabase;

beforeAll(() => assertBuilt());

openHostHomeForEachTest('oversized-rows', (home) => ({ dir, dbFile, host } = home));

/**
 * Runs `sql` as a bottle would with its own SQLite (Node's built-in one, whose length limit is
 * SQLite's gigabyte, not better-sqlite3's), without waiting for the disk.
 */
function plantWithOwnSqlite(sql: string): void {
  const script = `const { DatabaseSync } = require('node:sqlite');
    const db = new DatabaseSync(process.argv[1]);
    db.exec('PRAGMA synchronous = OFF');
    db.exec(process.argv[2]);
    db.close();`;
  execFileSync(process.execPath, ['--no-warnings', '-e', script, dbFile, sql], { stdio: 'pipe' });
}

/** A pending egress-allow proposal of bottle "evil", `column` given as the SQL expression `value`. */
function plantedProposalSql(column: string, value: string, expiresAt: number | null = null): string {
  const columns: Record<string, string> = {
    id: `'${PLANTED_ID}'`,
    slug: `'evil'`,
    kind: `'egress-allow'`,
    origin: `'agent'`,
    payload: `'${GOOD}'`,
    justification: `''`,
    current_file: 'NULL',
    seal: 'NULL',
    created_at: String(Date.now()),
    expires_at: expiresAt === null ? 'NULL' : String(expiresAt),
  };
  columns[column] = value;
  const names = Object.keys(columns);
  return `INSERT INTO proposals (${names.join(', ')}, target, state, updated_at) VALUES (${names.map((name) => columns[name]).join(', ')}, 'operator', 'pending', ${Date.now()})`;
}

function plantedState(): string | undefined {
  const raw = new Database(dbFile, { readonly: true });
  try {
    return raw.prepare(`SELECT state FROM proposals WHERE seq = (SELECT max(seq) FROM proposals WHERE slug = 'evil' OR octet_length(slug) > 100)`).pluck().get() as string | undefined;
  } finally {
    raw.close();
  }
}

const forgedRowEntries = (): number => host.audit.readAuditEntries().filter((entry) => entry.action === 'forged-row').length;

const propose = (slug = 'acme') => host.queue.writeProposal(slug, { kind: 'egress-allow', payload: GOOD, origin: 'agent' });

describe('a pending proposal with a value better-sqlite3 cannot read, planted with another SQLite', () => {
  it('leaves the list, the writes and the watchers working, and is removed by the next write (each failed with "string or blob too big")', async () => {
    const honest = await propose();
    const watching = await openHostDatabase({ path: dbFile });
    const seen: Notification[] = [];
    const stop = watching.queue.subscribe({}, (events) => seen.push(...events));
    try {
      // Past its expiry, so the sweep every write runs meets it too; and an event row as long.
      plantWithOwnSqlite(
        `${plantedProposalSql('justification', `CAST(zeroblob(${UNREADABLE_BYTES}) AS TEXT)`, 1)};
         INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (${Date.now()}, 'created', CAST(zeroblob(${UNREADABLE_BYTES}) AS TEXT), 'acme', 'operator');`,
      );

      const listed = await runCli(['--db', dbFile, 'supervise', '--once', '--json'], { home: dir });
      expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
      expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((row) => row.id)).toEqual([honest.id]);
      expect(host.queue.listPendingSummaries().map((summary) => summary.id)).toEqual([honest.id]);

      const next = await propose();
      expect(host.queue.listPendingProposals().map((p) => p.id)).toEqual([honest.id, next.id]);
      expect(plantedState()).toBeUndefined();
      expect(forgedRowEntries()).toBe(1);

      const deadline = Date.now() + 10_000;
      while (!seen.some((event) => event.type !== 'resync' && event.proposalId === next.id) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen.filter((event) => event.type !== 'resync').map((event) => event.proposalId)).toContain(next.id);
      expect(seen.every((event) => event.type === 'resync' || event.proposalId.length <= 36)).toBe(true);
    } finally {
      stop();
      await watching.close();
    }
  });
});

describe('a pending proposal whose indexed column better-sqlite3 cannot read', () => {
  it('cannot be removed (deleting reads its index keys), and stays out of every list while every write goes on', async () => {
    const honest = await propose();
    plantWithOwnSqlite(plantedProposalSql('idempotency_key', `CAST(zeroblob(${UNREADABLE_BYTES}) AS TEXT)`, 1));

    const first = await propose();
    const second = await propose('other');
    expect(plantedState()).toBe('pending');
    expect(host.queue.listPendingSummaries().map((summary) => summary.id).sort()).toEqual([honest.id, first.id, second.id].sort());
    const listed = await runCli(['--db', dbFile, 'supervise', '--once', '--json'], { home: dir });
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
    expect((JSON.parse(listed.stdout) as Array<{ id: string }>).map((row) => row.id).sort()).toEqual([honest.id, first.id, second.id].sort());
    expect(forgedRowEntries()).toBe(0);
  });
});

describe('a bottles row with a value better-sqlite3 cannot read, planted with another SQLite', () => {
  it('is passed over by every view of the bottles, which still list its bottle by its proposal (bottles failed with "string or blob too big")', async () => {
    await propose('evil');
    plantWithOwnSqlite(`INSERT INTO bottles (slug, last_heartbeat, live_routes_hash, live_routes) VALUES ('evil', ${Date.now()}, '${'a'.repeat(64)}', CAST(zeroblob(${UNREADABLE_BYTES}) AS TEXT))`);

    const json = await runCli(['--db', dbFile, 'bottles', '--json'], { home: dir });
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 0, stderr: '' });
    const listed = (JSON.parse(json.stdout) as { bottles: Array<{ slug: string; liveness: string }> }).bottles;
    // Its proposal still names it; without a readable row it shows as a bottle the host has no row for.
    expect(listed.map((bottle) => bottle.slug)).toEqual(['evil']);
    expect(listed[0]?.liveness).not.toBe('alive');
    const human = await runCli(['--db', dbFile, 'bottles'], { home: dir });
    expect({ code: human.code, stderr: human.stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('an audit entry with a value better-sqlite3 cannot read, appended with another SQLite', () => {
  it('as the newest entry, leaves decisions recorded, lists the rest, and audit verify names it as the break', async () => {
    const honest = await propose();
    await host.audit.writeAuditEntry('acme', { ts: Date.now(), component: 'egress', action: 'note', actor: 'test', notes: 'before' });
    const seq = host.audit.head().count + 1;
    plantWithOwnSqlite(
      `INSERT INTO audit_entries (seq, ts, slug, component, action, notes, actor, prev_hash, hash) VALUES (${seq}, ${Date.now()}, 'evil', 'egress', 'note', '', 'agent', 'x', CAST(zeroblob(${UNREADABLE_BYTES}) AS TEXT))`,
    );

    // Newest, it is the break; with a decision after it, still it.
    expect(host.audit.verify()).toMatchObject({ ok: false, firstBad: { seq, reason: expect.stringMatching(/too big to read/) } });
    const rejected = await runCli(['--db', dbFile, 'supervise', 'reject', honest.id, '--reason', 'not needed'], { home: dir });
    expect({ code: rejected.code, stderr: rejected.stderr }).toEqual({ code: 0, stderr: '' });
    expect(host.audit.readAuditEntries().map((entry) => entry.action)).toEqual(['note', 'proposal-decision']);

    const verified = await runCli(['--db', dbFile, 'audit', 'verify', '--json'], { home: dir });
    expect(verified.code, verified.stderr).toBe(1);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: false, firstBad: { seq, reason: expect.stringMatching(/too big to read/) } });
    const listed = await runCli(['--db', dbFile, 'audit', 'list', '--json'], { home: dir });
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
  });
});

describe('a recorded answer with a value better-sqlite3 cannot read, planted with another SQLite', () => {
  it('is named by audit verify as an answer that does not check out, and the host reads the proposal as unanswered (verify failed with "string or blob too big")', async () => {
    const honest = await propose('evil');
    plantWithOwnSqlite(
      `INSERT INTO responses (proposal_id, status, notes, responder, created_at) VALUES ('${honest.id}', 'approved', CAST(zeroblob(${UNREADABLE_BYTES}) AS TEXT), 'operator', ${Date.now()})`,
    );

    expect(host.queue.forSlug('evil').readResponse(honest.id)).toBeUndefined();
    const verified = await runCli(['--db', dbFile, 'audit', 'verify', '--json'], { home: dir });
    expect({ code: verified.code, stderr: verified.stderr }).toEqual({ code: 1, stderr: '' });
    const { answers } = JSON.parse(verified.stdout) as { answers: { problems: Array<{ proposalId: string; slug: string; reason: string }> } };
    expect(answers.problems).toEqual([{ proposalId: honest.id, slug: 'evil', reason: expect.stringMatching(/over 1048576 bytes/) }]);
  });
});

describe('an archived proposal whose id better-sqlite3 cannot read, planted with another SQLite', () => {
  it('leaves db prune working: the others go, it stays (deleting reads its index keys), and no audit entry is made under a slug the log refuses (prune failed with "string or blob too big")', async () => {
    const honest = await propose();
    await host.queue.writeResponse('acme', honest.id, { status: 'rejected', responder: 'operator', notes: 'no' });
    await host.queue.archiveProposal('acme', honest.id);
    host.db.prepare(`UPDATE proposals SET updated_at = 1 WHERE id = ?`).run(honest.id);
    plantWithOwnSqlite(
      `INSERT INTO proposals (id, slug, kind, origin, target, payload, state, created_at, updated_at) VALUES (CAST(zeroblob(${UNREADABLE_BYTES}) AS TEXT), 'evil', 'egress-allow', 'agent', 'operator', '${GOOD}', 'archived', 1, 1);
       INSERT INTO proposals (id, slug, kind, origin, target, payload, state, created_at, updated_at) VALUES ('${PLANTED_ID}', '../Not A Slug', 'egress-allow', 'agent', 'operator', '${GOOD}', 'archived', 1, 1);`,
    );

    const pruned = await runCli(['--db', dbFile, 'db', 'prune', '--archived-older-than', '1d', '--json'], { home: dir });
    expect({ code: pruned.code, stderr: pruned.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(pruned.stdout)).toMatchObject({ pruned: 1, bySlug: { acme: 1 } });
    const raw = new Database(dbFile, { readonly: true });
    try {
      expect(raw.prepare(`SELECT slug FROM proposals ORDER BY seq`).pluck().all()).toEqual(['evil']);
    } finally {
      raw.close();
    }
  });
});

describe('a pending proposal with a column larger than any writer of the plane stores', () => {
  const over = MAX_COLUMN_BYTES + 1;
  it.each([
    ['payload', `CAST(zeroblob(${over}) AS TEXT)`],
    ['current_file', `CAST(zeroblob(${over}) AS TEXT)`],
    ['seal', `zeroblob(${over})`],
    ['created_at', `printf('%.*c', ${over}, 'x')`],
    ['slug', `printf('%.*c', ${over}, 'e')`],
  ])('(%s) is read by no list or lookup, and removed by the next write with a forged-row entry when its slug allows one', async (column, value) => {
    const honest = await propose();
    plantWithOwnSqlite(plantedProposalSql(column, value));

    expect(host.queue.listPendingSummaries().map((summary) => summary.id)).toEqual([honest.id]);
    expect(host.queue.listPendingProposals().map((p) => p.id)).toEqual([honest.id]);
    expect(host.queue.findProposal(PLANTED_ID)).toBeUndefined();
    expect(host.queue.findProposal(PLANTED_ID.slice(0, 8))).toBeUndefined();

    await propose();
    expect(plantedState()).toBeUndefined();
    // The audit log is per bottle: a slug it would refuse gets no entry.
    expect(forgedRowEntries()).toBe(column === 'slug' ? 0 : 1);
    await propose();
    expect(forgedRowEntries()).toBe(column === 'slug' ? 0 : 1);
  });
});
