// The proposal's life as the library runs it for every asker (the sidecar's tools and propose, the
// token-allow call, the host's propose, the launcher): ask, wait, archive on read, resume.
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import type { BottleQueue } from '../src/queue/bottle-queue.js';
import type { NewResponse } from '../src/kinds/response.js';
import type { Proposal } from '../src/queue/proposal.js';
import { askAndWait, idempotencyBase, resumeWait, type ProposalRequest, type ProposalResult } from '../src/queue/proposal-flow.js';
import { expectFailure, GITLEAKS_REPORT, ROUTES_YAML, routesFor, tempDir } from './fixtures/storage-support.js';

const SLUG = 'acme';
const LONG_WAIT = { timeoutMs: 60_000 };
const NO_WAIT = { timeoutMs: 0 };

let dir: string;
let database: SuperviseDatabase;
let bottle: BottleQueue;

beforeEach(async () => {
  dir = tempDir('proposal-flow');
  database = await openHostDatabase({ path: path.join(dir, 'bot-bottle.db'), watch: false });
  bottle = database.queue.forSlug(SLUG);
});

afterEach(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const agentAsk = (overrides: Partial<ProposalRequest> = {}): ProposalRequest => {
  const request = { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML, justification: 'clone acme repos', ...overrides };
  return { idempotency: { base: idempotencyBase(request.origin, request), earlierAnswer: 'report' }, ...request };
};

/** The proposal the running ask has committed, once it is in the queue. */
async function pendingProposal(): Promise<Proposal> {
  for (;;) {
    const [pending] = bottle.listPendingProposals().concat(bottle.listPendingProposals({ target: 'sidecar' }));
    if (pending) return pending;
    await sleep(5);
  }
}

/** Asks, then answers as the operator once the proposal is queued. */
async function askAnswered(request: ProposalRequest, answer: NewResponse): Promise<{ result: ProposalResult; proposal: Proposal }> {
  const asked = askAndWait(bottle, request, LONG_WAIT);
  const proposal = await pendingProposal();
  await bottle.writeResponse(proposal.id, answer);
  return { result: await asked, proposal };
}

const rows = (): number => database.db.prepare('SELECT count(*) FROM proposals').pluck().get() as number;
const stateOf = (id: string) => bottle.readProposal(id)?.state;

describe('ask and wait', () => {
  it('approved: the answer comes back with who gave it, and the waiter archives the proposal', async () => {
    const { result, proposal } = await askAnswered(agentAsk(), { status: 'approved', responder: 'operator', notes: 'fine for acme' });
    expect(result).toEqual({
      status: 'approved',
      proposalId: proposal.id,
      slug: SLUG,
      kind: 'egress-allow',
      target: 'operator',
      notes: 'fine for acme',
      finalPayload: null,
      responder: 'operator',
      answeredAt: expect.any(Number),
      earlier: false,
    });
    expect(proposal).toMatchObject({ origin: 'agent', payload: ROUTES_YAML, justification: 'clone acme repos', idempotencyKey: expect.stringMatching(/^agent:[0-9a-f]{64}$/) });
    expect(stateOf(proposal.id)).toBe('archived');
  });

  it('modified: the final file comes back; rejected: the reason does; both are archived', async () => {
    const modified = await askAnswered(agentAsk(), { status: 'modified', responder: 'operator', notes: 'narrowed', finalPayload: routesFor('api.github.com') });
    expect(modified.result).toMatchObject({ status: 'modified', notes: 'narrowed', finalPayload: routesFor('api.github.com') });
    expect(stateOf(modified.proposal.id)).toBe('archived');

    const rejected = await askAnswered(agentAsk({ payload: routesFor('pypi.org') }), { status: 'rejected', responder: 'operator', notes: 'not for this task' });
    expect(rejected.result).toMatchObject({ status: 'rejected', notes: 'not for this task', earlier: false });
    expect(stateOf(rejected.proposal.id)).toBe('archived');
  });

  it('tells the caller when the proposal was queued, before the wait starts', async () => {
    const queued: Proposal[] = [];
    const result = await askAndWait(bottle, agentAsk(), { ...NO_WAIT, onQueued: (proposal) => queued.push(proposal) });
    expect(queued.map((p) => [p.id, p.state])).toEqual([[result.proposalId, 'pending']]);
  });

  it('times out as pending with the id, stays queued, and resumes by id to the answer', async () => {
    const first = await askAndWait(bottle, agentAsk(), { timeoutMs: 50 });
    expect(first).toMatchObject({ status: 'pending', slug: SLUG, kind: 'egress-allow', target: 'operator', createdAt: expect.any(Number), expiresAt: expect.any(Number) });
    expect(first.status === 'pending' && first.waitedMs).toBeGreaterThanOrEqual(40);
    expect(stateOf(first.proposalId)).toBe('pending');

    const resumed = resumeWait(bottle, first.proposalId, LONG_WAIT);
    await bottle.writeResponse(first.proposalId, { status: 'approved', responder: 'operator', notes: 'finally' });
    expect(await resumed).toMatchObject({ status: 'approved', proposalId: first.proposalId, notes: 'finally', earlier: false });
    expect(stateOf(first.proposalId)).toBe('archived');
    expect(rows()).toBe(1);
  });

  it('an aborted wait ends as pending and leaves the proposal queued', async () => {
    const abort = new AbortController();
    const asked = askAndWait(bottle, agentAsk(), { timeoutMs: 60_000, signal: abort.signal });
    await pendingProposal();
    abort.abort();
    const result = await asked;
    expect(result.status).toBe('pending');
    expect(stateOf(result.proposalId)).toBe('pending');
  });

  it('expired: reported as expired, never as a decision', async () => {
    const result = await askAndWait(bottle, agentAsk({ ttlMs: 50 }), LONG_WAIT);
    expect(result).toMatchObject({ status: 'expired', expiredAt: expect.any(Number) });
    expect(stateOf(result.proposalId)).toBe('expired');
  });

  it('cancelled: reported as cancelled', async () => {
    const asked = askAndWait(bottle, agentAsk(), LONG_WAIT);
    const proposal = await pendingProposal();
    await bottle.cancelProposal(proposal.id, { actor: 'launcher', reason: 'bottle stopped' });
    expect(await asked).toEqual({ status: 'cancelled', proposalId: proposal.id, slug: SLUG, kind: 'egress-allow', target: 'operator' });
  });

  it('without an idempotency setting every request is a new proposal', async () => {
    const request = { kind: 'egress-allow', origin: 'host', payload: ROUTES_YAML };
    const first = await askAndWait(bottle, request, NO_WAIT);
    const second = await askAndWait(bottle, request, NO_WAIT);
    expect(second.proposalId).not.toBe(first.proposalId);
    expect(rows()).toBe(2);
  });
});

describe('identical requests (a derived key)', () => {
  it('join the pending proposal instead of queueing a duplicate, and both waiters get the answer', async () => {
    const first = askAndWait(bottle, agentAsk(), LONG_WAIT);
    const proposal = await pendingProposal();
    const second = askAndWait(bottle, agentAsk(), LONG_WAIT);
    await sleep(20);
    await bottle.writeResponse(proposal.id, { status: 'approved', responder: 'operator', notes: 'ok' });
    const results = await Promise.all([first, second]);
    expect(results.map((r) => [r.status, r.proposalId])).toEqual([
      ['approved', proposal.id],
      ['approved', proposal.id],
    ]);
    expect(rows()).toBe(1);
  });

  it('after the answer was consumed, an identical request is told the earlier answer without asking again', async () => {
    const { proposal } = await askAnswered(agentAsk(), { status: 'rejected', responder: 'operator', notes: 'no' });
    const again = await askAndWait(bottle, agentAsk(), NO_WAIT);
    expect(again).toMatchObject({ status: 'rejected', notes: 'no', proposalId: proposal.id, earlier: true });
    expect(rows()).toBe(1);
    // A different justification is a different request.
    const changed = await askAndWait(bottle, agentAsk({ justification: 'the task changed: acme needs it' }), NO_WAIT);
    expect(changed.status).toBe('pending');
    expect(rows()).toBe(2);
  });

  it('asks anew once the identical proposal expired or was cancelled, under the next generation of the key', async () => {
    const expired = await askAndWait(bottle, agentAsk({ ttlMs: 30 }), LONG_WAIT);
    expect(expired.status).toBe('expired');
    const second = await askAndWait(bottle, agentAsk({ ttlMs: 30 }), NO_WAIT);
    expect(second.status).toBe('pending');
    expect(second.proposalId).not.toBe(expired.proposalId);
    const base = bottle.readProposal(expired.proposalId)?.idempotencyKey;
    expect(bottle.readProposal(second.proposalId)?.idempotencyKey).toBe(`${base}:2`);

    await bottle.cancelProposal(second.proposalId, { actor: 'agent', reason: 'not needed' });
    const third = await askAndWait(bottle, agentAsk(), NO_WAIT);
    expect(bottle.readProposal(third.proposalId)?.idempotencyKey).toBe(`${base}:3`);
    expect(rows()).toBe(3);
  });

  it('refuses to ask again once fifty generations of the same request expired', async () => {
    const request = agentAsk();
    const base = request.idempotency && 'base' in request.idempotency ? request.idempotency.base : '';
    const { idempotency: _, ...proposal } = request;
    for (let generation = 1; generation <= 50; generation++) {
      await bottle.writeProposal({ ...proposal, ttlMs: 1, idempotencyKey: generation === 1 ? base : `${base}:${generation}` });
    }
    await sleep(5);
    await database.queue.expireDue();
    await expectFailure(() => askAndWait(bottle, request, NO_WAIT), 'conflict', /already made 50 times and each expired or was cancelled; change the justification/);
    expect(rows()).toBe(50);
  });

  it('with ask-again (the launcher), a consumed answer is not reused: the same request is asked anew', async () => {
    const request = { kind: 'egress-routes-apply', origin: 'host', payload: ROUTES_YAML, justification: 'apply' };
    const launcherAsk: ProposalRequest = { ...request, idempotency: { base: idempotencyBase('host', request), earlierAnswer: 'ask-again' } };
    const first = await askAnswered(launcherAsk, { status: 'rejected', responder: 'sidecar', notes: 'reload failed' });
    expect(first.proposal.target).toBe('sidecar');
    expect(first.result).toMatchObject({ status: 'rejected', target: 'sidecar', earlier: false });

    // A retry while one is pending joins it; one after the answer was consumed asks again.
    const retried = await askAndWait(bottle, launcherAsk, NO_WAIT);
    expect(retried.status).toBe('pending');
    expect(retried.proposalId).not.toBe(first.proposal.id);
    expect((await askAndWait(bottle, launcherAsk, NO_WAIT)).proposalId).toBe(retried.proposalId);

    // An answer nobody consumed yet (the waiter gave up) is collected by the next identical call.
    await bottle.writeResponse(retried.proposalId, { status: 'approved', responder: 'sidecar', notes: 'applied' });
    expect(await askAndWait(bottle, launcherAsk, NO_WAIT)).toMatchObject({ status: 'approved', proposalId: retried.proposalId, earlier: true });
    expect(stateOf(retried.proposalId)).toBe('archived');
    expect(rows()).toBe(2);
  });
});

describe('a caller-given key', () => {
  it('always means that one proposal, whatever became of it', async () => {
    const keyed = (payload: string): ProposalRequest => ({ kind: 'egress-allow', origin: 'host', payload, idempotency: { key: 'launch-42' } });
    const first = await askAndWait(bottle, { ...keyed(ROUTES_YAML), ttlMs: 30 }, LONG_WAIT);
    expect(first.status).toBe('expired');
    expect(await askAndWait(bottle, keyed(ROUTES_YAML), NO_WAIT)).toMatchObject({ status: 'expired', proposalId: first.proposalId });
    await expectFailure(() => askAndWait(bottle, keyed(routesFor('pypi.org')), NO_WAIT), 'conflict', /idempotency key "launch-42" was already used for a different egress-allow proposal/);
    expect(rows()).toBe(1);
  });
});

describe('resume', () => {
  it('refuses an unknown id, another bottle’s, another kind’s, or one answered by someone else', async () => {
    await expectFailure(() => resumeWait(bottle, '00000000-0000-4000-8000-000000000000', NO_WAIT), 'not-found', /no proposal "00000000-0000-4000-8000-000000000000" for bottle "acme"/);
    const foreign = await database.queue.writeProposal('other', { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
    await expectFailure(() => resumeWait(bottle, foreign.id, NO_WAIT), 'not-found', /no proposal/);

    const gitleaks = await bottle.writeProposal({ kind: 'gitleaks-allow', origin: 'git-gate', payload: GITLEAKS_REPORT });
    await expectFailure(() => resumeWait(bottle, gitleaks.id, NO_WAIT, { kind: 'egress-allow' }), 'invalid-input', /is a gitleaks-allow proposal, not egress-allow/);
    const downward = await bottle.writeProposal({ kind: 'egress-routes-apply', origin: 'host', payload: ROUTES_YAML });
    await expectFailure(() => resumeWait(bottle, downward.id, NO_WAIT, { target: 'operator' }), 'invalid-input', /is answered by the sidecar, not the operator/);
    expect(await resumeWait(bottle, downward.id, NO_WAIT, { kind: 'egress-routes-apply', target: 'sidecar' })).toMatchObject({ status: 'pending', proposalId: downward.id });
  });

  it('reports an expired proposal as expired', async () => {
    const proposal = await bottle.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML, ttlMs: 30 });
    expect(await resumeWait(bottle, proposal.id, LONG_WAIT)).toMatchObject({ status: 'expired', proposalId: proposal.id });
  });
});
