// The sidecar's MCP surface, end to end: an SDK client over real HTTP against the built sidecar
// running as a child process, while this test process answers as the host would.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../src/core/hash.js';
import { PACKAGE_VERSION } from '../src/core/version.js';
import {
  assertBuilt,
  connectClient,
  countRows,
  hostDatabase,
  killChildren,
  pendingFrom,
  postRaw,
  startSidecar,
  type HostFixture,
  type RunningSidecar,
} from './fixtures/sidecar-harness.js';

const SLUG = 'acme';
const ROUTES = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/acme/\n';
const MODIFIED = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/acme/widgets/\n';

type Structured = { status: string; notes: string; proposal_id: string; final_routes_yaml?: string };

function structured(result: unknown): Structured {
  return (result as CallToolResult).structuredContent as Structured;
}

function text(result: unknown): string {
  return ((result as CallToolResult).content as Array<{ type: string; text: string }>).map((c) => c.text).join('\n');
}

let fixture: HostFixture;
let sidecar: RunningSidecar;
let client: Client;
let routesFile: string;

beforeAll(() => assertBuilt());

async function start(env: Record<string, string> = {}): Promise<void> {
  routesFile = path.join(fixture.dir, 'routes.yaml');
  sidecar = await startSidecar(fixture.dbPath, { SUPERVISE_BOTTLE_SLUG: SLUG, SUPERVISE_ROUTES_FILE: routesFile, ...env });
  client = await connectClient(sidecar.url);
}

beforeEach(async () => {
  fixture = await hostDatabase();
});

afterEach(async () => {
  await client?.close();
  await killChildren();
  await fixture.host.close();
});

describe('sidecar MCP: decisions', () => {
  beforeEach(() => start());

  it('names itself and lists exactly its three tools', async () => {
    expect(client.getServerVersion()?.name).toBe('bot-bottle-supervise');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['egress-allow', 'egress-block', 'list-egress-routes']);
  });

  it('approved: the proposal carries the payload, the current file and its hash; the answer comes back and the proposal is archived', async () => {
    fs.writeFileSync(routesFile, 'routes: []\n');
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'clone acme repos' } });
    const proposal = await pendingFrom(fixture.host.queue, SLUG, call);
    expect(proposal).toMatchObject({ kind: 'egress-allow', origin: 'agent', payload: ROUTES, justification: 'clone acme repos', currentFile: 'routes: []\n' });
    expect(proposal.currentFileHash).toBe(sha256('routes: []\n'));
    expect(proposal.idempotencyKey).toMatch(/^agent:[0-9a-f]{64}$/);
    await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'fine for acme', responder: 'operator' });

    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toEqual({ status: 'approved', notes: 'fine for acme', proposal_id: proposal.id });
    expect(text(result)).toContain('approved');
    expect(fixture.host.queue.readProposal(SLUG, proposal.id)?.state).toBe('archived');
  });

  it('modified: the final file is returned', async () => {
    const call = client.callTool({ name: 'egress-block', arguments: { routes_yaml: ROUTES, justification: 'blocked on clone' } });
    const proposal = await pendingFrom(fixture.host.queue, SLUG, call);
    expect(proposal.kind).toBe('egress-block');
    await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'modified', notes: 'narrowed to widgets', finalPayload: MODIFIED, responder: 'operator' });

    const result = await call;
    expect(structured(result)).toEqual({ status: 'modified', notes: 'narrowed to widgets', proposal_id: proposal.id, final_routes_yaml: MODIFIED });
    expect(text(result)).toContain('/repos/acme/widgets/');
  });

  it('rejected: status and reason reach the agent as a normal result', async () => {
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'please' } });
    const proposal = await pendingFrom(fixture.host.queue, SLUG, call);
    await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'rejected', notes: 'not for this task', responder: 'operator' });
    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(structured(result)).toMatchObject({ status: 'rejected', notes: 'not for this task' });
  });

  it('an identical call while one is pending joins it instead of queueing a duplicate', async () => {
    const args = { routes_yaml: ROUTES, justification: 'same ask' };
    const first = client.callTool({ name: 'egress-allow', arguments: args });
    const proposal = await pendingFrom(fixture.host.queue, SLUG, first);
    const second = client.callTool({ name: 'egress-allow', arguments: args });
    // Answer only once both calls wait on the same row: the sidecar logs each wait as it starts.
    const waiting = `egress-allow proposal ${proposal.id} for bottle ${SLUG} (pending); waiting for operator`;
    await expect.poll(() => sidecar.stderr().split(waiting).length - 1).toBe(2);
    await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'ok', responder: 'operator' });
    const results = await Promise.all([first, second]);
    expect(results.map((r) => structured(r).proposal_id)).toEqual([proposal.id, proposal.id]);
    expect(countRows(fixture.host, 'proposals')).toBe(1);
  });

  it('many concurrent calls wait side by side without blocking the sidecar', async () => {
    const calls = Array.from({ length: 20 }, (_, i) =>
      client.callTool({ name: 'egress-allow', arguments: { routes_yaml: `routes:\n  - host: h${i}.example.com\n`, justification: `call ${i}` } }),
    );
    const pending = await new Promise<number>((resolve) => {
      const check = () => {
        const n = fixture.host.queue.listPendingProposals({ slug: SLUG }).length;
        if (n === 20) {
          unsubscribe();
          resolve(n);
        }
      };
      const unsubscribe = fixture.host.queue.subscribe({ slug: SLUG }, check);
      check();
    });
    expect(pending).toBe(20);
    // With twenty waits in flight the sidecar still answers other requests.
    const health = await fetch(`${sidecar.base}/healthz`);
    expect(await health.json()).toEqual({ ok: true, slug: SLUG, version: PACKAGE_VERSION, schemaVersion: expect.any(Number) });
    const { tools } = await client.listTools();
    expect(tools).toHaveLength(3);

    for (const proposal of fixture.host.queue.listPendingProposals({ slug: SLUG }).reverse()) {
      await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: `ok ${proposal.justification}`, responder: 'operator' });
    }
    const results = await Promise.all(calls);
    results.forEach((result, i) => expect(structured(result)).toMatchObject({ status: 'approved', notes: `ok call ${i}` }));
  });
});

