import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnection, type Db } from '../src/storage/connection.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { SuperviseError, type SuperviseErrorCode } from '../src/core/errors.js';
import type { ChangeType } from '../src/notify/events.js';
import { KindRegistry } from '../src/kinds/registry.js';
import { DEFAULT_PROPOSAL_TTL_MS, MAX_JUSTIFICATION_BYTES, MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES, MAX_SLUG_LENGTH } from '../src/core/limits.js';
import type { Notification } from '../src/notify/notifier.js';
import { sha256 } from '../src/core/hash.js';
import { type NewProposal, type Proposal } from '../src/queue/proposal.js';
import { type QueueStore } from '../src/queue/queue-store.js';
import { dumpData, expectFailure, GITLEAKS_REPORT, rowCounts, ROUTES_YAML, routesFor, tempDir, TOKEN_REPORT } from './fixtures/storage-support.js';

const SLUG = 'acme-api';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let dir: string;
let database: SuperviseDatabase;
let queue: QueueStore;
let db: Db;

beforeEach(async () => {
  dir = tempDir('queue');
  database = await openHostDatabase({ path: path.join(dir, 'bot-bottle.db'), watch: false });
  queue = database.queue;
  db = database.db;
});

afterEach(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function propose(slug: string = SLUG, overrides: Partial<NewProposal> = {}): Promise<Proposal> {
  return queue.writeProposal(slug, { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML, ...overrides });
}

const proposeGitleaks = (slug: string = SLUG): Promise<Proposal> => propose(slug, { kind: 'gitleaks-allow', origin: 'git-gate', payload: GITLEAKS_REPORT });
const proposeToken = (slug: string = SLUG): Promise<Proposal> => propose(slug, { kind: 'egress-token-allow', origin: 'egress', payload: TOKEN_REPORT });

/** A proposal whose expiry has passed but which nobody has swept yet. */
async function proposeAndLetExpire(slug: string = SLUG): Promise<Proposal> {
  const proposal = await propose(slug, { ttlMs: 1 });
  while (Date.now() <= (proposal.expiresAt as number)) await sleep(2);
  return proposal;
}

const auditFor = (proposalId: string): Array<Record<string, unknown>> =>
  db.prepare('SELECT * FROM audit_entries WHERE proposal_id = ? ORDER BY seq').all(proposalId) as Array<Record<string, unknown>>;
const eventTypesFor = (proposalId: string): ChangeType[] => db.prepare('SELECT type FROM events WHERE proposal_id = ? ORDER BY id').pluck().all(proposalId) as ChangeType[];

/** The operation fails with `code` and a message matching `message`, and no row of any table changed. */
async function expectRefused(op: () => unknown, code: SuperviseErrorCode, message: RegExp): Promise<Error> {
  const before = dumpData(db);
  const error = await expectFailure(op, code, message);
  expect(error).toBeInstanceOf(SuperviseError);
  expect(dumpData(db)).toEqual(before);
  return error;
}

/** Resolves with the first batch `subscribe` delivers. */
function nextBatch(subscribe: (listener: (events: Notification[]) => void) => () => void): Promise<Notification[]> {
  return new Promise((resolve) => {
    const unsubscribe = subscribe((events) => {
      unsubscribe();
      resolve(events);
    });
  });
}

describe('round trips', () => {
  it('writes, reads and lists a proposal with every field', async () => {
    const currentFile = 'routes:\n  - host: pypi.org\n';
    const proposal = await propose(SLUG, {
      justification: 'need the GitHub API for the release script',
      currentFile,
      idempotencyKey: 'req-1',
      ttlMs: null,
    });

    expect(proposal).toEqual({
      id: expect.stringMatching(UUID),
      seq: 1,
      slug: SLUG,
      kind: 'egress-allow',
      origin: 'agent',
      target: 'operator',
      payload: ROUTES_YAML,
      justification: 'need the GitHub API for the release script',
      currentFile,
      currentFileHash: sha256(currentFile),
      idempotencyKey: 'req-1',
      state: 'pending',
      createdAt: expect.any(Number),
      expiresAt: null,
      updatedAt: proposal.createdAt,
      // Written through the host's store, so signed with the host key.
      seal: expect.stringMatching(/^sig:/),
    });
    expect(queue.readProposal(SLUG, proposal.id)).toEqual(proposal);
    expect(queue.listPendingProposals()).toEqual([proposal]);
    expect(queue.readResponse(SLUG, proposal.id)).toBeUndefined();
    expect(eventTypesFor(proposal.id)).toEqual(['created']);
  });

  it('gives proposals the default expiry unless told otherwise, and accepts a bare current-file hash', async () => {
    const hash = sha256('old file');
    const proposal = await propose(SLUG, { currentFileHash: hash });
    expect(proposal.expiresAt).toBe(proposal.createdAt + DEFAULT_PROPOSAL_TTL_MS);
    expect(proposal.currentFileHash).toBe(hash);
    expect(proposal.currentFile).toBeNull();
  });

  it('answers, waits, archives: the consumer sees the response, then archives exactly once', async () => {
    const proposal = await propose(SLUG, { currentFile: 'routes:\n  - host: pypi.org\n' });

    const response = await queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator', notes: 'fine' });
    expect(response).toEqual({ proposalId: proposal.id, status: 'approved', notes: 'fine', finalPayload: null, responder: 'operator', createdAt: expect.any(Number), seal: expect.stringMatching(/^sig:/) });
    expect(queue.readResponse(SLUG, proposal.id)).toEqual(response);
    expect(queue.readProposal(SLUG, proposal.id)).toMatchObject({ state: 'answered', updatedAt: response.createdAt });
    expect(queue.listPendingProposals()).toEqual([]);

    const [entry, ...others] = auditFor(proposal.id);
    expect(others).toEqual([]);
    expect(entry).toMatchObject({ slug: SLUG, component: 'egress', action: 'proposal-decision', kind: 'egress-allow', status: 'approved', notes: 'fine', actor: 'operator', ts: response.createdAt });
    expect(entry?.diff).toMatch(/- {2}- host: pypi\.org\n\+ {2}- host: api\.github\.com/);

    expect(await queue.waitForResponse(SLUG, proposal.id, { timeoutMs: 10_000 })).toEqual({
      outcome: 'answered',
      proposal: queue.readProposal(SLUG, proposal.id),
      response,
    });

    expect(await queue.archiveProposal(SLUG, proposal.id)).toBe(true);
    expect(queue.readProposal(SLUG, proposal.id)?.state).toBe('archived');
    expect(await queue.archiveProposal(SLUG, proposal.id)).toBe(false);
    // An archived proposal still has its answer for whoever looks it up later.
    expect(queue.readResponse(SLUG, proposal.id)).toEqual(response);
    expect(await queue.waitForResponse(SLUG, proposal.id, { timeoutMs: 10_000 })).toMatchObject({ outcome: 'answered', response });
    expect(eventTypesFor(proposal.id)).toEqual(['created', 'answered', 'archived']);
  });

  it('keeps a modified answer with its final file and audits the diff to it', async () => {
    const proposal = await propose();
    const finalPayload = routesFor('uploads.github.com');
    const response = await queue.writeResponse(SLUG, proposal.id, { status: 'modified', responder: 'operator', finalPayload });

    expect(response).toMatchObject({ status: 'modified', finalPayload });
    expect(auditFor(proposal.id)[0]).toMatchObject({ status: 'modified', diff: expect.stringContaining('+  - host: uploads.github.com') });
  });

  it('takes a rejection without a reason, even for kinds that need one to approve', async () => {
    const gitleaks = await proposeGitleaks();
    const token = await proposeToken();
    expect((await queue.writeResponse(SLUG, gitleaks.id, { status: 'rejected', responder: 'operator' })).status).toBe('rejected');
    expect((await queue.writeResponse(SLUG, token.id, { status: 'approved', responder: 'operator', notes: 'test fixture token, revoked' })).status).toBe('approved');
    expect(auditFor(gitleaks.id)[0]).toMatchObject({ component: 'git-gate', status: 'rejected' });
    expect(auditFor(token.id)[0]).toMatchObject({ component: 'egress', status: 'approved', notes: 'test fixture token, revoked' });
  });

  it('waits: pending at the deadline (the proposal stays queued), then resolves when answered', async () => {
    const proposal = await propose();
    expect(await queue.waitForResponse(SLUG, proposal.id, { timeoutMs: 20 })).toEqual({
      outcome: 'pending',
      proposalId: proposal.id,
      proposal: queue.readProposal(SLUG, proposal.id),
    });
    expect(queue.listPendingProposals()).toHaveLength(1);

    const waiting = queue.waitForResponse(SLUG, proposal.id, { timeoutMs: 60_000 });
    const response = await queue.writeResponse(SLUG, proposal.id, { status: 'rejected', responder: 'operator', notes: 'no' });
    expect(await waiting).toMatchObject({ outcome: 'answered', response });
  });

  it('cancels a pending proposal once, audited, and reports it as cancelled (not rejected)', async () => {
    const proposal = await propose();
    expect(await queue.cancelProposal(SLUG, proposal.id, { actor: 'agent', reason: 'no longer needed' })).toBe(true);
    expect(await queue.cancelProposal(SLUG, proposal.id, { actor: 'agent', reason: 'again' })).toBe(false);

    expect(queue.readProposal(SLUG, proposal.id)?.state).toBe('cancelled');
    expect(auditFor(proposal.id)).toEqual([expect.objectContaining({ action: 'proposal-cancelled', status: 'cancelled', notes: 'no longer needed', actor: 'agent' })]);
    expect(await queue.waitForResponse(SLUG, proposal.id, { timeoutMs: 10_000 })).toMatchObject({ outcome: 'cancelled' });
    expect(await queue.archiveProposal(SLUG, proposal.id)).toBe(false);
    expect(eventTypesFor(proposal.id)).toEqual(['created', 'cancelled']);
  });

  it('delivers its own changes to in-process subscribers, filtered by slug, target and type', async () => {
    const forOther = nextBatch((listener) => queue.subscribe({ slug: 'other-bottle' }, listener));
    const created = nextBatch((listener) => queue.subscribe({ slug: SLUG, types: ['created'] }, listener));
    const proposal = await propose();
    expect(await created).toEqual([expect.objectContaining({ type: 'created', proposalId: proposal.id, slug: SLUG, target: 'operator' })]);

    const answered = nextBatch((listener) => queue.forSlug(SLUG).subscribe({ types: ['answered'] }, listener));
    await queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator' });
    expect(await answered).toEqual([expect.objectContaining({ type: 'answered', proposalId: proposal.id })]);

    const other = await propose('other-bottle');
    expect(await forOther).toEqual([expect.objectContaining({ type: 'created', proposalId: other.id, slug: 'other-bottle' })]);
  });
});

describe('FIFO listing across bottles', () => {
  it('lists pending proposals oldest first whichever bottle they came from', async () => {
    const order = ['bottle-b', 'bottle-a', 'bottle-c', 'bottle-a', 'bottle-b', 'bottle-c', 'bottle-a'];
    const written: Proposal[] = [];
    for (const [index, slug] of order.entries()) written.push(await propose(slug, { payload: routesFor(`h${index}.example.com`) }));

    expect(queue.listPendingProposals().map((p) => p.id)).toEqual(written.map((p) => p.id));
    expect(queue.listPendingProposals({ limit: 3 }).map((p) => p.id)).toEqual(written.slice(0, 3).map((p) => p.id));
    expect(queue.listPendingProposals({ slug: 'bottle-a' }).map((p) => p.id)).toEqual(written.filter((p) => p.slug === 'bottle-a').map((p) => p.id));

    await queue.writeResponse('bottle-b', (written[0] as Proposal).id, { status: 'approved', responder: 'operator' });
    await queue.cancelProposal('bottle-a', (written[3] as Proposal).id, { actor: 'agent', reason: 'withdrawn' });
    expect(queue.listPendingProposals().map((p) => p.id)).toEqual(written.filter((_, i) => i !== 0 && i !== 3).map((p) => p.id));
  });

  it('puts each bottle’s oldest first, in turns, and the summaries carry the same rows, order and seal verdicts', async () => {
    const flood: Proposal[] = [];
    for (let i = 0; i < 4; i++) flood.push(await propose('flood', { payload: routesFor(`f${i}.example.com`) }));
    const quiet = await propose('quiet');
    const fair = [flood[0], quiet, flood[1], flood[2], flood[3]].map((p) => (p as Proposal).id);
    expect(queue.listPendingProposals().map((p) => p.id)).toEqual(fair);
    expect(queue.listPendingProposals({ limit: 2 }).map((p) => p.id)).toEqual(fair.slice(0, 2));

    // Raw SQL swaps one payload under its seal: the summary's hash is of what is stored now, and both verdicts say forged.
    db.prepare('UPDATE proposals SET payload = ? WHERE id = ?').run(routesFor('evil.example.com'), (flood[2] as Proposal).id);
    const summaries = queue.listPendingSummaries();
    const full = queue.listPendingProposals();
    expect(summaries.map((s) => s.id)).toEqual(fair);
    expect(summaries.map((s) => s.payloadSha256)).toEqual(full.map((p) => sha256(p.payload)));
    expect(summaries.map((s) => queue.summarySeal(s))).toEqual(full.map((p) => queue.proposalSeal(p)));
    expect(summaries.map((s) => queue.summarySeal(s))).toEqual(['host', 'host', 'host', 'forged', 'host']);
    expect(Object.keys(summaries[0] ?? {})).not.toContain('payload');
  });

  it('keeps downward proposals (target sidecar) out of the operator list and lists them separately', async () => {
    const upward = await propose();
    const downward = await propose(SLUG, { kind: 'egress-routes-apply', origin: 'host' });
    expect(downward.target).toBe('sidecar');
    expect(queue.listPendingProposals().map((p) => p.id)).toEqual([upward.id]);
    expect(queue.listPendingProposals({ target: 'sidecar' }).map((p) => p.id)).toEqual([downward.id]);
    expect(queue.forSlug(SLUG).listPendingProposals({ target: 'sidecar' }).map((p) => p.id)).toEqual([downward.id]);
  });
});

describe('idempotency keys', () => {
  it('returns the first proposal for a retried request, without a second row or event', async () => {
    const first = await propose(SLUG, { idempotencyKey: 'push-1234', justification: 'why' });
    const counts = rowCounts(db);
    const retry = await propose(SLUG, { idempotencyKey: 'push-1234', justification: 'why' });
    expect(retry).toEqual(first);
    expect(rowCounts(db)).toEqual(counts);

    // Still the same proposal after it was answered: the retry learns its fate instead of asking again.
    await queue.writeResponse(SLUG, first.id, { status: 'approved', responder: 'operator' });
    expect(await propose(SLUG, { idempotencyKey: 'push-1234', justification: 'why' })).toMatchObject({ id: first.id, state: 'answered' });
  });

  it('refuses the same key for a different request, naming the first proposal', async () => {
    const first = await propose(SLUG, { idempotencyKey: 'push-1234' });
    const error = await expectRefused(() => propose(SLUG, { idempotencyKey: 'push-1234', payload: routesFor('other.example.com') }), 'conflict', new RegExp(`idempotency key "push-1234" was already used for a different egress-allow proposal \\(${first.id}\\).*Use a new key`));
    expect(error).toMatchObject({ code: 'conflict' });
    await expectRefused(() => propose(SLUG, { idempotencyKey: 'push-1234', justification: 'changed my mind' }), 'conflict', /already used/);
    await expectRefused(() => propose(SLUG, { idempotencyKey: 'push-1234', kind: 'egress-block' }), 'conflict', /already used/);
  });

  it('scopes keys to their bottle', async () => {
    const a = await propose('bottle-a', { idempotencyKey: 'k' });
    const b = await propose('bottle-b', { idempotencyKey: 'k' });
    expect(a.id).not.toBe(b.id);
  });
});

describe('exactly-once answers', () => {
  it('a second answer is a conflict and changes nothing; the first stands', async () => {
    const proposal = await propose();
    const first = await queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'alice' });

    const error = await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { status: 'rejected', responder: 'bob' }), 'conflict', /is not pending: it was already answered/);
    expect(error).toMatchObject({ code: 'conflict' });
    expect((error as SuperviseError).state).toBe('answered');
    expect(queue.readResponse(SLUG, proposal.id)).toEqual(first);
    expect(auditFor(proposal.id)).toHaveLength(1);
  });

  it('two answers started together on one connection: one wins, one conflicts', async () => {
    const proposal = await propose();
    const results = await Promise.allSettled([
      queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'alice' }),
      queue.writeResponse(SLUG, proposal.id, { status: 'rejected', responder: 'bob' }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toMatchObject({ code: 'conflict' });
    expect(db.prepare('SELECT count(*) FROM responses').pluck().get()).toBe(1);
    expect(auditFor(proposal.id)).toHaveLength(1);
  });
});

