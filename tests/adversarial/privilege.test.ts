/**
 * Least privilege (threat model item 5): code in a bottle may be compromised, so what a sidecar is
 * given must not let it do what only the host may. Found on the earlier main: through the slug view
 * a sidecar gets, `writeResponse` on its own gitleaks-allow proposal succeeded as operator:alice;
 * the sidecar's storage entry point returned the unrestricted stores, with which it answered and
 * archived another bottle's proposal and appended a forged audit entry; and
 * `bot-bottle-sidecar propose --origin host` (or operator:alice) was accepted. Each attack here
 * runs in its own process through the sidecar entry point, against a real database file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../../src/database.js';
import { openBottleKeyring } from '../../src/keys/keyring.js';
import { QueueStore } from '../../src/queue/queue-store.js';
import { openConnection, type Db } from '../../src/storage/connection.js';
import { bottleKeysDir } from '../fixtures/bottle-keys.js';
import { hostileBottle } from '../fixtures/hostile-run.js';
import { assertBuilt, killChildren, runSidecar } from '../fixtures/sidecar-harness.js';
import { GITLEAKS_REPORT, ROUTES_YAML, dumpData, expectFailure, tempDir } from '../fixtures/storage-support.js';

const ACME = 'acme';
const BETA = 'beta';

let dir: string;
let dbFile: string;
let host: SuperviseDatabase;
let savedHome: string | undefined;

beforeAll(assertBuilt);

beforeEach(async () => {
  savedHome = process.env.HOME;
  dir = tempDir('privilege');
  process.env.HOME = dir;
  fs.mkdirSync(path.join(dir, 'supervise'), { mode: 0o700 });
  dbFile = path.join(dir, 'supervise', 'bot-bottle.db');
  host = await openHostDatabase({ path: dbFile, watch: false });
});

afterEach(async () => {
  await killChildren();
  await host.close();
  process.env.HOME = savedHome;
  fs.rmSync(dir, { recursive: true, force: true });
});

const asBottle = (slug: string, steps: unknown[]) => hostileBottle({ db: dbFile, slug, keysDir: bottleKeysDir(slug), steps });
const refusal = (code: string, message: RegExp) => ({ ok: false, code, message: expect.stringMatching(message) });

describe('the sidecar entry point (openSidecarStorage)', () => {
  it('hands out its bottle\'s views and close, never the stores, the audit log or the connection', async () => {
    const [inspected] = await asBottle(ACME, [{ op: 'inspect' }]);
    expect(inspected).toMatchObject({ ok: true });
    const { keys, queueHasForSlug, queueMethods } = (inspected as { value: { keys: string[]; queueHasForSlug: boolean; queueMethods: string[] } }).value;
    expect(keys).toEqual(['bottle', 'close', 'failed', 'isOpen', 'path', 'queue', 'slug']);
    expect(queueHasForSlug).toBe(false);
    expect(queueMethods).not.toContain('findProposal');
  });

  it('its view cannot answer its own gitleaks-allow proposal, as operator:alice or as anyone', async () => {
    const before = dumpData(host.db);
    const results = await asBottle(ACME, [
      { op: 'propose', input: { kind: 'gitleaks-allow', origin: 'git-gate', payload: GITLEAKS_REPORT, justification: 'test fixture key' } },
      { op: 'answer', id: '$last', response: { status: 'approved', responder: 'operator:alice', notes: 'looks fine' } },
      { op: 'answer', id: '$last', response: { status: 'approved', responder: 'git-gate', notes: 'looks fine' } },
      { op: 'answer', id: '$last', response: { status: 'rejected', responder: 'sidecar', notes: 'no' } },
    ]);
    expect(results[0]).toMatchObject({ ok: true });
    const id = (results[0] as { value: { id: string } }).value.id;
    for (const answer of results.slice(1)) expect(answer).toEqual(refusal('forbidden', /addressed to the operator, and only the operator answers it/));

    // Only the proposal itself was written: it waits for the operator, with no answer and no decision entry.
    expect(host.queue.readProposal(ACME, id)).toMatchObject({ state: 'pending' });
    expect(host.queue.readResponse(ACME, id)).toBeUndefined();
    expect(host.audit.readAuditEntries({ proposalId: id })).toEqual([]);
    expect(dumpData(host.db).responses).toEqual(before.responses);
  });

  it('its view cannot read, answer, archive or cancel another bottle\'s proposal', async () => {
    const theirs = await host.queue.writeProposal(BETA, { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
    const before = dumpData(host.db);
    const results = await asBottle(ACME, [
      { op: 'read', id: theirs.id },
      { op: 'answer', id: theirs.id, response: { status: 'approved', responder: 'sidecar' } },
      { op: 'archive', id: theirs.id },
      { op: 'cancel', id: theirs.id },
    ]);
    expect(results[0]).toEqual({ ok: true, value: null });
    for (const attempt of results.slice(1)) expect(attempt).toEqual(refusal('not-found', new RegExp(`no proposal "${theirs.id}" for bottle "acme"`)));
    expect(dumpData(host.db)).toEqual(before);
  });

  it('its view cannot give its own sidecar orders, nor speak as the host or an operator', async () => {
    const before = dumpData(host.db);
    const results = await asBottle(ACME, [
      { op: 'propose', input: { kind: 'egress-routes-apply', origin: 'agent', payload: ROUTES_YAML } },
      { op: 'propose', input: { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML, target: 'sidecar' } },
      { op: 'propose', input: { kind: 'egress-allow', origin: 'host', payload: ROUTES_YAML } },
      { op: 'propose', input: { kind: 'egress-allow', origin: 'operator:alice', payload: ROUTES_YAML } },
      { op: 'propose', input: { kind: 'egress-allow', origin: 'Operator', payload: ROUTES_YAML } },
    ]);
    expect(results.slice(0, 2)).toEqual([
      refusal('forbidden', /a bottle cannot propose to its own sidecar/),
      refusal('forbidden', /a bottle cannot propose to its own sidecar/),
    ]);
    for (const attempt of results.slice(2)) expect(attempt).toEqual(refusal('forbidden', /names the host or an operator, which a bottle cannot speak as/));
    expect(dumpData(host.db)).toEqual(before);
  });
});

describe('bot-bottle-sidecar propose', () => {
  it('refuses --origin host and --origin operator:alice, writing nothing', async () => {
    const report = path.join(dir, 'report.json');
    fs.writeFileSync(report, GITLEAKS_REPORT);
    const before = dumpData(host.db);
    for (const origin of ['host', 'operator:alice']) {
      const run = await runSidecar(['propose', '--db', dbFile, '--kind', 'gitleaks-allow', '--payload-file', report, '--origin', origin, '--wait', '0'], { SUPERVISE_BOTTLE_SLUG: ACME, HOME: dir });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 4, stderr: expect.stringContaining('names the host or an operator, which a bottle cannot speak as') });
    }
    expect(dumpData(host.db)).toEqual(before);
  });
});

describe('a store opened with a bottle\'s keyring', () => {
  const opened: Db[] = [];
  function bottleStore(slug: string): QueueStore {
    const db = openConnection(dbFile, { fileMustExist: true });
    opened.push(db);
    return new QueueStore(db, { keyring: openBottleKeyring(slug, bottleKeysDir(slug)) });
  }
  afterEach(() => {
    for (const db of opened.splice(0)) db.close();
  });

  it('refuses every other slug, and the list of every bottle', async () => {
    const theirs = await host.queue.writeProposal(BETA, { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
    const store = bottleStore(ACME);
    const other = /this store belongs to bottle "acme" and cannot touch bottle "beta"'s proposals/;
    await expectFailure(() => store.writeProposal(BETA, { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML }), 'forbidden', other);
    await expectFailure(() => store.readProposal(BETA, theirs.id), 'forbidden', other);
    await expectFailure(() => store.writeResponse(BETA, theirs.id, { status: 'approved', responder: 'sidecar' }), 'forbidden', other);
    await expectFailure(() => store.archiveProposal(BETA, theirs.id), 'forbidden', other);
    await expectFailure(() => store.auditForged(theirs, 'proposal'), 'forbidden', other);
    await expectFailure(() => store.listPendingProposals({ slug: BETA }), 'forbidden', other);
    await expectFailure(() => store.listPendingProposals(), 'forbidden', /cannot touch every bottle's proposals/);
    await expectFailure(() => store.findProposal(theirs.id), 'forbidden', /cannot touch every bottle's proposals/);
    expect(() => store.subscribe({}, () => undefined)).toThrow(/cannot touch every bottle's proposals/);
  });

  it('answers a downward proposal as its sidecar, sealed with its key, but never as the host', async () => {
    const downward = await host.queue.writeProposal(ACME, { kind: 'egress-routes-apply', origin: 'host', payload: ROUTES_YAML });
    const store = bottleStore(ACME);
    await expectFailure(() => store.writeResponse(ACME, downward.id, { status: 'approved', responder: 'host', notes: 'applied' }), 'forbidden', /responder "host" names the host/);
    const answer = await store.writeResponse(ACME, downward.id, { status: 'approved', responder: 'sidecar', notes: 'applied' });
    expect(answer.seal).toMatch(/^mac:/);
    const proposal = host.queue.readProposal(ACME, downward.id);
    expect(proposal && host.queue.responseSeal(proposal, answer)).toBe('bottle');
  });
});

describe('the host through forSlug (the launcher)', () => {
  it('keeps the host\'s rights: it sends a downward proposal as the host, signed with the host key', async () => {
    const view = host.queue.forSlug(ACME);
    const downward = await view.writeProposal({ kind: 'egress-routes-apply', origin: 'host', payload: ROUTES_YAML });
    expect(downward).toMatchObject({ target: 'sidecar', origin: 'host', seal: expect.stringMatching(/^sig:/) });
    expect(view.proposalSeal(downward)).toBe('host');
  });
});