describe('sidecar MCP: bounded waits', () => {
  beforeEach(() => start({ SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '1' }));

  it('times out as a normal pending result, stays queued, and resumes by id without a duplicate', async () => {
    const first = await client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'slow operator' } });
    expect(first.isError).toBeFalsy();
    const pending = structured(first);
    expect(pending.status).toBe('pending');
    expect(text(first)).toContain(pending.proposal_id);
    expect(text(first)).toContain('proposal_id');
    expect(fixture.host.queue.readProposal(SLUG, pending.proposal_id)?.state).toBe('pending');

    const resumed = client.callTool({ name: 'egress-allow', arguments: { proposal_id: pending.proposal_id } });
    // The resumed call's wait is running once the sidecar logs it.
    const waiting = `egress-allow proposal ${pending.proposal_id} for bottle ${SLUG} (pending); waiting for operator`;
    await expect.poll(() => sidecar.stderr().split(waiting).length - 1).toBe(2);
    await fixture.host.queue.writeResponse(SLUG, pending.proposal_id, { status: 'approved', notes: 'finally', responder: 'operator' });
    expect(structured(await resumed)).toEqual({ status: 'approved', notes: 'finally', proposal_id: pending.proposal_id });
    expect(countRows(fixture.host, 'proposals')).toBe(1);
  });

  it('an expired proposal is reported as expired, never as rejected', async () => {
    const proposal = await fixture.host.queue.writeProposal(SLUG, { kind: 'egress-allow', origin: 'agent', payload: ROUTES, justification: 'x', ttlMs: 200 });
    const result = await client.callTool({ name: 'egress-allow', arguments: { proposal_id: proposal.id } });
    expect(result.isError).toBeFalsy();
    expect(structured(result).status).toBe('expired');
    expect(text(result)).toContain('expired');
  });
});

