// Broker mode in a real podman container: the sidecar on its own network with no database mount,
// only its key directory, reaching `bot-bottle broker` on the host over TCP (the network's gateway,
// which podman names host.containers.internal). The operator answers with the host CLI. Plus the
// mount guard against a real FUSE mount made in a private mount namespace.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { applyRoutes, prepareSupervise, type SupervisePlan } from '../src/launcher/launcher.js';
import { NODE, detectPodman, hostMounts, makeRootfs, type PodmanSetup } from './fixtures/podman.js';
import { CLI_MAIN, killBrokerChildren, startBrokerProcess, type Running } from './fixtures/broker-harness.js';
import { ROOT, SIDECAR_MAIN, assertBuilt, connectClient, countRows, pendingFrom, tempDir } from './fixtures/sidecar-harness.js';
import { mountNamespaceSupport } from './fixtures/mount-namespace.js';
import { freePort } from './fixtures/free-port.js';

const SLUG = 'acme';
const OTHER = 'globex';
const ROUTES = 'routes:\n  - host: registry.npmjs.org\n';
const detection = detectPodman();
if (!detection.ok && !process.env.CI) console.warn(`broker container test SKIPPED: ${detection.reason}. CI runs it (and fails instead of skipping).`);


interface Container {
  name: string;
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const containers: Container[] = [];
const unique = `bbroker-${process.pid}-${Date.now()}`;

function podman(args: string[], name: string): Container {
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

function ready(container: Container): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (/^ready http:\/\/\S+\/mcp$/m.test(container.stdout())) resolve();
    };
    container.process.stdout?.on('data', check);
    void container.exited.then((code) => reject(new Error(`container exited (${code}) before it was ready: ${container.stderr()}`)));
    check();
  });
}

const structured = (r: unknown) => (r as CallToolResult).structuredContent as { status: string; proposal_id: string; notes: string };

