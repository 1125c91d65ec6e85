// The host broker: `bot-bottle broker` and broker-mode sidecars as real processes over real HTTP,
// the host answering through its own database. Every request a sidecar could forge is tried.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { readBottleKey } from '../src/keys/key-files.js';
import { applyRoutes, prepareSupervise } from '../src/launcher/launcher.js';
import { MAX_BROKER_BODY_BYTES } from '../src/broker/protocol.js';
import { brokerPost, killBrokerChildren, startBrokerProcess, startBrokerSidecar, type Running } from './fixtures/broker-harness.js';
import { assertBuilt, connectClient, countRows, pendingFrom, tempDir } from './fixtures/sidecar-harness.js';

const SLUG = 'acme';
const OTHER = 'globex';
const ROUTES = 'routes:\n  - host: api.github.com\n';

let savedHome: string | undefined;
let keysDir: string;
let host: SuperviseDatabase;
let broker: Running;

beforeAll(() => assertBuilt());

beforeEach(async () => {
  savedHome = process.env.HOME;
  process.env.HOME = tempDir('broker-test-');
  keysDir = (await prepareSupervise(SLUG)).keysMount.source;
  await prepareSupervise(OTHER);
  host = await openHostDatabase();
  broker = await startBrokerProcess();
});

afterEach(async () => {
  await killBrokerChildren();
  await host.close();
  process.env.HOME = savedHome;
});

const structured = (result: unknown) => (result as { structuredContent?: Record<string, unknown> }).structuredContent;
const bottleKey = (slug: string): Buffer => readBottleKey(slug) as Buffer;
const auditActions = (): string[] => host.audit.readAuditEntries({}).map((entry) => entry.action);

async function agent(env: Record<string, string> = {}): Promise<{ sidecar: Running; client: Client }> {
  const sidecar = await startBrokerSidecar(broker.url, SLUG, keysDir, env);
  return { sidecar, client: await connectClient(sidecar.url) };
}

describe('broker mode: the sidecar without a database mount', () => {
  it('an MCP call is enqueued through the broker, sealed as the bottle, and the host’s answer comes back', async () => {
    const { client } = await agent();
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'clone acme repos' } });
    const proposal = await pendingFrom(host.queue, SLUG, call);
    expect(proposal).toMatchObject({ kind: 'egress-allow', origin: 'agent', payload: ROUTES, slug: SLUG });
    expect(host.queue.proposalSeal(proposal)).toBe('bottle');
    await host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'fine', responder: 'operator' });
    expect(structured(await call)).toEqual({ status: 'approved', notes: 'fine', proposal_id: proposal.id });
    expect(host.queue.readProposal(SLUG, proposal.id)?.state).toBe('archived');
    expect(host.bottles.listBottles().find((b) => b.slug === SLUG)?.lastHeartbeat).toEqual(expect.any(Number));
  });

  it('the downward flow: the launcher’s routes file is applied by the broker-mode sidecar', async () => {
    const routesFile = path.join(tempDir('broker-routes-'), 'routes.yaml');
    await agent({ SUPERVISE_ROUTES_FILE: routesFile });
    const result = await applyRoutes(SLUG, ROUTES, { timeoutMs: 30_000, database: host });
    expect(result).toMatchObject({ outcome: 'answered', status: 'approved' });
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(ROUTES);
    expect(host.queue.readProposal(SLUG, result.proposalId)).toMatchObject({ state: 'archived', target: 'sidecar' });
  });

  it('another bottle’s proposal id is not found, and nothing of it is shown', async () => {
    const other = await host.queue.writeProposal(OTHER, { kind: 'egress-allow', origin: 'agent', payload: ROUTES });
    const { client } = await agent();
    const result = (await client.callTool({ name: 'egress-allow', arguments: { proposal_id: other.id } })) as { isError?: boolean; content: Array<{ text: string }> };
    expect(result.isError).toBe(true);
    expect(result.content[0]?.text).toContain(`no proposal "${other.id}" for bottle "${SLUG}"`);
    expect(host.queue.readProposal(OTHER, other.id)?.state).toBe('pending');
  });

  it('SIGKILL of the broker mid-wait: the wait in flight comes back with the answer once a new broker is up', async () => {
    const { client } = await agent();
    const port = new URL(broker.url).port;
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'across a crash' } });
    const proposal = await pendingFrom(host.queue, SLUG, call);
    broker.child.kill('SIGKILL');
    await broker.exited;
    await host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'while it was down', responder: 'operator' });
    broker = await startBrokerProcess(['--port', port]);
    const result = await call;
    expect(structured(result), JSON.stringify(result)).toEqual({ status: 'approved', notes: 'while it was down', proposal_id: proposal.id });
    expect(host.queue.readProposal(SLUG, proposal.id)?.state).toBe('archived');
  });

  it('a broker stopped for longer than the wait: the call answers pending with its id, and resuming gets the answer', async () => {
    const { client, sidecar } = await agent({ SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '2' });
    const port = new URL(broker.url).port;
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'long outage' } });
    const proposal = await pendingFrom(host.queue, SLUG, call);
    // The broker dies during the wait, once the sidecar has the id back: a propose whose reply was
    // lost is retried with its idempotency key for the request timeout, which is another test.
    for (let tries = 0; !sidecar.stderr().includes(`proposal ${proposal.id} for bottle ${SLUG} (pending)`) && tries < 200; tries += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    broker.child.kill('SIGKILL');
    await broker.exited;
    expect(structured(await call)).toMatchObject({ status: 'pending', proposal_id: proposal.id });
    await host.queue.writeResponse(SLUG, proposal.id, { status: 'rejected', notes: 'no', responder: 'operator' });
    broker = await startBrokerProcess(['--port', port]);
    expect(structured(await client.callTool({ name: 'egress-allow', arguments: { proposal_id: proposal.id } }))).toEqual({ status: 'rejected', notes: 'no', proposal_id: proposal.id });
  });

  it('SIGTERM of the broker: waits in flight end pending at once, the broker exits 0', async () => {
    const { client } = await agent({ SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '1' });
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'shutdown' } });
    const proposal = await pendingFrom(host.queue, SLUG, call);
    broker.child.kill('SIGTERM');
    expect((await broker.exited).code).toBe(0);
    expect(structured(await call)).toMatchObject({ status: 'pending', proposal_id: proposal.id });
    expect(host.queue.readProposal(SLUG, proposal.id)?.state).toBe('pending');
  });
});