describe('archiving belongs to the consumer', () => {
  it('a pending proposal cannot be archived', async () => {
    const proposal = await propose();
    const error = await expectRefused(() => queue.archiveProposal(SLUG, proposal.id), 'conflict', /has not been answered yet, so it cannot be archived\. Wait for its response first/);
    expect((error as SuperviseError).state).toBe('pending');
  });

  it('archive returns true once, then false; expired proposals are not archived', async () => {
    const proposal = await propose();
    await queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator' });
    expect(await queue.archiveProposal(SLUG, proposal.id)).toBe(true);
    expect(await queue.archiveProposal(SLUG, proposal.id)).toBe(false);

    const expired = await proposeAndLetExpire();
    await queue.expireDue();
    expect(await queue.archiveProposal(SLUG, expired.id)).toBe(false);
    expect(queue.readProposal(SLUG, expired.id)?.state).toBe('expired');
  });
});

describe('expiry is its own outcome', () => {
  it('a waiter learns "expired", never "rejected"; the expiry is audited once; it can never be answered', async () => {
    const proposal = await proposeAndLetExpire();
    expect(queue.listPendingProposals()).toEqual([]);

    const outcome = await queue.waitForResponse(SLUG, proposal.id, { timeoutMs: 60_000 });
    expect(outcome).toMatchObject({ outcome: 'expired', proposal: { id: proposal.id, state: 'expired' } });
    expect(queue.readResponse(SLUG, proposal.id)).toBeUndefined();
    expect(auditFor(proposal.id)).toEqual([
      expect.objectContaining({ action: 'expired', status: 'expired', actor: 'supervise', component: 'egress', kind: 'egress-allow', slug: SLUG, notes: expect.stringMatching(/^unanswered since .*; expired at /) }),
    ]);
    expect(eventTypesFor(proposal.id)).toEqual(['created', 'expired']);

    const error = await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator' }), 'conflict', /expired unanswered and can no longer be answered/);
    expect((error as SuperviseError).state).toBe('expired');
    expect(await queue.expireDue()).toBe(0);
    expect(auditFor(proposal.id)).toHaveLength(1);
  });

  it('whoever next writes sweeps due proposals, each with its own audit entry', async () => {
    const a = await proposeAndLetExpire('bottle-a');
    const b = await proposeAndLetExpire('bottle-b');
    const fresh = await propose('bottle-c');

    expect(queue.readProposal('bottle-a', a.id)?.state).toBe('expired');
    expect(queue.readProposal('bottle-b', b.id)?.state).toBe('expired');
    expect(queue.readProposal('bottle-c', fresh.id)?.state).toBe('pending');
    expect(db.prepare(`SELECT proposal_id FROM audit_entries WHERE action = 'expired' ORDER BY seq`).pluck().all()).toEqual([a.id, b.id]);
  });

  it('expireDue sweeps and counts', async () => {
    await proposeAndLetExpire('bottle-a');
    await proposeAndLetExpire('bottle-b');
    expect(await queue.expireDue()).toBe(1); // the second enqueue already swept the first
    expect(await queue.expireDue()).toBe(0);
    expect(db.prepare(`SELECT count(*) FROM proposals WHERE state = 'expired'`).pluck().get()).toBe(2);
  });
});

