/**
 * Stale proposals are caught, not silently applied. An agent proposes a whole routes file; the
 * live file then changes (the launcher applies newer routes). Approving the proposal as it stands
 * would drop those newer routes. Here, end to end with the built sidecar and CLI: the sidecar's
 * heartbeat publishes the live file, the operator is warned in `supervise --once` and in the TUI
 * (diffed against the live file, through a real terminal), and an approval is merged into the live
 * file when the edits are disjoint, or refused as "stale: propose again" with nothing applied.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/hash.js';
import { parseRoutesYaml } from '../../src/kinds/routes-file.js';
import { applyRoutes } from '../../src/launcher/launcher.js';
import { CLI, assertBuilt as assertCliBuilt, killCliChildren, runCli } from '../fixtures/cli-support.js';
import {
  assertBuilt as assertSidecarBuilt,
  connectClient,
  hostDatabase,
  killChildren,
  pendingFrom,
  runSidecar,
  type HostFixture,
  type RunningSidecar,
  startSidecar,
} from '../fixtures/sidecar-harness.js';
import { TmuxTerminal } from '../fixtures/tui-terminal.js';

const SLUG = 'acme';
/** The live file when the agent asks. */
const PROPOSED_AGAINST = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/acme/\n';
/** The agent's request: one new host. */
const PROPOSED = `${PROPOSED_AGAINST}  - host: pypi.org\n    path_allowlist:\n      - /simple/\n`;
/** Meanwhile the launcher adds another host to the live file: disjoint from the request. */
const LIVE_DISJOINT = `${PROPOSED_AGAINST}  - host: registry.npmjs.org\n`;
/** Or narrows the very route the request also changes: a conflict. */
const LIVE_CONFLICTING = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/acme/widgets/\n';
const WIDENED = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/\n';

interface Structured {
  status: string;
  notes: string;
  proposal_id: string;
  merged_routes_yaml?: string;
}

let fixture: HostFixture;
let sidecar: RunningSidecar;
let client: Client;
let routesFile: string;

beforeAll(() => {
  assertSidecarBuilt();
  assertCliBuilt();
});

beforeEach(async () => {
  fixture = await hostDatabase();
  routesFile = path.join(fixture.dir, 'routes.yaml');
  fs.writeFileSync(routesFile, PROPOSED_AGAINST);
  sidecar = await startSidecar(fixture.dbPath, { SUPERVISE_BOTTLE_SLUG: SLUG, SUPERVISE_ROUTES_FILE: routesFile, SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '120' });
  client = await connectClient(sidecar.url);
});

afterEach(async () => {
  await client?.close();
  await killChildren();
  await killCliChildren();
  await fixture.host.close();
  fs.rmSync(fixture.dir, { recursive: true, force: true });
});

/** The agent asks; resolves with its pending proposal and the call that waits for the answer. */
async function agentProposes(routes: string) {
  const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: routes, justification: 'pip needs the package index' } }, undefined, { timeout: 120_000 });
  const proposal = await pendingFrom(fixture.host.queue, SLUG, call);
  return { call: call as Promise<CallToolResult>, proposal };
}

/** The live file changes after the proposal: the launcher applies newer routes through the sidecar. */
async function liveFileBecomes(routes: string): Promise<void> {
  const applied = await applyRoutes(SLUG, routes, { timeoutMs: 30_000, database: fixture.host });
  expect(applied).toMatchObject({ outcome: 'answered', status: 'approved' });
  expect(fs.readFileSync(routesFile, 'utf8')).toBe(routes);
}

// This test's HOME holds the keys the sidecar seals with and the host verifies against.
const cli = (...args: string[]) => runCli(['--db', fixture.dbPath, ...args], { home: process.env.HOME as string, env: { USER: 'tester', NO_COLOR: '1' } });
const hosts = (yaml: string): string[] => parseRoutesYaml(yaml).routes.map((route) => route.host);
const auditActions = (proposalId: string): string[] => fixture.host.audit.readAuditEntries({ proposalId }).map((entry) => entry.action);