describe.skipIf(!detection.ok && !process.env.CI)('broker mode: the sidecar in a podman container with no database mount', () => {
  let setup: PodmanSetup;
  let gateway: string;
  let brokerPort: number;
  let savedHome: string | undefined;
  let rootfs: string;
  let egress: string;
  let plan: SupervisePlan;
  let host: SuperviseDatabase;
  let broker: Running;
  let clients: Client[] = [];
  const network = `${unique}-net`;

  beforeAll(async () => {
    if (!detection.ok) throw new Error(`podman must run in CI: ${detection.reason}`);
    setup = detection.setup;
    assertBuilt();
    const created = spawnSync('podman', ['network', 'create', network], { encoding: 'utf8', timeout: 60_000 });
    if (created.status !== 0) throw new Error(`podman network create: ${created.stderr}`);
    const inspected = JSON.parse(spawnSync('podman', ['network', 'inspect', network], { encoding: 'utf8' }).stdout) as Array<{ subnets: Array<{ gateway: string }> }>;
    gateway = inspected[0]?.subnets[0]?.gateway as string;
    // The bridge (and so the gateway address the broker listens on) exists while a container is on the network.
    const holderRoot = makeRootfs();
    podman([...setup.global, 'run', '--rm', '--name', `${unique}-holder`, '--network', network, ...setup.run, ...hostMounts(), '--rootfs', holderRoot, '/bin/sleep', '600'], `${unique}-holder`);
    for (let i = 0; i < 600; i++) {
      try {
        brokerPort = await freePort(gateway);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    throw new Error(`the network's gateway ${gateway} never came up`);
  }, 120_000);

  afterAll(async () => {
    await removeContainers();
    spawnSync('podman', ['network', 'rm', '--force', network], { timeout: 60_000 });
  });

  beforeEach(async () => {
    savedHome = process.env.HOME;
    process.env.HOME = tempDir('broker-container-home-');
    rootfs = makeRootfs();
    egress = tempDir('broker-egress-');
    plan = await prepareSupervise(SLUG, {
      backend: 'podman',
      brokerUrl: `http://host.containers.internal:${brokerPort}`,
      network,
      name: `${unique}-${Date.now()}`,
      routesFile: '/tmp/egress/routes.yaml',
    });
    await prepareSupervise(OTHER);
    host = await openHostDatabase();
    broker = await startBrokerProcess(['--host', gateway, '--port', String(brokerPort)]);
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    for (const container of containers.filter((c) => !c.name.endsWith('-holder'))) {
      spawnSync('podman', ['rm', '--force', '--time', '0', '--ignore', container.name], { timeout: 60_000 });
      await container.exited;
      containers.splice(containers.indexOf(container), 1);
    }
    await killBrokerChildren();
    await host.close();
    process.env.HOME = savedHome;
    fs.rmSync(rootfs, { recursive: true, force: true });
    fs.rmSync(egress, { recursive: true, force: true });
  });

  /** plan.runArgs as a launcher would use it, the rootfs standing in for the image, MCP published to loopback. */
  function sidecarArgs(port: number, keysSource?: string): string[] {
    const args = plan.runArgs('podman', rootfs);
    if (keysSource) args[args.indexOf('--mount') + 1] = `type=bind,src=${keysSource},dst=/run/supervise-keys,readonly`;
    // The run is --read-only (podman puts a tmpfs on /tmp, over the rootfs's own): the live routes
    // file's directory is a mount from outside the rootfs, as in a real bottle, so the test sees
    // what the sidecar applies.
    args.splice(args.length - 1, 0, '--rm', ...setup.run, ...hostMounts(), '-v', `${ROOT}:/app:ro`, '-v', `${egress}:/tmp/egress`, '-p', `127.0.0.1:${port}:9100`, '--rootfs');
    return [...setup.global, ...args, NODE, '/app/dist/bin/bot-bottle-sidecar.js', 'serve'];
  }

  async function startContainer(): Promise<{ container: Container; url: string }> {
    const port = await freePort();
    const container = podman(sidecarArgs(port), plan.runArgs('podman', 'x')[2] as string);
    await ready(container);
    return { container, url: `http://127.0.0.1:${port}/mcp` };
  }

  function hostCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const run = spawnSync(NODE, [CLI_MAIN, ...args], { encoding: 'utf8', env: { ...process.env }, timeout: 60_000 });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  }

  it('mounts only the key directory and gives the broker URL; an MCP call is answered with the host CLI; the downward flow applies', async () => {
    expect(plan.mode).toBe('broker');
    const args = plan.runArgs('podman', 'img');
    expect(args.join(' ')).not.toContain('/run/supervise,');
    expect(args.filter((a) => a.startsWith('type=bind'))).toEqual([`type=bind,src=${plan.keysMount.source},dst=/run/supervise-keys,readonly`]);
    expect(args).toContain(`SUPERVISE_BROKER_URL=http://host.containers.internal:${brokerPort}`);

    const { url } = await startContainer();
    const client = await connectClient(url);
    clients.push(client);
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'npm install' } });
    const proposal = await pendingFrom(host.queue, SLUG, call);
    const listed = JSON.parse(hostCli(['supervise', '--once', '--json']).stdout) as Array<{ id: string; payloadSha256: string }>;
    const row = listed.find((p) => p.id === proposal.id);
    expect(row).toBeDefined();
    const approve = hostCli(['supervise', 'approve', proposal.id, '--expect-sha256', row?.payloadSha256 as string, '--reason', 'from the host CLI']);
    expect(approve.stderr).toBe('');
    expect(approve.status).toBe(0);
    expect(structured(await call)).toMatchObject({ status: 'approved', notes: 'from the host CLI', proposal_id: proposal.id });
    expect(host.queue.readProposal(SLUG, proposal.id)?.state).toBe('archived');
    expect(fs.readFileSync(path.join(egress, 'routes.yaml'), 'utf8')).toBe(ROUTES);

    const next = `${ROUTES}  - host: api.github.com\n`;
    const applied = await applyRoutes(SLUG, next, { timeoutMs: 60_000, database: host });
    expect(applied).toMatchObject({ outcome: 'answered', status: 'approved' });
    expect(fs.readFileSync(path.join(egress, 'routes.yaml'), 'utf8')).toBe(next);
  });

  it('another bottle’s proposal id is not found', async () => {
    const other = await host.queue.writeProposal(OTHER, { kind: 'egress-allow', origin: 'agent', payload: ROUTES });
    const { url } = await startContainer();
    const client = await connectClient(url);
    clients.push(client);
    const result = (await client.callTool({ name: 'egress-allow', arguments: { proposal_id: other.id } })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(JSON.stringify(result.content)).toContain(`no proposal \\"${other.id}\\" for bottle \\"${SLUG}\\"`);
  });

  it('a wrong key: the sidecar is refused and says so, the refusal is audited, nothing else is written', async () => {
    const wrong = tempDir('broker-wrong-keys-');
    fs.copyFileSync(path.join(plan.keysMount.source, 'host.pub'), path.join(wrong, 'host.pub'));
    fs.writeFileSync(path.join(wrong, 'bottle.key'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    fs.chmodSync(wrong, 0o700);
    const port = await freePort();
    const name = `${unique}-wrong-${Date.now()}`;
    const args = sidecarArgs(port, wrong);
    args[args.indexOf('--name') + 1] = name;
    const container = podman(args, name);
    expect(await container.exited).not.toBe(0);
    expect(container.stderr()).toContain("refused this sidecar's requests for bottle acme");
    expect(countRows(host, 'proposals')).toBe(0);
    expect(host.audit.readAuditEntries({}).map((e) => [e.slug, e.action])).toEqual([[SLUG, 'broker-auth-refused']]);
  });

  it('the broker SIGKILLed mid-wait and restarted: the agent’s resume gets the answer', async () => {
    const { url } = await startContainer();
    const client = await connectClient(url);
    clients.push(client);
    const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: ROUTES, justification: 'across a crash' } });
    const proposal = await pendingFrom(host.queue, SLUG, call);
    broker.child.kill('SIGKILL');
    await broker.exited;
    await host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'while the broker was down', responder: 'operator' });
    broker = await startBrokerProcess(['--host', gateway, '--port', String(brokerPort)]);
    // The broker is back within the call's 30 s, so the call in flight gets the answer; a resume by id gets it too.
    expect(structured(await call)).toMatchObject({ status: 'approved', notes: 'while the broker was down', proposal_id: proposal.id });
    expect(host.queue.readProposal(SLUG, proposal.id)?.state).toBe('archived');
    const resumed = await client.callTool({ name: 'egress-allow', arguments: { proposal_id: proposal.id } });
    expect(structured(resumed)).toMatchObject({ status: 'approved', notes: 'while the broker was down', proposal_id: proposal.id });
  });
});

