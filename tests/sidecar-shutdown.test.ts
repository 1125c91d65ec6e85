// SIGTERM: the sidecar stops taking calls, the waits in flight return pending results, the
// database is closed and the process exits 0; nothing pending is lost.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, connectClient, hostDatabase, killChildren, startSidecar, type HostFixture } from './fixtures/sidecar-harness.js';

const SLUG = 'acme';
let fixture: HostFixture | undefined;
const clients: Client[] = [];

beforeAll(() => assertBuilt());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await killChildren();
  await fixture?.host.close();
});

const structured = (r: unknown) => (r as CallToolResult).structuredContent as { status: string; proposal_id: string };

describe('sidecar shutdown', () => {
  it('returns pending to every call in flight, exits 0, and loses nothing', async () => {
    fixture = await hostDatabase();
    // Waits far longer than this test may run: only the shutdown can end them.
    const sidecar = await startSidecar(fixture.dbPath, { SUPERVISE_BOTTLE_SLUG: SLUG, SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '3600' });
    const client = await connectClient(sidecar.url);
    clients.push(client);
    const calls = [0, 1, 2].map((i) =>
      client.callTool({ name: 'egress-allow', arguments: { routes_yaml: `routes:\n  - host: h${i}.example.com\n`, justification: `call ${i}` } }, undefined, { timeout: 3_600_000 }),
    );
    await expect.poll(() => sidecar.stderr().split('waiting for operator').length - 1, { timeout: 20_000 }).toBe(3);

    sidecar.child.kill('SIGTERM');
    const results = await Promise.all(calls);
    for (const result of results) {
      expect(result.isError).toBeFalsy();
      expect(structured(result).status).toBe('pending');
    }
    const exit = await sidecar.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.stderr).toContain('SIGTERM: shutting down');

    // Everything stayed queued, and a new sidecar resumes each wait to its answer.
    const ids = results.map((r) => structured(r).proposal_id);
    expect(fixture.host.queue.listPendingProposals({ slug: SLUG }).map((p) => p.id).sort()).toEqual([...ids].sort());
    const next = await startSidecar(fixture.dbPath, { SUPERVISE_BOTTLE_SLUG: SLUG });
    const again = await connectClient(next.url);
    clients.push(again);
    for (const id of ids) await fixture.host.queue.writeResponse(SLUG, id, { status: 'approved', notes: 'after restart', responder: 'operator' });
    for (const id of ids) {
      expect(structured(await again.callTool({ name: 'egress-allow', arguments: { proposal_id: id } }))).toMatchObject({ status: 'approved', proposal_id: id });
    }
  });

  it('exits 0 on SIGTERM when idle and frees its port', async () => {
    fixture = await hostDatabase();
    const sidecar = await startSidecar(fixture.dbPath, { SUPERVISE_BOTTLE_SLUG: SLUG });
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toMatchObject({ code: 0, signal: null });
    await expect(fetch(`${sidecar.base}/healthz`)).rejects.toThrow();
  });
});
