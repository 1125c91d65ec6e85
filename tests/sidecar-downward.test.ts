// The downward flow: the launcher asks, the bottle's sidecar applies the routes file
// atomically, runs the reload command and answers. Real HOME layout, real sidecar process.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase } from '../src/database.js';
import { applyRoutes, prepareSupervise } from '../src/launcher/launcher.js';
import { sha256 } from '../src/core/hash.js';
import { assertBuilt, killChildren, startSidecar, tempDir, type RunningSidecar } from './fixtures/sidecar-harness.js';

const SLUG = 'acme';
const ROUTES = 'routes:\n  - host: api.github.com\n    auth:\n      scheme: bearer\n      token_ref: GH_TOKEN\n';
const PREVIOUS = 'routes:\n  - host: pypi.org\n';

let home: string;
let savedHome: string | undefined;
let etc: string;
let routesFile: string;
let reloads: string;
let dbPath: string;

beforeAll(() => assertBuilt());

beforeEach(async () => {
  savedHome = process.env.HOME;
  home = tempDir('sidecar-downward-');
  process.env.HOME = home;
  etc = path.join(home, 'egress');
  fs.mkdirSync(etc);
  routesFile = path.join(etc, 'routes.yaml');
  reloads = path.join(home, 'reloads.log');
  dbPath = (await prepareSupervise(SLUG)).hostDbPath;
});

afterEach(async () => {
  await killChildren();
  process.env.HOME = savedHome;
});

/** A reload command that records each run, or fails like a proxy refusing its config. */
const recordReload = () => JSON.stringify([process.execPath, '-e', "require('fs').appendFileSync(process.argv[1], 'reloaded\\n')", reloads]);
const failingReload = JSON.stringify([process.execPath, '-e', "process.stderr.write('proxy says no'); process.exit(3)"]);

function start(env: Record<string, string>): Promise<RunningSidecar> {
  return startSidecar(dbPath, { SUPERVISE_BOTTLE_SLUG: SLUG, ...env });
}

describe('egress-routes-apply', () => {
  it('writes the live file atomically, reloads, and answers approved with the file’s sha256', async () => {
    fs.writeFileSync(routesFile, PREVIOUS);
    await start({ SUPERVISE_ROUTES_FILE: routesFile, SUPERVISE_RELOAD_COMMAND: recordReload() });
    const result = await applyRoutes(SLUG, ROUTES, { timeoutMs: 30_000 });
    expect(result).toMatchObject({ outcome: 'answered', status: 'approved' });
    expect(result.outcome === 'answered' && result.notes).toContain(`sha256=${sha256(ROUTES)}`);
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(ROUTES);
    expect(fs.readFileSync(reloads, 'utf8')).toBe('reloaded\n');
    expect(fs.readdirSync(etc)).toEqual(['routes.yaml']);

    const host = await openHostDatabase({ watch: false });
    expect(host.queue.readProposal(SLUG, result.proposalId)).toMatchObject({ state: 'archived', target: 'sidecar', origin: 'host' });
    await host.close();
  });

  it('a failed reload answers rejected with the error and puts the previous file back', async () => {
    fs.writeFileSync(routesFile, PREVIOUS);
    await start({ SUPERVISE_ROUTES_FILE: routesFile, SUPERVISE_RELOAD_COMMAND: failingReload });
    const result = await applyRoutes(SLUG, ROUTES, { timeoutMs: 30_000 });
    expect(result).toMatchObject({ outcome: 'answered', status: 'rejected' });
    expect(result.outcome === 'answered' && result.notes).toMatch(/exit code 3: proxy says no.*previous routes file was restored/);
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(PREVIOUS);
    expect(fs.readdirSync(etc)).toEqual(['routes.yaml']);
  });

  it('without a routes file configured it rejects, saying what to set', async () => {
    await start({});
    const result = await applyRoutes(SLUG, ROUTES, { timeoutMs: 30_000 });
    expect(result).toMatchObject({ outcome: 'answered', status: 'rejected' });
    expect(result.outcome === 'answered' && result.notes).toContain('SUPERVISE_ROUTES_FILE');
  });

  it('handles what was already pending when it started; the launcher resumes by id', async () => {
    const early = await applyRoutes(SLUG, ROUTES, { timeoutMs: 0 });
    expect(early.outcome).toBe('pending');
    expect(fs.existsSync(routesFile)).toBe(false);

    await start({ SUPERVISE_ROUTES_FILE: routesFile });
    const result = await applyRoutes(SLUG, ROUTES, { timeoutMs: 30_000, proposalId: early.proposalId });
    expect(result).toMatchObject({ outcome: 'answered', status: 'approved', proposalId: early.proposalId });
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(ROUTES);
  });

  it('a retried call joins the pending proposal; a caller-given key names its own proposal', async () => {
    const first = await applyRoutes(SLUG, ROUTES, { timeoutMs: 0 });
    const retried = await applyRoutes(SLUG, ROUTES, { timeoutMs: 0 });
    expect(retried).toEqual({ outcome: 'pending', proposalId: first.proposalId });
    const keyed = await applyRoutes(SLUG, ROUTES, { timeoutMs: 0, idempotencyKey: 'launch-7' });
    expect(keyed.proposalId).not.toBe(first.proposalId);
    expect(await applyRoutes(SLUG, ROUTES, { timeoutMs: 0, idempotencyKey: 'launch-7' })).toEqual(keyed);

    const host = await openHostDatabase({ watch: false });
    expect(host.queue.listPendingProposals({ slug: SLUG, target: 'sidecar' }).map((p) => [p.id, p.idempotencyKey])).toEqual([
      [first.proposalId, expect.stringMatching(/^host:[0-9a-f]{64}$/)],
      [keyed.proposalId, 'launch-7'],
    ]);
    await host.close();
  });

  it('applying the same file again after its answer was consumed asks the sidecar anew', async () => {
    await start({ SUPERVISE_ROUTES_FILE: routesFile, SUPERVISE_RELOAD_COMMAND: recordReload() });
    const first = await applyRoutes(SLUG, ROUTES, { timeoutMs: 30_000 });
    expect(first).toMatchObject({ outcome: 'answered', status: 'approved' });
    fs.writeFileSync(routesFile, PREVIOUS);
    const again = await applyRoutes(SLUG, ROUTES, { timeoutMs: 30_000 });
    expect(again).toMatchObject({ outcome: 'answered', status: 'approved' });
    expect(again.proposalId).not.toBe(first.proposalId);
    expect(fs.readFileSync(routesFile, 'utf8')).toBe(ROUTES);
    expect(fs.readFileSync(reloads, 'utf8')).toBe('reloaded\nreloaded\n');
  });

  it('never answers another bottle’s downward proposals', async () => {
    const sidecar = await start({ SUPERVISE_ROUTES_FILE: routesFile });
    const other = await applyRoutes('other-bottle', ROUTES, { timeoutMs: 0 });
    // A proposal for our bottle made after it is answered, so the sidecar has seen both by then.
    const ours = await applyRoutes(SLUG, ROUTES, { timeoutMs: 30_000 });
    expect(ours).toMatchObject({ outcome: 'answered', status: 'approved' });
    const host = await openHostDatabase({ watch: false });
    expect(host.queue.readProposal('other-bottle', other.proposalId)?.state).toBe('pending');
    await host.close();
    expect(sidecar.stderr()).not.toContain(other.proposalId);
  });
});
