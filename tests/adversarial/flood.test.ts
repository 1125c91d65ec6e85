// Threat: an agent floods the queue. One agent queued 1,200 pending proposals over MCP in about
// 70 s, and the single FIFO put every other bottle's proposals behind them. Each bottle now has a
// cap on pending proposals and a rate limit, enforced by its sidecar; the operator's list takes
// the bottles in turns, so a second bottle's proposal is near the top however much the first asked.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase } from '../../src/database.js';
import type { Db } from '../../src/storage/connection.js';
import { DEFAULT_FLOOD_LIMITS } from '../../src/queue/flood-control.js';
import { assertBuilt as assertCliBuilt, runCli } from '../fixtures/cli-support.js';
import {
  assertBuilt,
  connectClient,
  hostDatabase,
  killChildren,
  runSidecar,
  startSidecar,
  tempDir,
  type HostFixture,
  type RunningSidecar,
} from '../fixtures/sidecar-harness.js';

const NOISY = 'noisy';
const QUIET = 'quiet';

function routes(i: number): string {
  return `routes:\n  - host: h${i}.example.com\n`;
}

function text(result: unknown): string {
  return ((result as CallToolResult).content as Array<{ text: string }>).map((c) => c.text).join('\n');
}

function status(result: unknown): string | undefined {
  return ((result as CallToolResult).structuredContent as { status?: string } | undefined)?.status;
}

let fixture: HostFixture;
let home: string;
let savedHome: string | undefined;
const clients: Client[] = [];

beforeAll(() => {
  assertBuilt();
  assertCliBuilt();
});

beforeEach(async () => {
  savedHome = process.env.HOME;
  home = tempDir('flood-home-');
  process.env.HOME = home;
  fixture = await hostDatabase();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await killChildren();
  await fixture.host.close();
  process.env.HOME = savedHome;
});

/** A bottle's sidecar whose tool calls return at once (pending), so an agent can ask as fast as it likes. */
async function agentOf(slug: string, env: Record<string, string> = {}): Promise<{ sidecar: RunningSidecar; client: Client }> {
  const sidecar = await startSidecar(fixture.dbPath, { SUPERVISE_BOTTLE_SLUG: slug, SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '0', ...env });
  const client = await connectClient(sidecar.url);
  clients.push(client);
  return { sidecar, client };
}

function ask(client: Client, i: number, justification = `flood ${i}`): Promise<unknown> {
  return client.callTool({ name: 'egress-allow', arguments: { routes_yaml: routes(i), justification } });
}

function pendingOf(slug: string): number {
  return fixture.host.queue.listPendingProposals({ slug }).length;
}