describe('forSlug isolation', () => {
  it("a bottle's view can neither see nor touch another bottle's proposals", async () => {
    const alpha = queue.forSlug('alpha');
    const beta = queue.forSlug('beta');
    expect(alpha.slug).toBe('alpha');
    const mine = await alpha.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
    const theirs = await beta.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });

    expect(mine.slug).toBe('alpha');
    expect(alpha.readProposal(mine.id)).toEqual(mine);
    expect(alpha.readProposal(theirs.id)).toBeUndefined();
    expect(alpha.listPendingProposals().map((p) => p.id)).toEqual([mine.id]);

    const notFound = /no proposal ".*" for bottle "alpha"\. Check the id/;
    await expectRefused(() => alpha.writeResponse(theirs.id, { status: 'approved', responder: 'sidecar' }), 'not-found', notFound);
    await expectRefused(() => alpha.archiveProposal(theirs.id), 'not-found', notFound);
    await expectRefused(() => alpha.cancelProposal(theirs.id, { actor: 'agent', reason: 'x' }), 'not-found', notFound);
    await expectRefused(() => alpha.waitForResponse(theirs.id, { timeoutMs: 10 }), 'not-found', notFound);

    await queue.writeResponse('beta', theirs.id, { status: 'approved', responder: 'operator' });
    expect(alpha.readResponse(theirs.id)).toBeUndefined();
    expect(beta.readResponse(theirs.id)?.status).toBe('approved');
  });
});

