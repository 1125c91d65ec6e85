// Growth: db prune (archived proposals go, audit entries stay and still verify), db vacuum (the
// space comes back), answers nobody collected archived after their horizon, supervise cancel, and
// db status's pending counts per bottle. Real database files, the built CLI as a child process.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UNCOLLECTED_ARCHIVE_AFTER_MS } from '../src/admin/prune.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { assertBuilt, killCliChildren, runCli } from './fixtures/cli-support.js';
import { tempDir } from './fixtures/storage-support.js';

const DAY = 86_400_000;
const routes = (host: string, padding = 0): string => `routes:\n  - host: ${host}\n${padding > 0 ? `# ${'p'.repeat(padding)}\n` : ''}`;

let home: string;
let savedHome: string | undefined;
let file: string;
let host: SuperviseDatabase;

const cli = (...args: string[]) => runCli(['--db', file, ...args], { home });

/** A proposal answered and collected (archived), as a waiter leaves it. */
async function archived(slug: string, name: string, padding = 0): Promise<string> {
  const proposal = await host.queue.writeProposal(slug, { kind: 'egress-allow', origin: 'agent', payload: routes(name, padding), justification: `for ${name}` });
  await host.queue.writeResponse(slug, proposal.id, { status: 'approved', responder: 'operator', notes: 'fine' });
  await host.queue.archiveProposal(slug, proposal.id);
  return proposal.id;
}

/** Moves a proposal's last change into the past, as time would. */
function age(ids: string[], ms: number): void {
  const db = new Database(file);
  try {
    const update = db.prepare('UPDATE proposals SET updated_at = updated_at - ? WHERE id = ?');
    for (const id of ids) update.run(ms, id);
  } finally {
    db.close();
  }
}

const count = (sql: string, ...params: unknown[]): number => host.db.prepare(sql).pluck().get(...params) as number;

beforeEach(async () => {
  assertBuilt();
  home = tempDir('growth-home');
  // The CLI checks the answers' signatures with the host key under its HOME: the same as this process's.
  savedHome = process.env.HOME;
  process.env.HOME = home;
  file = path.join(home, 'bot-bottle.db');
  host = await openHostDatabase({ path: file, watch: true });
});

afterEach(async () => {
  await killCliChildren();
  await host.close();
  process.env.HOME = savedHome;
  fs.rmSync(home, { recursive: true, force: true });
});

describe('db prune and db vacuum', () => {
  it('deletes only archived proposals past the horizon and their answers; audit entries stay, verify stays green, vacuum frees the space', async () => {
    const old: string[] = [];
    for (let i = 0; i < 30; i++) old.push(await archived(i % 2 === 0 ? 'acme' : 'beta', `old${i}.example`, 60_000));
    age(old, 40 * DAY);
    const recent = await archived('acme', 'recent.example');
    const pending = await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: routes('pending.example') });
    const answered = await host.queue.writeProposal('beta', { kind: 'egress-allow', origin: 'agent', payload: routes('answered.example') });
    await host.queue.writeResponse('beta', answered.id, { status: 'rejected', responder: 'operator', notes: 'no' });
    const auditBefore = count('SELECT count(*) FROM audit_entries');

    const dry = await cli('db', 'prune', '--archived-older-than', '30d', '--dry-run', '--json');
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, pruned: 30, bySlug: { acme: 15, beta: 15 }, uncollectedArchived: 0 });
    expect(count('SELECT count(*) FROM proposals')).toBe(33);

    const run = await cli('db', 'prune', '--archived-older-than', '30d');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Deleted 30 archived proposals archived before .* \(2 bottles\); archived 0 answers uncollected for 7 days\. Audit entries are kept\.\n.* MiB of the file is now unused: `bot-bottle db vacuum`/);
    expect(host.db.prepare('SELECT id FROM proposals ORDER BY seq').pluck().all()).toEqual([recent, pending.id, answered.id]);
    expect(count(`SELECT count(*) FROM responses WHERE proposal_id IN (${old.map(() => '?').join(',')})`, ...old)).toBe(0);
    expect(count('SELECT count(*) FROM audit_entries')).toBe(auditBefore + 2);
    expect(host.audit.readAuditEntries({}).filter((entry) => entry.action === 'proposals-pruned').map((entry) => [entry.slug, entry.notes])).toEqual([
      ['acme', expect.stringMatching(/^deleted 15 archived proposals archived before/)],
      ['beta', expect.stringMatching(/^deleted 15 archived proposals archived before/)],
    ]);
    const verify = await cli('audit', 'verify');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const again = await cli('db', 'prune', '--archived-older-than', '30d', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ pruned: 0 });

    // The pruned payloads' pages are free inside the file; the decisions' diffs stay with the audit log.
    host.db.pragma('wal_checkpoint(TRUNCATE)');
    const before = fs.statSync(file).size;
    const vacuum = await cli('db', 'vacuum', '--json');
    expect(vacuum.code, vacuum.stderr).toBe(0);
    const result = JSON.parse(vacuum.stdout) as { before: { db: number }; after: { db: number; wal: number | null } };
    expect(result.before.db).toBe(before);
    expect(before - result.after.db).toBeGreaterThan(0.8 * 30 * 60_000);
    expect(result.after.wal ?? 0).toBe(0);
    expect((await cli('audit', 'verify')).code).toBe(0);
    expect((await cli('db', 'check')).stdout).toMatch(/integrity.*ok/i);
  });

  it('archives answers nobody collected past the horizon; their waiter still reads the answer', async () => {
    const proposal = await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: routes('late.example') });
    await host.queue.writeResponse('acme', proposal.id, { status: 'approved', responder: 'operator', notes: 'ok' });
    const fresh = await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: routes('fresh.example') });
    await host.queue.writeResponse('acme', fresh.id, { status: 'approved', responder: 'operator', notes: 'ok' });
    age([proposal.id], UNCOLLECTED_ARCHIVE_AFTER_MS + DAY);

    const run = await cli('db', 'prune', '--archived-older-than', '365d', '--json');
    expect(JSON.parse(run.stdout)).toMatchObject({ uncollectedArchived: 1, pruned: 0 });
    expect(host.queue.readProposal('acme', proposal.id)?.state).toBe('archived');
    expect(host.queue.readProposal('acme', fresh.id)?.state).toBe('answered');
    expect(host.audit.readAuditEntries({}).filter((entry) => entry.action === 'answer-uncollected').map((entry) => entry.proposalId)).toEqual([proposal.id]);
    expect(await host.queue.waitForResponse('acme', proposal.id, { timeoutMs: 1000 })).toMatchObject({ outcome: 'answered', response: { status: 'approved' } });
    expect((await cli('audit', 'verify')).code).toBe(0);
  });

  it('refuses a bad horizon, a missing one and a missing database, changing nothing', async () => {
    for (const value of ['30', '30 days', '-1d', '1y']) {
      const run = await cli('db', 'prune', '--archived-older-than', value);
      expect(run.code, value).toBe(2);
      expect(run.stderr).toMatch(/is not a duration: use a whole number with s, m, h, d or w, e\.g\. 90d/);
    }
    expect((await cli('db', 'prune')).code).toBe(2);
    const missing = path.join(home, 'none.db');
    for (const args of [['db', 'prune', '--archived-older-than', '1d'], ['db', 'vacuum']]) {
      const run = await runCli(['--db', missing, ...args], { home });
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/no database at/);
    }
    expect(fs.existsSync(missing)).toBe(false);
  });
});

