// Threat: the MCP endpoint is reached by someone other than the bottle's agent. It bound every
// address and checked no Host header, so a web page the operator opened could rebind its own name
// to the sidecar's address and post proposals from the operator's browser (DNS rebinding). Now a
// request must name the sidecar as the bottle does (Host, and Origin when a browser sends one), it
// can be required to carry a bearer token derived from the bottle key, the listen address is a
// setting, and the body and concurrency limits hold. Real sidecar processes, real HTTP.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureBottleKeys, ensureHostKeyPair } from '../../src/keys/key-files.js';
import { prepareSupervise } from '../../src/launcher/launcher.js';
import { MAX_CONCURRENT_MCP_REQUESTS } from '../../sidecar/http-server.js';
import {
  SIDECAR_MAIN,
  assertBuilt,
  connectClient,
  countRows,
  hostDatabase,
  killChildren,
  startSidecar,
  tempDir,
  type HostFixture,
  type RunningSidecar,
} from '../fixtures/sidecar-harness.js';

const SLUG = 'acme';
const ROUTES = 'routes:\n  - host: api.github.com\n';
const TOKEN = 'a'.repeat(24) + '0123456789abcdef0123456789abcdef';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request with the headers exactly as given (fetch may not set Host). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: options.method ?? 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...options.headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const propose = (justification: string) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification } } });

let fixture: HostFixture;
let savedHome: string | undefined;

beforeAll(() => assertBuilt());

beforeEach(async () => {
  savedHome = process.env.HOME;
  process.env.HOME = tempDir('mcp-endpoint-home-');
  fixture = await hostDatabase();
});

afterEach(async () => {
  await killChildren();
  await fixture.host.close();
  process.env.HOME = savedHome;
});

function start(env: Record<string, string> = {}): Promise<RunningSidecar> {
  return startSidecar(fixture.dbPath, { SUPERVISE_BOTTLE_SLUG: SLUG, SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '0', ...env });
}

describe('Host header (DNS rebinding)', () => {
  it('refuses a request that names another site, before it reads the body or touches the store', async () => {
    const sidecar = await start();
    const port = new URL(sidecar.url).port;
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `supervise@evil.example:${port}`]) {
      const reply = await send(sidecar.url, { headers: { host }, body: propose(`from ${host}`) });
      expect(reply.status, host).toBe(403);
      expect(JSON.parse(reply.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32000, message: expect.stringContaining('not a name this sidecar answers to') } });
    }
    expect((await send(`${sidecar.base}/healthz`, { method: 'GET', headers: { host: `evil.example:${port}` } })).status).toBe(403);
    expect(countRows(fixture.host, 'proposals')).toBe(0);
    expect(sidecar.stderr()).toContain('refused a request (HTTP 403)');
  });

  it('refuses a browser origin that is not the sidecar, even with a good Host', async () => {
    const sidecar = await start();
    const port = new URL(sidecar.url).port;
    for (const origin of ['http://evil.example', 'null', `http://evil.example:${port}`]) {
      const reply = await send(sidecar.url, { headers: { host: `localhost:${port}`, origin }, body: propose(origin) });
      expect(reply.status, origin).toBe(403);
    }
    expect(countRows(fixture.host, 'proposals')).toBe(0);
  });

  it('answers the names the bottle uses: supervise, localhost, 127.0.0.1, [::1], with any port', async () => {
    const sidecar = await start();
    const port = new URL(sidecar.url).port;
    for (const host of ['supervise:9100', 'supervise', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'SUPERVISE:9100']) {
      const reply = await send(sidecar.url, { headers: { host }, body: propose(`via ${host}`) });
      expect(reply.status, host).toBe(200);
    }
    expect((await send(sidecar.url, { headers: { host: `localhost:${port}`, origin: `http://localhost:${port}` }, body: propose('same origin') })).status).toBe(200);
    expect(countRows(fixture.host, 'proposals')).toBe(7);
  });

  it('takes its names from SUPERVISE_ALLOWED_HOSTS', async () => {
    const sidecar = await start({ SUPERVISE_ALLOWED_HOSTS: 'sidecar.internal, 127.0.0.1' });
    const port = new URL(sidecar.url).port;
    expect((await send(sidecar.url, { headers: { host: `sidecar.internal:${port}` }, body: propose('a') })).status).toBe(200);
    expect((await send(sidecar.url, { headers: { host: `supervise:${port}` }, body: propose('b') })).status).toBe(403);
    // The SDK client, reaching it by address.
    const client = await connectClient(sidecar.url);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await client.close();
  });
});