describe('bad input is refused with a clear error and writes nothing', () => {
  describe('invalid slugs', () => {
    const fix = /A slug is 1–63 characters of letters, digits/;
    const cases: Array<[string, unknown, RegExp]> = [
      ['empty', '', /bottle slug is empty/],
      ['..', '..', /contains "\.\."/],
      ['../x', '../x', /contains a path separator/],
      ['a/b', 'a/b', /contains a path separator/],
      ['a\\b', 'a\\b', /contains a path separator/],
      ['a newline', 'acme\napi', /contains control characters/],
      ['a NUL', 'acme\u0000', /contains control characters/],
      ['DEL', 'acme\u007f', /contains control characters/],
      [`${MAX_SLUG_LENGTH + 1} characters`, 'a'.repeat(MAX_SLUG_LENGTH + 1), new RegExp(`is ${MAX_SLUG_LENGTH + 1} characters long, over the limit of ${MAX_SLUG_LENGTH}`)],
      ['200 characters', 'a'.repeat(200), /over the limit/],
      ['a leading dot', '.hidden', /characters that are not allowed/],
      ['a space', 'acme api', /characters that are not allowed/],
      ['not a string', 42, /bottle slug must be a string, got number/],
    ];
    for (const [name, slug, message] of cases) {
      it(name, async () => {
        await propose(); // something in every table so "unchanged" is not trivially true
        await expectRefused(() => queue.writeProposal(slug as string, { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML }), 'invalid-slug', message);
        await expectRefused(() => queue.writeProposal(slug as string, { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML }), 'invalid-slug', fix);
        await expectRefused(() => queue.forSlug(slug as string), 'invalid-slug', message);
      });
    }

    it('are refused by every entry point, not only enqueue', async () => {
      const proposal = await propose();
      await queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator' });
      const bad = '../etc';
      const why = /contains a path separator/;
      await expectRefused(() => queue.readProposal(bad, proposal.id), 'invalid-slug', why);
      await expectRefused(() => queue.readResponse(bad, proposal.id), 'invalid-slug', why);
      await expectRefused(() => queue.listPendingProposals({ slug: bad }), 'invalid-slug', why);
      await expectRefused(() => queue.writeResponse(bad, proposal.id, { status: 'approved', responder: 'operator' }), 'invalid-slug', why);
      await expectRefused(() => queue.archiveProposal(bad, proposal.id), 'invalid-slug', why);
      await expectRefused(() => queue.cancelProposal(bad, proposal.id, { actor: 'agent', reason: 'x' }), 'invalid-slug', why);
      await expectRefused(() => queue.waitForResponse(bad, proposal.id, { timeoutMs: 10 }), 'invalid-slug', why);
    });

    it(`accepts a slug of exactly ${MAX_SLUG_LENGTH} characters`, async () => {
      expect((await propose('a'.repeat(MAX_SLUG_LENGTH))).slug).toHaveLength(MAX_SLUG_LENGTH);
    });
  });

  describe('proposals', () => {
    beforeEach(async () => {
      await propose();
    });

    const cases: Array<[string, Partial<NewProposal>, SuperviseErrorCode, RegExp]> = [
      ['an unknown kind', { kind: 'egress-allowed' }, 'unknown-kind', /unknown proposal kind "egress-allowed"\. Known kinds: egress-allow, egress-block, gitleaks-allow, egress-token-allow/],
      ['an oversized payload', { payload: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) }, 'too-large', new RegExp(`payload is ${MAX_PAYLOAD_BYTES + 1} bytes, over the limit of ${MAX_PAYLOAD_BYTES} bytes\\. Shorten it`)],
      ['a payload over the limit in bytes though not in characters', { payload: '€'.repeat(Math.ceil((MAX_PAYLOAD_BYTES + 1) / 3)) }, 'too-large', /payload is \d+ bytes, over the limit/],
      ['an oversized justification', { justification: 'j'.repeat(MAX_JUSTIFICATION_BYTES + 1) }, 'too-large', new RegExp(`justification is ${MAX_JUSTIFICATION_BYTES + 1} bytes, over the limit of ${MAX_JUSTIFICATION_BYTES}`)],
      ['a payload that is not a string', { payload: { routes: [] } as unknown as string }, 'invalid-payload', /payload must be a string/],
      ['a routes file that is not one', { payload: 'routes: nope\n' }, 'invalid-payload', /payload is not a valid egress-allow payload: .*routes/s],
      ['a routes file for egress-block that is empty YAML', { kind: 'egress-block', payload: '' }, 'invalid-payload', /not a valid egress-block payload/],
      ['a gitleaks report with no findings', { kind: 'gitleaks-allow', payload: '{"findings":[]}' }, 'invalid-payload', /not a valid gitleaks-allow payload: .*at least one finding/s],
      ['a gitleaks report that is YAML', { kind: 'gitleaks-allow', payload: ROUTES_YAML }, 'invalid-payload', /not a valid gitleaks-allow payload: .*not valid JSON/s],
      ['a token report with an unknown key (a raw token)', { kind: 'egress-token-allow', payload: JSON.stringify({ ...JSON.parse(TOKEN_REPORT), token: 'ghp_secret' }) }, 'invalid-payload', /not a valid egress-token-allow payload: .*unknown key "token"/s],
      ['an origin with spaces', { origin: 'agent smith' }, 'invalid-input', /origin "agent smith" is not valid/],
      ['an unknown target', { target: 'everyone' as 'operator' }, 'invalid-input', /target "everyone" is not valid: use "operator" or "sidecar"/],
      ['an idempotency key with a space', { idempotencyKey: 'a b' }, 'invalid-input', /idempotency key must be 1–200 printable characters without spaces/],
      ['an idempotency key that is too long', { idempotencyKey: 'k'.repeat(201) }, 'invalid-input', /idempotency key must be/],
      ['a zero ttl', { ttlMs: 0 }, 'invalid-input', /ttlMs must be a positive number of milliseconds up to \d+ \(a year\), or null for no expiry; got 0\./],
      ['a negative ttl', { ttlMs: -5 }, 'invalid-input', /got -5/],
      ['a NaN ttl', { ttlMs: Number.NaN }, 'invalid-input', /got NaN/],
      ['a current-file hash that does not match the current file', { currentFile: 'a', currentFileHash: sha256('b') }, 'invalid-input', /currentFileHash does not match the sha256 of currentFile/],
      ['a current-file hash that is not sha256 hex', { currentFileHash: 'abc' }, 'invalid-input', /must be 64 lowercase hex characters/],
      ['an oversized current file', { currentFile: 'c'.repeat(MAX_PAYLOAD_BYTES + 1) }, 'too-large', /current file is \d+ bytes/],
    ];
    for (const [name, overrides, code, message] of cases) {
      it(name, async () => {
        await expectRefused(() => propose(SLUG, overrides), code, message);
      });
    }

    it(`accepts a payload of exactly ${MAX_PAYLOAD_BYTES} bytes`, async () => {
      const filler = MAX_PAYLOAD_BYTES - Buffer.byteLength(ROUTES_YAML) - 2;
      const payload = `${ROUTES_YAML}#${'x'.repeat(filler)}\n`;
      expect(Buffer.byteLength(payload)).toBe(MAX_PAYLOAD_BYTES);
      expect((await propose(SLUG, { payload })).payload).toBe(payload);
    });
  });

  describe('responses', () => {
    const answer = { status: 'approved', responder: 'operator' } as const;

    it('an unknown status', async () => {
      const proposal = await propose();
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { status: 'maybe' as 'approved', responder: 'operator' }), 'invalid-input', /response status "maybe" is not valid: use approved, modified or rejected/);
    });

    it('an unknown id, or one that is not an id at all', async () => {
      await propose();
      const id = randomUUID();
      await expectRefused(() => queue.writeResponse(SLUG, id, answer), 'not-found', new RegExp(`no proposal "${id}" for bottle "${SLUG}"\\. Check the id`));
      await expectRefused(() => queue.writeResponse(SLUG, 'DROP TABLE proposals', answer), 'not-found', /no proposal "DROP TABLE proposals"/);
      await expectRefused(() => queue.archiveProposal(SLUG, id), 'not-found', /no proposal/);
      await expectRefused(() => queue.cancelProposal(SLUG, id, { actor: 'agent', reason: 'x' }), 'not-found', /no proposal/);
    });

    it('an already answered proposal, and an archived one', async () => {
      const proposal = await propose();
      await queue.writeResponse(SLUG, proposal.id, answer);
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, answer), 'conflict', /already answered/);
      await expectRefused(() => queue.cancelProposal(SLUG, proposal.id, { actor: 'agent', reason: 'x' }), 'conflict', /already answered/);
      await queue.archiveProposal(SLUG, proposal.id);
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, answer), 'conflict', /already answered and archived/);
    });

    it('an expired proposal, before and after the sweep moved it', async () => {
      const proposal = await proposeAndLetExpire();
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, answer), 'conflict', /expired unanswered and can no longer be answered/);
      await queue.expireDue();
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, answer), 'conflict', /expired unanswered/);
      await expectRefused(() => queue.cancelProposal(SLUG, proposal.id, { actor: 'agent', reason: 'x' }), 'conflict', /expired unanswered/);
    });

    it('a cancelled proposal', async () => {
      const proposal = await propose();
      await queue.cancelProposal(SLUG, proposal.id, { actor: 'agent', reason: 'withdrawn' });
      const error = await expectRefused(() => queue.writeResponse(SLUG, proposal.id, answer), 'conflict', /it was cancelled by its proposer/);
      expect((error as SuperviseError).state).toBe('cancelled');
    });

    it("another bottle's proposal", async () => {
      const proposal = await propose('other-bottle');
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, answer), 'not-found', new RegExp(`no proposal "${proposal.id}" for bottle "${SLUG}"`));
      expect(queue.readProposal('other-bottle', proposal.id)?.state).toBe('pending');
    });

    for (const [kind, make] of [['gitleaks-allow', proposeGitleaks], ['egress-token-allow', proposeToken]] as const) {
      it(`an approval of ${kind} without a reason, or with only whitespace`, async () => {
        const proposal = await make();
        const message = new RegExp(`approving a ${kind} proposal needs a reason: say why this is safe to allow`);
        await expectRefused(() => queue.writeResponse(SLUG, proposal.id, answer), 'reason-required', message);
        await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { ...answer, notes: ' \n\t ' }), 'reason-required', message);
      });

      it(`a modify of ${kind}`, async () => {
        const proposal = await make();
        await expectRefused(
          () => queue.writeResponse(SLUG, proposal.id, { status: 'modified', responder: 'operator', notes: 'edited', finalPayload: proposal.payload }),
          'modify-not-allowed',
          new RegExp(`${kind} proposals cannot be modified, only approved \\(with a reason\\) or rejected`),
        );
      });
    }

    it('a modify without the final file, a final file without modify, and an invalid final file', async () => {
      const proposal = await propose();
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { status: 'modified', responder: 'operator' }), 'invalid-input', /a modified response needs the final file \(finalPayload\)/);
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { ...answer, finalPayload: ROUTES_YAML }), 'invalid-input', /a final file only goes with status "modified", not "approved"/);
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { status: 'modified', responder: 'operator', finalPayload: 'routes: 7\n' }), 'invalid-payload', /the modified file is not a valid egress-allow payload/);
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { status: 'modified', responder: 'operator', finalPayload: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) }), 'too-large', /final file is \d+ bytes/);
    });

    it('oversized notes and an invalid responder', async () => {
      const proposal = await propose();
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { ...answer, notes: 'n'.repeat(MAX_NOTES_BYTES + 1) }), 'too-large', new RegExp(`notes is ${MAX_NOTES_BYTES + 1} bytes, over the limit`));
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: '' }), 'invalid-input', /responder "" is not valid/);
      await expectRefused(() => queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'rm -rf /' }), 'invalid-input', /responder "rm -rf \/" is not valid/);
      await expectRefused(() => queue.cancelProposal(SLUG, proposal.id, { actor: 'a\nb', reason: 'x' }), 'invalid-input', /actor "a\\nb" is not valid/);
    });
  });
});