describe('broker: hostile requests', () => {
  const propose = { kind: 'egress-allow', origin: 'agent', payload: ROUTES };

  it('a correctly signed request is served', async () => {
    const answer = await brokerPost(broker.url, 'propose', propose, { slug: SLUG, bottleKey: bottleKey(SLUG) });
    expect(answer.status).toBe(200);
    expect(countRows(host, 'proposals')).toBe(1);
  });

  it('a wrong key is refused, audited once under the bottle it claimed, and writes nothing else', async () => {
    const answer = await brokerPost(broker.url, 'propose', propose, { slug: SLUG, bottleKey: randomBytes(32) });
    expect(answer.status).toBe(401);
    expect(answer.json).toMatchObject({ error: { code: 'unauthorized', message: expect.stringContaining('signature does not verify') } });
    expect(countRows(host, 'proposals')).toBe(0);
    await brokerPost(broker.url, 'propose', propose, { slug: SLUG, bottleKey: randomBytes(32) });
    expect(auditActions()).toEqual(['broker-auth-refused']);
    expect(host.audit.readAuditEntries({})[0]).toMatchObject({ slug: SLUG, component: 'broker', status: 'refused' });
  });

  it('another bottle’s key cannot act for this bottle, nor read its rows', async () => {
    const mine = await host.queue.writeProposal(SLUG, propose);
    const asOther = await brokerPost(broker.url, 'read', { id: mine.id }, { slug: OTHER, bottleKey: bottleKey(OTHER) });
    expect(asOther.json).toEqual({ proposal: null });
    const claimed = await brokerPost(broker.url, 'read', { id: mine.id }, { slug: SLUG, bottleKey: bottleKey(OTHER) });
    expect(claimed.status).toBe(401);
    const wait = await brokerPost(broker.url, 'wait', { id: mine.id, timeoutMs: 0 }, { slug: OTHER, bottleKey: bottleKey(OTHER) });
    expect(wait).toMatchObject({ status: 404, json: { error: { code: 'not-found' } } });
  });

  it('a replayed request is refused and writes nothing', async () => {
    const first = await brokerPost(broker.url, 'propose', propose, { slug: SLUG, bottleKey: bottleKey(SLUG) });
    expect(first.status).toBe(200);
    await host.queue.archiveProposal(SLUG, (first.json as { id: string }).id).catch(() => false);
    const again = await brokerPost(broker.url, 'propose', propose, { headers: first.headers });
    expect(again.status).toBe(401);
    expect(again.json).toMatchObject({ error: { message: expect.stringContaining('replayed') } });
    expect(countRows(host, 'proposals')).toBe(1);
  });

  it('a signature over another body, path or time is refused', async () => {
    const signed = await brokerPost(broker.url, 'read', { id: 'x' }, { slug: SLUG, bottleKey: bottleKey(SLUG) });
    const tampered = await brokerPost(broker.url, 'propose', propose, { headers: { ...signed.headers, 'x-bot-bottle-nonce': randomBytes(16).toString('hex') } });
    expect(tampered.status).toBe(401);
    const stale = await brokerPost(broker.url, 'propose', propose, { headers: { ...signed.headers, 'x-bot-bottle-time': String(Date.now() - 10 * 60_000) } });
    expect(stale.status).toBe(401);
    expect(countRows(host, 'proposals')).toBe(0);
  });

  it('a body over the limit is refused with 413 before it is read', async () => {
    const big = { ...propose, payload: 'x'.repeat(MAX_BROKER_BODY_BYTES) };
    const answer = await brokerPost(broker.url, 'propose', big, { slug: SLUG, bottleKey: bottleKey(SLUG) }).catch((error: unknown) => ({ status: 0, error }));
    expect([413, 0]).toContain(answer.status);
    expect(countRows(host, 'proposals')).toBe(0);
  });

  it('bad JSON, a wrong shape and what only the host may do are refused with their reason', async () => {
    const sign = { slug: SLUG, bottleKey: bottleKey(SLUG) };
    expect(await brokerPost(broker.url, 'propose', '{not json', sign)).toMatchObject({ status: 400, json: { error: { code: 'invalid-input' } } });
    expect(await brokerPost(broker.url, 'propose', { ...propose, payload: 42 }, sign)).toMatchObject({ status: 400, json: { error: { message: expect.stringContaining('payload') } } });
    expect(await brokerPost(broker.url, 'propose', { ...propose, extra: 1 }, sign)).toMatchObject({ status: 400 });
    expect(await brokerPost(broker.url, 'propose', { ...propose, origin: 'operator' }, sign)).toMatchObject({ status: 403, json: { error: { code: 'forbidden' } } });
    expect(await brokerPost(broker.url, 'propose', { ...propose, target: 'sidecar' }, sign)).toMatchObject({ status: 403 });
    const mine = await host.queue.writeProposal(SLUG, propose);
    expect(await brokerPost(broker.url, 'respond', { id: mine.id, status: 'approved', responder: 'agent' }, sign)).toMatchObject({ status: 403 });
    expect(await brokerPost(broker.url, 'nope', {}, sign)).toMatchObject({ status: 404 });
    expect(countRows(host, 'responses')).toBe(0);
    expect(countRows(host, 'proposals')).toBe(1);
  });

  it('the bottle’s flood limits hold through the broker', async () => {
    await killBrokerChildren();
    broker = await startBrokerProcess(['--max-pending', '2']);
    const sign = { slug: SLUG, bottleKey: bottleKey(SLUG) };
    for (const n of [1, 2]) expect((await brokerPost(broker.url, 'propose', { ...propose, justification: `n${n}` }, sign)).status).toBe(200);
    expect(await brokerPost(broker.url, 'propose', { ...propose, justification: 'n3' }, sign)).toMatchObject({ status: 429, json: { error: { code: 'rate-limited' } } });
  });

  it('a sidecar with the wrong key refuses to start, saying so', async () => {
    const wrong = tempDir('broker-wrong-keys-');
    fs.copyFileSync(path.join(keysDir, 'host.pub'), path.join(wrong, 'host.pub'));
    fs.writeFileSync(path.join(wrong, 'bottle.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    await expect(startBrokerSidecar(broker.url, SLUG, wrong)).rejects.toThrow(/refused this sidecar's requests for bottle acme/);
    expect(countRows(host, 'proposals')).toBe(0);
  });
});