describe('bearer token', () => {
  async function clientWith(url: string, token?: string): Promise<Client> {
    const client = new Client({ name: 'mcp-endpoint-test', version: '1.0.0' });
    const requestInit = token === undefined ? {} : { requestInit: { headers: { authorization: `Bearer ${token}` } } };
    await client.connect(new StreamableHTTPClientTransport(new URL(url), requestInit));
    return client;
  }

  it('with SUPERVISE_MCP_TOKEN set, /mcp answers 401 without it or with another, and works with it', async () => {
    const sidecar = await start({ SUPERVISE_MCP_TOKEN: TOKEN });
    const none = await send(sidecar.url, { headers: { host: 'localhost' }, body: propose('no token') });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Bearer /);
    const wrong = await send(sidecar.url, { headers: { host: 'localhost', authorization: `Bearer ${TOKEN.replace(/.$/, 'x')}` }, body: propose('wrong token') });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('invalid_token');
    expect((await send(sidecar.url, { headers: { host: 'localhost', authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, body: propose('basic') })).status).toBe(401);
    await expect(clientWith(sidecar.url)).rejects.toThrow();
    expect(countRows(fixture.host, 'proposals')).toBe(0);

    const client = await clientWith(sidecar.url, TOKEN);
    const result = await client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'with the token' } });
    expect(result.isError).toBeFalsy();
    expect(countRows(fixture.host, 'proposals')).toBe(1);
    await client.close();
    // The container's health check carries no token.
    expect((await fetch(`${sidecar.base}/healthz`)).status).toBe(200);
  });

  it('prepareSupervise derives the token from the bottle key and hands the same one to the sidecar and the agent', async () => {
    const plan = await prepareSupervise(SLUG, { requireMcpToken: true });
    expect(plan.mcpToken).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.env.SUPERVISE_MCP_TOKEN).toBe(plan.mcpToken);
    expect((await prepareSupervise(SLUG, { requireMcpToken: true })).mcpToken).toBe(plan.mcpToken);
    expect((await prepareSupervise('other', { requireMcpToken: true })).mcpToken).not.toBe(plan.mcpToken);
    expect((await prepareSupervise(SLUG)).mcpToken).toBeUndefined();

    const sidecar = await startSidecar(fixture.dbPath, { ...plan.env, SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '0' });
    await expect(clientWith(sidecar.url)).rejects.toThrow();
    const client = await clientWith(sidecar.url, plan.mcpToken);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    await client.close();
  });

  it('refuses a token too short to be a secret at start-up', async () => {
    const refused = await start({ SUPERVISE_MCP_TOKEN: 'short' }).catch((error: unknown) => error);
    expect(String(refused)).toMatch(/SUPERVISE_MCP_TOKEN is not valid/);
  });
});

describe('listen address', () => {
  /** The ready line of `serve` without --host, then SIGTERM. */
  async function readyLine(env: Record<string, string>): Promise<string> {
    const keysDir = ensureBottleKeys(SLUG, ensureHostKeyPair());
    const child = spawn(process.execPath, [SIDECAR_MAIN, 'serve', '--db', fixture.dbPath, '--keys-dir', keysDir, '--port', '0'], { env: { PATH: process.env.PATH, SUPERVISE_BOTTLE_SLUG: SLUG, ...env } });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      return await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const line = /^ready .*$/m.exec(stdout)?.[0];
          if (line) resolve(line);
        });
        void exited.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
      });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }

  it('listens on SUPERVISE_LISTEN_HOST, and on every address by default (inside a container the bottle network is the boundary)', async () => {
    expect(await readyLine({ SUPERVISE_LISTEN_HOST: '127.0.0.1' })).toMatch(/^ready http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(await readyLine({})).toMatch(/^ready http:\/\/0\.0\.0\.0:\d+\/mcp$/);
    await expect(readyLine({ SUPERVISE_LISTEN_HOST: 'not an address' })).rejects.toThrow(/SUPERVISE_LISTEN_HOST="not an address" is not an IP address/);
  });
});

describe('limits', () => {
  it('a body over 1 MiB is refused with 413 and nothing is written', async () => {
    const sidecar = await start();
    const reply = await send(sidecar.url, { headers: { host: 'localhost' }, body: propose('x'.repeat(1024 * 1024 + 1)) });
    expect(reply.status).toBe(413);
    expect(countRows(fixture.host, 'proposals')).toBe(0);
  });

  it(`past ${MAX_CONCURRENT_MCP_REQUESTS} calls in flight a new one is answered 429; the others finish normally`, async () => {
    const sidecar = await start({ SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '600' });
    const first = await fixture.host.queue.writeProposal(SLUG, { kind: 'egress-allow', origin: 'agent', payload: ROUTES, justification: 'held open' });
    const resume = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'egress-allow', arguments: { proposal_id: first.id } } });
    const waits = Array.from({ length: MAX_CONCURRENT_MCP_REQUESTS }, () => send(sidecar.url, { headers: { host: 'localhost' }, body: resume }));
    const waiting = `egress-allow proposal ${first.id} for bottle ${SLUG} (pending); waiting for operator`;
    await expect.poll(() => sidecar.stderr().split(waiting).length - 1, { timeout: 30_000 }).toBe(MAX_CONCURRENT_MCP_REQUESTS);

    const refused = await send(sidecar.url, { headers: { host: 'localhost' }, body: propose('one too many') });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(countRows(fixture.host, 'proposals')).toBe(1);
    // Health checks are not MCP calls and still answer.
    expect((await fetch(`${sidecar.base}/healthz`)).status).toBe(200);

    await fixture.host.queue.writeResponse(SLUG, first.id, { status: 'approved', notes: 'ok', responder: 'operator' });
    const replies = await Promise.all(waits);
    expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });
    expect((await send(sidecar.url, { headers: { host: 'localhost' }, body: list })).status).toBe(200);
  });
});