describe('kinds registered by the launcher', () => {
  it('enqueue, validate and answer with the kind’s own rules; the host’s other stores know it by its record', async () => {
    const kinds = KindRegistry.withBuiltins().register({
      name: 'deploy-approve',
      component: 'deploy',
      target: 'operator',
      modifiable: true,
      reasonRequiredToApprove: false,
      format: 'text',
      schema: { type: 'string', pattern: '^deploy [a-z]+$' },
      description: 'a deploy the launcher wants a human to confirm',
    });
    const launcher = await openHostDatabase({ path: database.path, watch: false, kinds });
    try {
      const proposal = await launcher.queue.writeProposal(SLUG, { kind: 'deploy-approve', origin: 'host', payload: 'deploy api' });
      expect(proposal).toMatchObject({ kind: 'deploy-approve', target: 'operator' });

      const before = dumpData(db);
      await expectFailure(() => launcher.queue.writeProposal(SLUG, { kind: 'deploy-approve', origin: 'host', payload: 'DEPLOY!' }), 'invalid-payload', /payload is not a valid deploy-approve payload: 1 problem in the deploy-approve payload \(text\):\n {2}- \(top level\): must match pattern/);
      await expectFailure(() => queue.writeProposal(SLUG, { kind: 'deploy-approve', origin: 'host', payload: 'DEPLOY!' }), 'invalid-payload', /must match pattern/);
      await expectFailure(() => queue.writeResponse(SLUG, proposal.id, { status: 'modified', responder: 'operator', finalPayload: 'DEPLOY!' }), 'invalid-payload', /the modified file is not a valid deploy-approve payload/);
      expect(dumpData(db)).toEqual(before);

      await queue.writeResponse(SLUG, proposal.id, { status: 'modified', responder: 'operator', finalPayload: 'deploy web' });
      expect(auditFor(proposal.id)).toEqual([expect.objectContaining({ component: 'deploy', kind: 'deploy-approve', status: 'modified' })]);
    } finally {
      await launcher.close();
    }
  });

  it('refuses a duplicate or malformed kind name', async () => {
    const kinds = KindRegistry.withBuiltins();
    const definition = { ...kinds.get('egress-allow'), format: 'yaml', schema: true } as const;
    await expectFailure(() => kinds.register(definition), 'invalid-input', /kind "egress-allow" is already registered/);
    await expectFailure(() => kinds.register({ ...definition, name: 'Bad Name' }), 'invalid-input', /kind name "Bad Name" is not valid/);
  });
});

