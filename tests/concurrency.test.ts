import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import type { ResponseStatus } from '../src/kinds/response.js';
import { Children, ROUTES_YAML, tempDir } from './fixtures/storage-support.js';

const PROCESSES = 8;
const PER_PROCESS = 500;
const RACE_ROUNDS = 20;

interface EnqueueResult {
  ok: boolean;
  count: number;
  ids: string[];
  error?: { code?: string; message: string };
}

interface AnswerResult {
  outcome: 'won' | 'lost' | 'error';
  error?: { name: string; code?: string; message: string };
}

const children = new Children();
let dir: string;
let file: string;
let host: SuperviseDatabase;

beforeEach(async () => {
  dir = tempDir('concurrency');
  file = path.join(dir, 'bot-bottle.db');
  host = await openHostDatabase({ path: file, watch: false });
});

afterEach(async () => {
  await children.killAll();
  await host.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('many processes enqueueing into one file', () => {
  it(`${PROCESSES} processes × ${PER_PROCESS} proposals: all present, in order per process, no error, integrity ok`, async () => {
    const slugs = Array.from({ length: PROCESSES }, (_, i) => `bottle-${i}`);
    const writers = slugs.map((slug) => children.start('storage-enqueue.ts', [file, slug, String(PER_PROCESS)]));
    await Promise.all(writers.map((child) => child.ready()));
    for (const child of writers) child.send('go');

    const results = await Promise.all(writers.map((child) => child.nextJson<EnqueueResult>()));
    const exitCodes = await Promise.all(writers.map((child) => child.finish()));

    expect(results.map((r) => ({ ok: r.ok, count: r.count, error: r.error }))).toEqual(slugs.map(() => ({ ok: true, count: PER_PROCESS, error: undefined })));
    expect(exitCodes).toEqual(slugs.map(() => 0));
    expect(writers.map((child) => child.stderr.join(''))).toEqual(slugs.map(() => ''));

    const db = host.db;
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.prepare('SELECT count(*) FROM proposals').pluck().get()).toBe(PROCESSES * PER_PROCESS);
    expect(db.prepare(`SELECT count(*) FROM events WHERE type = 'created'`).pluck().get()).toBe(PROCESSES * PER_PROCESS);

    // Each process's proposals are all there, under its slug, in the order it enqueued them.
    slugs.forEach((slug, index) => {
      const stored = db.prepare('SELECT id FROM proposals WHERE slug = ? ORDER BY seq').pluck().all(slug);
      expect(stored).toEqual(results[index]?.ids);
    });
    expect(new Set(results.flatMap((r) => r.ids)).size).toBe(PROCESSES * PER_PROCESS);

    // The writes interleaved (they really ran concurrently): run one after another, the slugs would
    // change PROCESSES - 1 times along the commit order.
    const committed = db.prepare('SELECT slug FROM proposals ORDER BY seq').pluck().all() as string[];
    const switches = committed.filter((slug, i) => i > 0 && slug !== committed[i - 1]).length;
    expect(switches).toBeGreaterThan(PROCESSES - 1);
    // The operator's listing takes the bottles in turns: every bottle's oldest first, then each one's
    // second oldest, and so on, in commit order within a turn.
    const pending = host.queue.listPendingProposals();
    expect(pending).toHaveLength(PROCESSES * PER_PROCESS);
    const turn = new Map<number, number>();
    for (const slug of slugs) pending.filter((p) => p.slug === slug).map((p) => p.seq).sort((a, b) => a - b).forEach((seq, i) => turn.set(seq, i));
    const fair = pending.map((p) => p.seq).sort((a, b) => (turn.get(a) ?? 0) - (turn.get(b) ?? 0) || a - b);
    expect(pending.map((p) => p.seq)).toEqual(fair);
    // 4,000 fsynced commits from 8 processes on 2 cores: generous room, not a performance claim.
  }, 180_000);
});

describe('two processes racing to answer the same proposal', () => {
  it(`exactly one wins, the other gets a conflict, one audit entry — ${RACE_ROUNDS} rounds`, async () => {
    const racers = [
      { name: 'racer-a', status: 'approved' as ResponseStatus, child: children.start('storage-answer.ts', [file, 'racer-a']) },
      { name: 'racer-b', status: 'rejected' as ResponseStatus, child: children.start('storage-answer.ts', [file, 'racer-b']) },
    ];
    await Promise.all(racers.map((racer) => racer.child.ready()));

    const wins = { 'racer-a': 0, 'racer-b': 0 };
    for (let round = 0; round < RACE_ROUNDS; round += 1) {
      const slug = `bottle-${round % 3}`;
      const proposal = await host.queue.writeProposal(slug, { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
      for (const racer of racers) racer.child.send(JSON.stringify({ slug, id: proposal.id, status: racer.status }));
      const results = await Promise.all(racers.map((racer) => racer.child.nextJson<AnswerResult>()));

      const outcomes = results.map((r) => r.outcome).sort();
      expect({ round, outcomes, errors: results.map((r) => r.error?.message) }).toMatchObject({ round, outcomes: ['lost', 'won'] });
      const winnerIndex = results.findIndex((r) => r.outcome === 'won');
      const winner = racers[winnerIndex] as (typeof racers)[number];
      const loser = results[1 - winnerIndex] as AnswerResult;
      expect(loser.error).toMatchObject({ name: 'SuperviseError', code: 'conflict', message: expect.stringMatching(/is not pending: it was already answered/) });
      wins[winner.name as keyof typeof wins] += 1;

      expect(host.queue.readResponse(slug, proposal.id)).toMatchObject({ responder: winner.name, status: winner.status });
      const entries = host.audit.readAuditEntries({ proposalId: proposal.id });
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ actor: winner.name, status: winner.status, action: 'proposal-decision' });
      expect(host.db.prepare('SELECT count(*) FROM responses WHERE proposal_id = ?').pluck().get(proposal.id)).toBe(1);
    }

    expect(await Promise.all(racers.map((racer) => racer.child.finish()))).toEqual([0, 0]);
    expect(racers.map((racer) => racer.child.stderr.join(''))).toEqual(['', '']);
    expect(wins['racer-a'] + wins['racer-b']).toBe(RACE_ROUNDS);
    expect(host.db.prepare('SELECT count(*) FROM responses').pluck().get()).toBe(RACE_ROUNDS);
    expect(host.db.prepare(`SELECT count(*) FROM audit_entries WHERE action = 'proposal-decision'`).pluck().get()).toBe(RACE_ROUNDS);
    expect(host.audit.verify()).toMatchObject({ ok: true, head: { count: RACE_ROUNDS } });
    expect(host.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });
});