describe('flood control at the sidecar', () => {
  it('past the pending cap the agent gets a tool error telling it to wait for answers, and nothing is written', async () => {
    const { client } = await agentOf(NOISY, { SUPERVISE_MAX_PENDING: '5', SUPERVISE_PROPOSALS_PER_MINUTE: '1000' });
    for (let i = 0; i < 5; i++) expect(status(await ask(client, i))).toBe('pending');

    const refused = await ask(client, 5);
    expect((refused as CallToolResult).isError).toBe(true);
    expect(text(refused)).toMatch(/5 proposals waiting for the operator/);
    expect(text(refused)).toMatch(/wait for answers/i);
    expect(pendingOf(NOISY)).toBe(5);
    expect(fixture.host.db.prepare('SELECT count(*) FROM proposals').pluck().get()).toBe(5);

    // Asking again for what is already pending joins it: waiting is never refused.
    expect(status(await ask(client, 0))).toBe('pending');
    expect(pendingOf(NOISY)).toBe(5);

    // Once the operator answers one, the agent may ask one more.
    const [oldest] = fixture.host.queue.listPendingProposals({ slug: NOISY });
    await fixture.host.queue.writeResponse(NOISY, oldest!.id, { status: 'rejected', notes: 'no', responder: 'operator' });
    expect(status(await ask(client, 6))).toBe('pending');
    expect((await ask(client, 7) as CallToolResult).isError).toBe(true);
  });

  it('past the rate limit the agent is told how long to wait, and nothing is written', async () => {
    const { client } = await agentOf(NOISY, { SUPERVISE_MAX_PENDING: '100', SUPERVISE_PROPOSALS_PER_MINUTE: '4' });
    for (let i = 0; i < 4; i++) expect(status(await ask(client, i))).toBe('pending');
    // Answering does not reset the rate: the agent asked four times this minute.
    for (const proposal of fixture.host.queue.listPendingProposals({ slug: NOISY })) {
      await fixture.host.queue.writeResponse(NOISY, proposal.id, { status: 'rejected', notes: 'no', responder: 'operator' });
    }
    const refused = await ask(client, 4);
    expect((refused as CallToolResult).isError).toBe(true);
    expect(text(refused)).toMatch(/4 proposals in the last minute/);
    expect(text(refused)).toMatch(/propose again in \d+ s/);
    expect(fixture.host.db.prepare('SELECT count(*) FROM proposals').pluck().get()).toBe(4);
  });

  it(`applies the documented defaults (${DEFAULT_FLOOD_LIMITS.maxPending} pending) when the launcher sets none`, async () => {
    const { client } = await agentOf(NOISY);
    for (let i = 0; i < DEFAULT_FLOOD_LIMITS.maxPending; i++) expect(status(await ask(client, i))).toBe('pending');
    const refused = await ask(client, DEFAULT_FLOOD_LIMITS.maxPending);
    expect(text(refused)).toMatch(new RegExp(`${DEFAULT_FLOOD_LIMITS.maxPending} proposals waiting for the operator`));
    expect(pendingOf(NOISY)).toBe(DEFAULT_FLOOD_LIMITS.maxPending);
  });

  it('the shell path (bot-bottle-sidecar propose) is held to the same cap', async () => {
    const { client } = await agentOf(NOISY, { SUPERVISE_MAX_PENDING: '2' });
    await ask(client, 0);
    await ask(client, 1);
    const run = await runSidecar(['propose', '--db', fixture.dbPath, '--kind', 'egress-allow', '--payload-file', '-', '--wait', '0'], { SUPERVISE_BOTTLE_SLUG: NOISY, SUPERVISE_MAX_PENDING: '2' }, routes(9));
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/2 proposals waiting for the operator/);
    expect(pendingOf(NOISY)).toBe(2);
  });

  it("the host's own enqueues are not held to a bottle's quota", async () => {
    const { client } = await agentOf(NOISY, { SUPERVISE_MAX_PENDING: '1' });
    await ask(client, 0);
    expect((await ask(client, 1) as CallToolResult).isError).toBe(true);
    await fixture.host.queue.writeProposal(NOISY, { kind: 'egress-allow', origin: 'host', payload: routes(2), justification: 'launcher' });
    const cli = await runCli(['--db', fixture.dbPath, 'propose', '--bottle', NOISY, '--kind', 'egress-allow', '--payload-stdin', '--justification', 'from the host'], {
      home,
      input: routes(3),
    });
    expect(cli.code).toBe(2);
    expect(pendingOf(NOISY)).toBe(3);
  });

  it('refuses a malformed setting at start-up, naming the variable', async () => {
    for (const [name, value] of [
      ['SUPERVISE_MAX_PENDING', 'lots'],
      ['SUPERVISE_MAX_PENDING', '0'],
      ['SUPERVISE_PROPOSALS_PER_MINUTE', '-3'],
    ] as const) {
      const run = await runSidecar(['serve', '--db', fixture.dbPath, '--port', '0', '--host', '127.0.0.1'], { SUPERVISE_BOTTLE_SLUG: NOISY, [name]: value });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${name}=${JSON.stringify(value)}`);
    }
  });
});

describe("the operator's list is fair across bottles", () => {
  it("a second bottle's proposal made after a flood is listed near the top, not behind it", async () => {
    const noisy = await agentOf(NOISY, { SUPERVISE_MAX_PENDING: '500', SUPERVISE_PROPOSALS_PER_MINUTE: '1000' });
    const quiet = await agentOf(QUIET);
    const FLOOD = 150;
    for (let batch = 0; batch < FLOOD; batch += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => ask(noisy.client, batch + i)));
    }
    expect(pendingOf(NOISY)).toBe(FLOOD);
    expect(status(await ask(quiet.client, 0, 'one small ask'))).toBe('pending');

    const listed = await runCli(['--db', fixture.dbPath, 'supervise', '--once', '--json'], { home });
    expect(listed.code).toBe(0);
    const order = (JSON.parse(listed.stdout) as Array<{ slug: string; justification: string }>).map((p) => p.slug);
    expect(order).toHaveLength(FLOOD + 1);
    expect(order.indexOf(QUIET)).toBeLessThanOrEqual(1);
    // Each bottle's own proposals stay oldest first.
    const noisyOrder = fixture.host.queue.listPendingProposals().filter((p) => p.slug === NOISY).map((p) => p.seq);
    expect(noisyOrder).toEqual([...noisyOrder].sort((a, b) => a - b));
  });

  it('takes the bottles in turns, each in its own order', async () => {
    const ids: Record<string, string[]> = { a: [], b: [], c: [] };
    for (const [slug, count] of [['a', 4], ['b', 2], ['c', 1]] as const) {
      for (let i = 0; i < count; i++) ids[slug]!.push((await fixture.host.queue.writeProposal(slug, { kind: 'egress-allow', origin: 'agent', payload: routes(i) })).id);
    }
    const listed = fixture.host.queue.listPendingProposals().map((p) => p.id);
    expect(listed).toEqual([ids.a![0], ids.b![0], ids.c![0], ids.a![1], ids.b![1], ids.a![2], ids.a![3]]);
    expect(fixture.host.queue.listPendingProposals({ limit: 2 }).map((p) => p.id)).toEqual([ids.a![0], ids.b![0]]);
    expect(fixture.host.queue.listPendingProposals({ slug: 'a' }).map((p) => p.id)).toEqual(ids.a);
  });

  it('reads the pending rows through the partial index, whatever the archived history, and so do the quota checks', async () => {
    // A second connection whose store is held to a quota, so the quota's own queries run too.
    const limited = await openHostDatabase({ path: fixture.dbPath, watch: false, flood: { maxPending: 100, perMinute: 100 } });
    try {
      const captured = recordQueries(limited.db);
      await limited.queue.writeProposal('a', { kind: 'egress-allow', origin: 'agent', payload: routes(0) });
      const writes = captured.take();
      limited.queue.listPendingProposals();
      const [list] = captured.take();
      const plan = (query: { sql: string; args: unknown[] }) =>
        (limited.db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.args) as Array<{ detail: string }>).map((row) => row.detail).join('\n');
      expect(plan(list!)).toMatch(/proposals_pending_fifo/);
      // Every read of the proposals table, in the list and in the enqueue, goes through an index.
      for (const query of [list!, ...writes]) expect(plan(query), query.sql).not.toMatch(/SCAN proposals(?! USING)/);
      expect(writes.filter((query) => /created_at > \+?\?/.test(query.sql) || /count\(\*\)/.test(query.sql))).toHaveLength(2);
    } finally {
      await limited.close();
    }
  });
});

/**
 * Records the SQL (and bound values) the store runs on this one connection, so the plans checked
 * are those of the real calls. Wraps prepare() and the statements it returns; nothing else.
 */
function recordQueries(db: Db): { take(): Array<{ sql: string; args: unknown[] }> } {
  const seen: Array<{ sql: string; args: unknown[] }> = [];
  const prepare = db.prepare.bind(db);
  (db as { prepare: typeof db.prepare }).prepare = ((sql: string) => {
    const statement = prepare(sql) as unknown as Record<'all' | 'get', (...args: unknown[]) => unknown>;
    for (const method of ['all', 'get'] as const) {
      const original = statement[method].bind(statement);
      statement[method] = (...args: unknown[]) => {
        seen.push({ sql, args });
        return original(...args);
      };
    }
    return statement;
  }) as unknown as typeof db.prepare;
  return { take: () => seen.splice(0) };
}
