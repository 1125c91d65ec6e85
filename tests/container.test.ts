// The sidecar in a real podman container: the host's shared directory bind-mounted at
// /run/supervise, the host's uid:gid, the MCP port published to loopback. No registry is reachable,
// so the root filesystem is a skeleton with the host's /usr, /lib, /lib64 and /bin mounted
// read-only and the built project at /app, the layout Dockerfile.sidecar gives the image.
// What this machine's podman needs (runtime, cgroup manager, ulimits) is detected by trying.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore } from '../src/audit/audit-store.js';
import { openConnection } from '../src/storage/connection.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { applyRoutes, prepareSupervise, type SupervisePlan } from '../src/launcher/launcher.js';
import { sha256 } from '../src/core/hash.js';
import { NODE, detectPodman, hostMounts, makeRootfs, type PodmanSetup } from './fixtures/podman.js';
import { ROOT, assertBuilt, connectClient, pendingFrom, tempDir } from './fixtures/sidecar-harness.js';
import { freePort } from './fixtures/free-port.js';

const SLUG = 'acme';
const detection = detectPodman();
if (detection.ok) {
  if (detection.setup.adjustments.length > 0) console.info(`container test: podman needs ${detection.setup.adjustments.join('; ')}`);
} else if (!process.env.CI) {
  console.warn(`container test SKIPPED: ${detection.reason}. CI runs it (and fails instead of skipping).`);
}


interface Container {
  name: string;
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const containers: Container[] = [];

function podman(args: string[]): Container {
  const name = args[args.indexOf('--name') + 1] as string;
  const child = spawn('podman', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const container = { name, process: child, stdout: () => stdout, stderr: () => stderr, exited };
  containers.push(container);
  return container;
}

async function removeContainers(): Promise<void> {
  for (const container of containers.splice(0)) {
    spawnSync('podman', ['rm', '--force', '--time', '0', '--ignore', container.name], { timeout: 60_000 });
    if (container.process.exitCode === null) container.process.kill('SIGKILL');
    await container.exited;
  }
}

function waitForReady(container: Container): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (/^ready http:\/\/\S+\/mcp$/m.test(container.stdout())) {
        container.process.stdout?.off('data', check);
        resolve();
      }
    };
    container.process.stdout?.on('data', check);
    void container.exited.then((code) => reject(new Error(`container exited (${code}) before it was ready: ${container.stderr()}`)));
    check();
  });
}

const structured = (r: unknown) => (r as CallToolResult).structuredContent as { status: string; proposal_id: string; notes: string };