describe('the sidecar publishes a heartbeat', () => {
  it('at start: its version, the schema version and the live routes file with its hash', () => {
    const row = fixture.host.db.prepare('SELECT * FROM bottles WHERE slug = ?').get(SLUG) as Record<string, unknown> | undefined;
    expect(row).toMatchObject({ sidecar_version: expect.any(String), schema_version: expect.any(Number), live_routes_hash: sha256(PROPOSED_AGAINST), live_routes: PROPOSED_AGAINST });
    expect(row?.last_heartbeat).toEqual(expect.any(Number));
  });

  it('right after it applied a routes file', async () => {
    await liveFileBecomes(LIVE_DISJOINT);
    expect(fixture.host.db.prepare('SELECT live_routes_hash FROM bottles WHERE slug = ?').pluck().get(SLUG)).toBe(sha256(LIVE_DISJOINT));
  });
});

describe('the operator is warned when the live routes file changed after the proposal', () => {
  it('supervise --once says stale, in text and JSON, with the live file’s hash', async () => {
    const { proposal } = await agentProposes(PROPOSED);
    const before = JSON.parse((await cli('supervise', '--once', '--json')).stdout) as Array<Record<string, unknown>>;
    expect(before).toMatchObject([{ id: proposal.id, stale: false, liveRoutesHash: sha256(PROPOSED_AGAINST) }]);

    await liveFileBecomes(LIVE_DISJOINT);
    const json = await cli('supervise', '--once', '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject([
      { id: proposal.id, stale: true, currentFileHash: sha256(PROPOSED_AGAINST), liveRoutesHash: sha256(LIVE_DISJOINT), liveRoutes: LIVE_DISJOINT },
    ]);
    const text = await cli('supervise', '--once');
    expect(text.stdout).toMatch(new RegExp(`${proposal.id.slice(0, 8)}.*\\[STALE\\] pip needs`));
    expect(text.stdout).toContain('made against a routes file that is no longer live');
  });

  it('the TUI detail warns and diffs against the live file, so the newer route does not read as removed (real terminal)', async () => {
    const { proposal } = await agentProposes(PROPOSED);
    await liveFileBecomes(LIVE_DISJOINT);
    const terminal = new TmuxTerminal(fixture.dir);
    try {
      terminal.start(`env USER=tester ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --db ${JSON.stringify(fixture.dbPath)} supervise`, { columns: 160, rows: 60 });
      await terminal.waitForText(proposal.id.slice(0, 8));
      expect(terminal.screen()).toContain('[STALE]');
      terminal.keys('Enter');
      const screen = await terminal.waitForText('STALE: the bottle’s live routes file changed after this was proposed');
      expect(screen).toContain(`live now ${sha256(LIVE_DISJOINT).slice(0, 12)}`);
      expect(screen).toContain('Change against the live file');
      // What approving applies: pypi.org added, registry.npmjs.org kept (never shown as a removal).
      expect(screen).toMatch(/^\+ {2}- host: pypi\.org/m);
      expect(screen).not.toMatch(/^- {2}- host: registry\.npmjs\.org/m);
      expect(screen).toContain('What changed in the live file since the proposal was made');
    } finally {
      terminal.kill();
    }
  });
});