describe('a response and its audit entry commit together', () => {
  it('every response has exactly one decision entry that agrees with it', async () => {
    for (let i = 0; i < 12; i += 1) {
      const slug = `bottle-${i % 3}`;
      const proposal = i % 4 === 3 ? await proposeGitleaks(slug) : await propose(slug, { payload: routesFor(`h${i}.example.com`) });
      const responder = `op-${i}`;
      if (i % 3 === 0 && proposal.kind === 'egress-allow') {
        await queue.writeResponse(slug, proposal.id, { status: 'modified', responder, finalPayload: routesFor(`m${i}.example.com`) });
      } else {
        await queue.writeResponse(slug, proposal.id, { status: i % 2 === 0 ? 'approved' : 'rejected', responder, notes: `reason ${i}` });
      }
    }
    const joined = db
      .prepare(
        `SELECT r.proposal_id, r.status, r.responder, r.notes, a.status AS audit_status, a.actor, a.notes AS audit_notes, a.ts, r.created_at
         FROM responses r JOIN audit_entries a ON a.proposal_id = r.proposal_id AND a.action = 'proposal-decision'`,
      )
      .all() as Array<Record<string, unknown>>;
    expect(joined).toHaveLength(12);
    expect(db.prepare(`SELECT count(*) FROM audit_entries WHERE action = 'proposal-decision'`).pluck().get()).toBe(12);
    for (const row of joined) expect([row.audit_status, row.actor, row.audit_notes, row.ts]).toEqual([row.status, row.responder, row.notes, row.created_at]);
    expect(database.audit.verify()).toMatchObject({ ok: true, head: { count: 12 } });
  });

  for (const table of ['audit_entries', 'events'] as const) {
    it(`when the ${table} insert fails, the response is not committed either`, async () => {
      const proposal = await propose();
      // A second connection, as another process would, makes the insert fail inside the answer's transaction.
      const saboteur = openConnection(database.path);
      try {
        saboteur.exec(`CREATE TRIGGER sabotage BEFORE INSERT ON ${table} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
        const before = dumpData(db);
        const error = await (async () => {
          try {
            await queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator' });
          } catch (caught) {
            return caught as Error;
          }
          return undefined;
        })();
        expect(error?.message).toMatch(/disk on fire/);
        expect(dumpData(db)).toEqual(before);
        expect(queue.readProposal(SLUG, proposal.id)?.state).toBe('pending');
        saboteur.exec('DROP TRIGGER sabotage');
      } finally {
        saboteur.close();
      }
      await queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator' });
      expect(auditFor(proposal.id)).toHaveLength(1);
    });
  }
});