describe('sidecar MCP: bad input gets protocol or tool errors and writes nothing', () => {
  beforeEach(() => start());
  afterEach(() => {
    const rows = (table: string) => fixture.host.db.prepare(`SELECT count(*) FROM ${table} WHERE slug = ?`).pluck().get(SLUG);
    expect(rows('proposals')).toBe(0);
    expect(rows('audit_entries')).toBe(0);
    expect(countRows(fixture.host, 'responses')).toBe(0);
  });

  it('unknown tool → JSON-RPC -32602', async () => {
    const error = await client.callTool({ name: 'capability-block', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32602);
    expect((error as McpError).message).toContain('Unknown tool');
  });

  it('malformed JSON → 400 with -32700; not JSON-RPC → 400; unknown method → -32601', async () => {
    const garbage = await postRaw(sidecar.url, '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(garbage.status).toBe(400);
    expect(garbage.json).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });

    const notRpc = await postRaw(sidecar.url, '{"hello": "world"}');
    expect(notRpc.status).toBe(400);
    expect(notRpc.json).toMatchObject({ error: { code: expect.any(Number) } });

    const unknownMethod = await postRaw(sidecar.url, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/destroy', params: {} }));
    expect(unknownMethod.json).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32601 } });
  });

  it('invalid params → an error result naming the argument', async () => {
    const result = await client.callTool({ name: 'egress-allow', arguments: { routes_yaml: 42, justification: ['no'] } });
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(/routes_yaml/);

    const missing = await client.callTool({ name: 'egress-allow', arguments: { justification: 'no file' } });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain('routes_yaml');
  });

  it('invalid YAML and off-schema routes → an error result with the line and the rule', async () => {
    const syntax = await client.callTool({ name: 'egress-allow', arguments: { routes_yaml: 'routes:\n  - host: [unclosed\n', justification: 'x' } });
    expect(syntax.isError).toBe(true);
    expect(text(syntax)).toMatch(/line \d+/);

    const schema = await client.callTool({
      name: 'egress-allow',
      arguments: { routes_yaml: 'routes:\n  - host: api.github.com\n    auth:\n      scheme: bearer\n', justification: 'x' },
    });
    expect(schema.isError).toBe(true);
    expect(text(schema)).toContain('line 3');
    expect(text(schema)).toContain('both scheme and token_ref are required');
  });

  it('oversized payloads → 413 for the body, a size error for the file', async () => {
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'egress-allow', arguments: { routes_yaml: `routes: []\n#${'x'.repeat(2 * 1024 * 1024)}`, justification: 'x' } },
    });
    const tooBig = await postRaw(sidecar.url, huge);
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toMatchObject({ jsonrpc: '2.0', error: { code: expect.any(Number) } });

    const big = await client.callTool({ name: 'egress-allow', arguments: { routes_yaml: `routes: []\n#${'x'.repeat(300 * 1024)}\n`, justification: 'x' } });
    expect(big.isError).toBe(true);
    expect(text(big)).toContain('over the limit');
  });

  it('an unknown or other bottle’s proposal id is an error, not a new proposal', async () => {
    const unknown = await client.callTool({ name: 'egress-allow', arguments: { proposal_id: '00000000-0000-4000-8000-000000000000' } });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('no proposal');

    const other = await fixture.host.queue.writeProposal('other-bottle', { kind: 'egress-allow', origin: 'agent', payload: ROUTES });
    const foreign = await client.callTool({ name: 'egress-allow', arguments: { proposal_id: other.id } });
    expect(foreign.isError).toBe(true);
    expect(text(foreign)).toContain('no proposal');
    expect(fixture.host.queue.readProposal('other-bottle', other.id)?.state).toBe('pending');
  });
});

describe('list-egress-routes', () => {
  let egress: http.Server;
  let egressUrl: string;
  let answer: (res: http.ServerResponse) => void;

  beforeEach(async () => {
    egress = http.createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => egress.listen(0, '127.0.0.1', resolve));
    egressUrl = `http://127.0.0.1:${(egress.address() as AddressInfo).port}/_egress/routes`;
  });

  afterEach(async () => {
    egress.closeAllConnections();
    await new Promise<void>((resolve) => egress.close(() => resolve()));
  });

  it('returns the live table as a routes file and never a token value', async () => {
    await start({ SUPERVISE_EGRESS_URL: egressUrl });
    answer = (res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          routes: [
            { host: 'api.github.com', path_allowlist: ['/repos/'], auth_scheme: 'bearer', token_env: 'GH_TOKEN', token: 'ghp_SECRETSECRETSECRET', headers: { authorization: 'Bearer ghp_SECRETSECRETSECRET' } },
            { host: 'pypi.org', auth: { scheme: 'token', token_ref: 'sk-LIVE-VALUE-not-a-name', value: 'sk-LIVE-VALUE' }, dlp: { outbound_on_match: 'redact' } },
          ],
        }),
      );
    const result = await client.callTool({ name: 'list-egress-routes', arguments: {} });
    expect(result.isError).toBeFalsy();
    const yaml = (result.structuredContent as { routes_yaml: string }).routes_yaml;
    expect(yaml).toContain('host: api.github.com');
    expect(yaml).toContain('token_ref: GH_TOKEN');
    expect(yaml).toContain('outbound_on_match: redact');
    const everything = JSON.stringify(result);
    expect(everything).not.toContain('SECRET');
    expect(everything).not.toContain('sk-LIVE');

    // What it lists is accepted as a proposal as it stands.
    const round = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: yaml, justification: 'round trip' } });
    const proposal = await pendingFrom(fixture.host.queue, SLUG, round);
    await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'rejected', notes: 'just a test', responder: 'operator' });
    expect(structured(await round).status).toBe('rejected');
  });

  it('says clearly when egress is unreachable', async () => {
    const gone = http.createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const closedUrl = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/routes`;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    await start({ SUPERVISE_EGRESS_URL: closedUrl });
    const unreachable = await client.callTool({ name: 'list-egress-routes', arguments: {} });
    expect(unreachable.isError).toBe(true);
    expect(text(unreachable)).toContain('unreachable (ECONNREFUSED)');
  });

  it('gives up after 5 s on an egress proxy that never answers', async () => {
    answer = () => undefined;
    await start({ SUPERVISE_EGRESS_URL: egressUrl });
    const result = await client.callTool({ name: 'list-egress-routes', arguments: {} });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('did not answer within 5 s');
  });

  it('without SUPERVISE_EGRESS_URL it says so', async () => {
    await start();
    const result = await client.callTool({ name: 'list-egress-routes', arguments: {} });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain('SUPERVISE_EGRESS_URL');
  });
});