describe.skipIf(!detection.ok && !process.env.CI)('sidecar in a real podman container', () => {
  let setup: PodmanSetup;
  let savedHome: string | undefined;
  let rootfs: string;
  /**
   * The run is --read-only (podman puts a tmpfs on /tmp): the live routes file's directory is a
   * mount from outside the rootfs, as it is in a real bottle, so the host sees what the sidecar applies.
   */
  let egress: string;
  let plan: SupervisePlan;
  let host: SuperviseDatabase;
  let clients: Client[] = [];

  beforeAll(() => {
    if (!detection.ok) throw new Error(`podman must run in CI: ${detection.reason}`);
    setup = detection.setup;
    assertBuilt();
  });

  beforeEach(async () => {
    savedHome = process.env.HOME;
    process.env.HOME = tempDir('sidecar-container-home-');
    rootfs = makeRootfs();
    plan = await prepareSupervise(SLUG, {
      network: 'podman',
      name: `bot-bottle-test-${process.pid}-${Date.now()}`,
      routesFile: '/tmp/egress/routes.yaml',
      reloadCommand: [NODE, '-e', "require('fs').appendFileSync('/tmp/egress/reloads', 'x')"],
    });
    egress = tempDir('sidecar-container-egress-');
    host = await openHostDatabase();
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    await removeContainers();
    await host.close();
    process.env.HOME = savedHome;
    fs.rmSync(rootfs, { recursive: true, force: true });
    fs.rmSync(egress, { recursive: true, force: true });
  });

  afterAll(() => removeContainers());

  /** plan.runArgs as a launcher would use it, with the rootfs standing in for the image. */
  function sidecarArgs(port: number, env: Record<string, string> = {}, mount?: string): string[] {
    const args = plan.runArgs('podman', rootfs);
    if (mount) args[args.indexOf('--mount') + 1] = mount;
    const extra = ['--rm', ...setup.run, ...hostMounts(), '-v', `${ROOT}:/app:ro`, '-v', `${egress}:/tmp/egress`, '-p', `127.0.0.1:${port}:9100`];
    for (const [key, value] of Object.entries(env)) extra.push('-e', `${key}=${value}`);
    args.splice(args.length - 1, 0, ...extra, '--rootfs');
    return [...setup.global, ...args, NODE, '/app/dist/bin/bot-bottle-sidecar.js', 'serve'];
  }

  async function startContainer(env: Record<string, string> = {}): Promise<{ container: Container; url: string }> {
    const port = await freePort();
    const container = podman(sidecarArgs(port, env));
    await waitForReady(container);
    return { container, url: `http://127.0.0.1:${port}/mcp` };
  }

  it('serves MCP through the published port while the host answers through the shared directory', async () => {
    const { url } = await startContainer();
    const health = await fetch(url.replace(/\/mcp$/, '/healthz'));
    expect(await health.json()).toMatchObject({ ok: true, slug: SLUG });
    const client = await connectClient(url);
    clients.push(client);

    const routes = 'routes:\n  - host: registry.npmjs.org\n';
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: routes, justification: 'npm install' } });
    const proposal = await pendingFrom(host.queue, SLUG, call);
    expect(proposal).toMatchObject({ kind: 'egress-allow', origin: 'agent', payload: routes });
    await host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'from the host', responder: 'operator' });
    expect(structured(await call)).toMatchObject({ status: 'approved', notes: 'from the host', proposal_id: proposal.id });
    expect(host.queue.readProposal(SLUG, proposal.id)?.state).toBe('archived');
    // The approved file was proposed against the (empty) live file, so the sidecar applied it and reloaded.
    expect(fs.readFileSync(path.join(egress, 'routes.yaml'), 'utf8')).toBe(routes);
    expect(fs.readFileSync(path.join(egress, 'reloads'), 'utf8')).toBe('x');

    // Downward: the launcher asks, the containerised sidecar writes its live file and reloads.
    const next = 'routes:\n  - host: registry.npmjs.org\n  - host: api.github.com\n';
    const applied = await applyRoutes(SLUG, next, { timeoutMs: 60_000, database: host });
    expect(applied).toMatchObject({ outcome: 'answered', status: 'approved' });
    expect(applied.outcome === 'answered' && applied.notes).toContain(`sha256=${sha256(next)}`);
    expect(fs.readFileSync(path.join(egress, 'routes.yaml'), 'utf8')).toBe(next);
    expect(fs.readFileSync(path.join(egress, 'reloads'), 'utf8')).toBe('xx');
  });

  it('refuses to start when the database file itself is bind-mounted', async () => {
    const port = await freePort();
    const fileMount = `type=bind,src=${path.join(plan.sharedDir, 'bot-bottle.db')},dst=/run/supervise/bot-bottle.db`;
    const container = podman(sidecarArgs(port, {}, fileMount));
    const code = await container.exited;
    expect(code).not.toBe(0);
    expect(container.stdout()).not.toContain('ready');
    expect(container.stderr()).toContain('is itself a mount point (a single-file bind mount)');
    expect(container.stderr()).toContain('Mount the directory instead');
  });

  it('SIGKILL during a burst of calls: the host database stays intact and every acknowledged proposal is there', async () => {
    // A burst far past the default flood limits: this test is about crash safety, not the quota.
    const { container, url } = await startContainer({ SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '120', SUPERVISE_PROPOSALS_PER_MINUTE: '10000', SUPERVISE_MAX_PENDING: '10000' });
    const client = await connectClient(url);
    clients.push(client);

    // The host approves everything as it arrives, as a busy operator would.
    const answering = new Set<string>();
    const unsubscribe = host.queue.subscribe({ slug: SLUG, types: ['created'] }, () => {
      for (const proposal of host.queue.listPendingProposals({ slug: SLUG })) {
        if (answering.has(proposal.id)) continue;
        answering.add(proposal.id);
        host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'ok', responder: 'operator' }).catch(() => undefined);
      }
    });

    // Ten agents call back to back until the kill cuts them off, so calls are in flight when it lands.
    const answered: string[] = [];
    const failures: unknown[] = [];
    const killAfter = 5 + Math.floor(Math.random() * 25);
    let killed: Promise<unknown> | undefined;
    const agent = async (worker: number): Promise<void> => {
      for (let i = 0; i < 100; i++) {
        let result;
        try {
          result = await client.callTool({ name: 'egress-allow', arguments: { routes_yaml: `routes:\n  - host: w${worker}-${i}.example.com\n`, justification: `burst ${worker}.${i}` } });
        } catch (error) {
          failures.push(error);
          return;
        }
        answered.push(structured(result).proposal_id);
        if (answered.length === killAfter) {
          killed = new Promise((resolve) => spawn('podman', ['kill', '--signal', 'KILL', container.name]).once('close', resolve));
        }
      }
    };
    await Promise.all(Array.from({ length: 10 }, (_, worker) => agent(worker)));
    await killed;
    await container.exited;
    unsubscribe();
    expect(killed).toBeDefined();
    expect(failures.length).toBeGreaterThan(0);

    // Acknowledged: every answer the agent received, and every enqueue the sidecar logged as committed.
    const logged = [...container.stderr().matchAll(/egress-allow proposal ([0-9a-f-]{36}) for bottle/g)].map((m) => m[1] as string);
    const check = openConnection(host.path, { fileMustExist: true });
    try {
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
      const state = check.prepare('SELECT state FROM proposals WHERE id = ?').pluck();
      for (const id of answered) expect(state.get(id)).toBe('archived');
      for (const id of logged) expect(['pending', 'answered', 'archived']).toContain(state.get(id));
      expect(new AuditStore(check).verify()).toMatchObject({ ok: true });
    } finally {
      check.close();
    }
    // The host keeps working: nothing was left locked.
    await host.queue.writeProposal(SLUG, { kind: 'egress-allow', origin: 'host', payload: 'routes: []\n' });
  });
});

if (!detection.ok && process.env.CI) {
  it('podman runs in CI', () => {
    throw new Error(`podman must run in CI: ${detection.reason}`);
  });
}