describe('approving a stale proposal', () => {
  it('merges it into the live file when the edits are disjoint: both the newer route and the approved one are live, and the merge is recorded', async () => {
    const { call, proposal } = await agentProposes(PROPOSED);
    await liveFileBecomes(LIVE_DISJOINT);
    const approved = await cli('supervise', 'approve', proposal.id, '--expect-sha256', sha256(proposal.payload));
    expect(approved.code, approved.stderr).toBe(0);

    const result = await call;
    const structured = result.structuredContent as unknown as Structured;
    expect(structured.status).toBe('approved');
    const live = fs.readFileSync(routesFile, 'utf8');
    expect(hosts(live)).toEqual(['api.github.com', 'registry.npmjs.org', 'pypi.org']);
    expect(structured.merged_routes_yaml).toBe(live);
    expect(JSON.stringify(result.content)).toContain('merged into it route by route');
    expect(auditActions(proposal.id)).toEqual(['proposal-decision', 'routes-merged']);
    expect(fixture.host.db.prepare('SELECT live_routes_hash FROM bottles WHERE slug = ?').pluck().get(SLUG)).toBe(sha256(live));
  });

  it('refuses it as "stale: propose again" when the same route changed on both sides, applies nothing, and audits it — even when the heartbeat row was forged to hide it', async () => {
    const { call, proposal } = await agentProposes(WIDENED);
    await liveFileBecomes(LIVE_CONFLICTING);
    // A hostile writer of the shared file makes the proposal look current to the operator...
    fixture.host.db.prepare('UPDATE bottles SET live_routes_hash = ?, live_routes = ? WHERE slug = ?').run(sha256(PROPOSED_AGAINST), PROPOSED_AGAINST, SLUG);
    expect(JSON.parse((await cli('supervise', '--once', '--json')).stdout)).toMatchObject([{ id: proposal.id, stale: false }]);
    // ...but the sidecar decides on the real file, not on the row.
    expect((await cli('supervise', 'approve', proposal.id, '--expect-sha256', sha256(proposal.payload))).code).toBe(0);

    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'stale', proposal_id: proposal.id });
    const text = JSON.stringify(result.content);
    expect(text).toContain('Stale: propose again');
    expect(text).toContain('api.github.com: changed both in the live file since the proposal was made and in the approved file');
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(LIVE_CONFLICTING);
    expect(auditActions(proposal.id)).toEqual(['proposal-decision', 'routes-stale']);
    expect(fixture.host.audit.readAuditEntries({ proposalId: proposal.id, action: 'routes-stale' })[0]).toMatchObject({ actor: 'sidecar', status: 'stale' });
  });

  it('the shell propose command exits 7 (stale) on a conflict, and writes nothing', async () => {
    const payload = path.join(fixture.dir, 'widened.yaml');
    fs.writeFileSync(payload, WIDENED);
    const env = { SUPERVISE_BOTTLE_SLUG: SLUG, SUPERVISE_ROUTES_FILE: routesFile };
    const run = runSidecar(['propose', '--db', fixture.dbPath, '--kind', 'egress-allow', '--payload-file', payload, '--justification', 'clone any repo', '--wait', '120'], env);
    const proposal = await pendingFrom(fixture.host.queue, SLUG, run);
    await liveFileBecomes(LIVE_CONFLICTING);
    await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'ok', responder: 'operator' });
    const exit = await run;
    expect(exit.code, exit.stderr).toBe(7);
    expect(exit.stderr).toContain('Stale: propose again');
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(LIVE_CONFLICTING);
  });

  it('applies as approved when the live file is still the one proposed against', async () => {
    const { call, proposal } = await agentProposes(PROPOSED);
    expect((await cli('supervise', 'approve', proposal.id, '--expect-sha256', sha256(proposal.payload))).code).toBe(0);
    const result = await call;
    expect(result.structuredContent).toEqual({ status: 'approved', notes: '', proposal_id: proposal.id });
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(PROPOSED);
    expect(auditActions(proposal.id)).toEqual(['proposal-decision']);
  });
});

describe('the launcher’s downward apply follows the same rule when it names the file it started from', () => {
  it('merges onto a live file changed since, and refuses a conflicting one as stale', async () => {
    await liveFileBecomes(LIVE_DISJOINT);
    const merged = await applyRoutes(SLUG, PROPOSED, { timeoutMs: 30_000, database: fixture.host, currentFile: PROPOSED_AGAINST });
    expect(merged).toMatchObject({ outcome: 'answered', status: 'approved', notes: expect.stringContaining('merged the change into it route by route') });
    expect(hosts(fs.readFileSync(routesFile, 'utf8'))).toEqual(['api.github.com', 'registry.npmjs.org', 'pypi.org']);

    const before = fs.readFileSync(routesFile, 'utf8');
    const refused = await applyRoutes(SLUG, WIDENED, { timeoutMs: 30_000, database: fixture.host, currentFile: LIVE_CONFLICTING });
    expect(refused).toMatchObject({ outcome: 'answered', status: 'rejected', notes: expect.stringMatching(/^stale: propose again/) });
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(before);
    // The sidecar refuses first, then answers with why: the refusal's entry comes before its decision.
    expect(auditActions(refused.proposalId)).toEqual(['routes-stale', 'proposal-decision']);
  });
});