describe.skipIf(!mountNamespaceSupport().ok && !process.env.CI)('the mount guard against a real VM-style (FUSE) mount', () => {
  it('refuses the database on a fuse mount and points to broker mode', async () => {
    const savedHome = process.env.HOME;
    process.env.HOME = tempDir('broker-fuse-home-');
    try {
      const plan = await prepareSupervise(SLUG);
      const scratch = tempDir('broker-fuse-');
      const script = [
        'set -eu',
        `mkdir -p "${scratch}/upper" "${scratch}/work" "${scratch}/merged"`,
        `fuse-overlayfs -o lowerdir="${plan.sharedDir}",upperdir="${scratch}/upper",workdir="${scratch}/work" "${scratch}/merged"`,
        'grep -q " fuse" /proc/self/mountinfo',
        `SUPERVISE_BOTTLE_SLUG=${SLUG} "${NODE}" "${SIDECAR_MAIN}" serve --db "${scratch}/merged/bot-bottle.db" --keys-dir "${plan.keysMount.source}" --port 0 --host 127.0.0.1 || echo "exit $?"`,
      ].join('\n');
      const run = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
      expect(run.stdout).toContain('exit 1');
      expect(run.stdout).not.toContain('ready');
      expect(run.stderr).toMatch(/is on a fuse\.\S+ filesystem/);
      expect(run.stderr).toContain('use broker mode instead: run `bot-bottle broker` on the host');
      expect(run.stderr).toContain('SUPERVISE_BROKER_URL');
    } finally {
      process.env.HOME = savedHome;
    }
  });
});