describe('supervise cancel', () => {
  it('withdraws a pending proposal: the waiter is told cancelled, the audit log names the operator and the reason', async () => {
    const proposal = await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: routes('x.example') });
    const waiting = host.queue.waitForResponse('acme', proposal.id, { timeoutMs: 20_000 });
    const run = await runCli(['--db', file, 'supervise', 'cancel', proposal.id.slice(0, 8), '--reason', 'the agent asked twice'], { home, env: { USER: 'alice' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`cancelled ${proposal.id.slice(0, 8)} (egress-allow, bottle "acme") as operator:alice.\n`);
    expect(await waiting).toMatchObject({ outcome: 'cancelled' });
    expect(host.audit.readAuditEntries({}).find((entry) => entry.action === 'proposal-cancelled')).toMatchObject({ actor: 'operator:alice', notes: 'the agent asked twice', proposalId: proposal.id });

    const again = await cli('supervise', 'cancel', proposal.id, '--reason', 'again');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^already cancelled:/);
  });

  it('refuses an answered proposal, an unknown id and an empty reason', async () => {
    const proposal = await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: routes('y.example') });
    await host.queue.writeResponse('acme', proposal.id, { status: 'approved', responder: 'operator' });
    const answered = await cli('supervise', 'cancel', proposal.id, '--reason', 'late');
    expect(answered.code).toBe(4);
    expect(answered.stderr).toMatch(/is not pending: it was already answered/);
    const unknown = await cli('supervise', 'cancel', '99999999-9999-4999-8999-999999999999', '--reason', 'x');
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no proposal with id/);
    const pending = await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: routes('z.example') });
    const empty = await cli('supervise', 'cancel', pending.id, '--reason', '  ');
    expect(empty.code).toBe(3);
    expect(empty.stderr).toMatch(/needs a reason/);
    expect(host.queue.readProposal('acme', pending.id)?.state).toBe('pending');
  });
});

describe('db status', () => {
  it('gives each bottle’s pending count and the oldest pending age', async () => {
    const first = await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: routes('a.example') });
    await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: routes('b.example') });
    await host.queue.writeProposal('beta', { kind: 'egress-allow', origin: 'agent', payload: routes('c.example') });
    age([first.id], 0);
    const db = new Database(file);
    db.prepare('UPDATE proposals SET created_at = created_at - ? WHERE id = ?').run(3_600_000, first.id);
    db.close();
    const run = await cli('db', 'status', '--json');
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout) as { pending: { bottles: Array<{ slug: string; pending: number; oldestAgeMs: number }>; oldestAgeMs: number } };
    expect(status.pending.bottles.map((bottle) => [bottle.slug, bottle.pending])).toEqual([
      ['acme', 2],
      ['beta', 1],
    ]);
    expect(status.pending.oldestAgeMs).toBeGreaterThanOrEqual(3_600_000);
    expect(status.pending.oldestAgeMs).toBe(status.pending.bottles[0]?.oldestAgeMs);
    const text = await cli('db', 'status');
    expect(text.stdout).toMatch(/^waiting\s+acme 2 \(oldest 1h\), beta 1 \(oldest \d+s\)$/m);
  });
});
