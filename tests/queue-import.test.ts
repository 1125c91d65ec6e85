import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { readEventsAfter } from '../src/notify/events.js';
import type { ProposalResponse } from '../src/queue/proposal.js';
import type { ImportedProposal } from '../src/queue/queue-store.js';
import { writeTransaction } from '../src/storage/connection.js';
import { dumpData, ROUTES_YAML, tempDir } from './fixtures/storage-support.js';

let dir: string;
let database: SuperviseDatabase;

beforeEach(async () => {
  dir = tempDir('queue-import');
  database = await openHostDatabase({ path: path.join(dir, 'bot-bottle.db'), watch: false });
});
afterEach(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const CREATED = Date.UTC(2026, 5, 1, 10);

function imported(id: string, overrides: Partial<ImportedProposal> = {}): ImportedProposal {
  return {
    id,
    slug: 'acme',
    kind: 'egress-allow',
    origin: 'agent',
    payload: ROUTES_YAML,
    justification: 'needs the docs',
    currentFile: null,
    currentFileHash: null,
    createdAt: CREATED,
    expiresAt: CREATED + 60_000,
    ...overrides,
  };
}

const ANSWER: Omit<ProposalResponse, 'proposalId' | 'seal'> = { status: 'rejected', notes: 'not now', finalPayload: null, responder: 'alice', createdAt: CREATED + 5_000 };
const ID = '11111111-1111-4111-8111-111111111111';

const events = (): Array<{ type: string; proposalId: string }> => readEventsAfter(database.db, 0, Number.MAX_SAFE_INTEGER, 100).map(({ type, proposalId }) => ({ type, proposalId }));

describe('QueueStore.insertImportedWithinTransaction', () => {
  it('inserts the proposal as it was, for the operator, and announces it only when pending', async () => {
    await writeTransaction(database.db, () => {
      database.queue.insertImportedWithinTransaction(imported(ID), 'pending');
      database.queue.insertImportedWithinTransaction(imported('22222222-2222-4222-8222-222222222222', { slug: 'zeta' }), 'expired');
    });
    expect(database.queue.findProposal(ID)).toMatchObject({
      id: ID,
      slug: 'acme',
      kind: 'egress-allow',
      origin: 'agent',
      target: 'operator',
      payload: ROUTES_YAML,
      justification: 'needs the docs',
      idempotencyKey: null,
      state: 'pending',
      createdAt: CREATED,
      expiresAt: CREATED + 60_000,
      updatedAt: CREATED,
    });
    expect(database.queue.findProposal('22222222-2222-4222-8222-222222222222')).toMatchObject({ slug: 'zeta', state: 'expired' });
    expect(events()).toEqual([{ type: 'created', proposalId: ID }]);
  });

  it('commits with the rest of the caller\'s transaction, or not at all', async () => {
    const before = dumpData(database.db);
    await expect(
      writeTransaction(database.db, () => {
        database.queue.insertImportedWithinTransaction(imported(ID), 'pending');
        throw new Error('the batch failed later');
      }),
    ).rejects.toThrow('the batch failed later');
    expect(dumpData(database.db)).toEqual(before);
  });

  it('refuses to run outside a write transaction', () => {
    expect(() => database.queue.insertImportedWithinTransaction(imported(ID), 'pending')).toThrow(/needs an open write transaction/);
    expect(database.queue.findProposal(ID)).toBeUndefined();
  });
});

describe('QueueStore.answerImportedWithinTransaction', () => {
  beforeEach(async () => {
    await writeTransaction(database.db, () => database.queue.insertImportedWithinTransaction(imported(ID), 'pending'));
  });

  it('records the answer and the state it reached; announced, a waiter learns it is decided', async () => {
    await writeTransaction(database.db, () => database.queue.answerImportedWithinTransaction({ id: ID, slug: 'acme' }, ANSWER, 'answered', { announce: true }));
    expect(database.queue.readResponse('acme', ID)).toEqual({ proposalId: ID, ...ANSWER, seal: expect.stringMatching(/^sig:/) });
    expect(database.queue.findProposal(ID)).toMatchObject({ state: 'answered', updatedAt: ANSWER.createdAt });
    expect(events()).toEqual([
      { type: 'created', proposalId: ID },
      { type: 'answered', proposalId: ID },
    ]);
  });

  it('archives an answer its consumer had already read, silently when nobody saw it pending', async () => {
    const modified = { ...ANSWER, status: 'modified' as const, finalPayload: 'routes:\n  - host: docs.example.com\n' };
    await writeTransaction(database.db, () => database.queue.answerImportedWithinTransaction({ id: ID, slug: 'acme' }, modified, 'archived', { announce: false }));
    expect(database.queue.readResponse('acme', ID)).toEqual({ proposalId: ID, ...modified, seal: expect.stringMatching(/^sig:/) });
    expect(database.queue.findProposal(ID)?.state).toBe('archived');
    expect(events()).toEqual([{ type: 'created', proposalId: ID }]);
  });

  it('writes no audit entry: the imported audit log carries the old decisions', async () => {
    await writeTransaction(database.db, () => database.queue.answerImportedWithinTransaction({ id: ID, slug: 'acme' }, ANSWER, 'answered', { announce: true }));
    expect(database.audit.head().count).toBe(0);
  });

  it('refuses to run outside a write transaction', () => {
    expect(() => database.queue.answerImportedWithinTransaction({ id: ID, slug: 'acme' }, ANSWER, 'answered', { announce: true })).toThrow(/needs an open write transaction/);
    expect(database.queue.readResponse('acme', ID)).toBeUndefined();
  });
});
