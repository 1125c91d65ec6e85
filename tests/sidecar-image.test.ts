// Dockerfile.sidecar built with podman (tests/fixtures/sidecar-image.ts says what stands in for the
// registry) and run exactly as prepareSupervise says: read-only, every capability dropped, no new
// privileges, behind an init, as a non-root user. The healthcheck passes and an agent's tool call is
// answered by the operator's CLI on the host. The labels carry the version and schema version, and
// the launcher refuses an image built for another schema.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION_LABEL, prepareSupervise } from '../src/launcher/launcher.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { detectPodman, type PodmanSetup } from './fixtures/podman.js';
import { buildSidecarImage, imageToolsMissing } from './fixtures/sidecar-image.js';
import { ROOT, assertBuilt, connectClient, tempDir } from './fixtures/sidecar-harness.js';
import { freePort } from './fixtures/free-port.js';

const SLUG = 'acme';
const VERSION_LABEL = 'org.opencontainers.image.version';
const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
const DOCKERFILE = fs.readFileSync(path.join(ROOT, 'Dockerfile.sidecar'), 'utf8');

const detection = detectPodman();
const unavailable = detection.ok ? imageToolsMissing() : detection.reason;
if (unavailable !== undefined && !process.env.CI) {
  console.warn(`sidecar image test SKIPPED: ${unavailable}. CI runs it (and fails instead of skipping).`);
}

describe('Dockerfile.sidecar as written', () => {
  it('builds both stages on the Node 24 slim base, which a digest can pin', () => {
    expect(DOCKERFILE).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect([...DOCKERFILE.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])).toEqual(['${NODE_IMAGE}', '${NODE_IMAGE}']);
  });

  it(`labels the package version and the schema version (${SCHEMA_VERSION}) the sources have`, () => {
    const label = (name: string) => new RegExp(`${name.replace(/\./g, '\\.')}="([^"]*)"`).exec(DOCKERFILE)?.[1];
    expect(label(VERSION_LABEL), `update ${VERSION_LABEL} in Dockerfile.sidecar to package.json's version`).toBe(MANIFEST.version);
    expect(label(SCHEMA_VERSION_LABEL), `update ${SCHEMA_VERSION_LABEL} in Dockerfile.sidecar to SCHEMA_VERSION (src/storage/schema-version.ts)`).toBe(String(SCHEMA_VERSION));
  });

  it("copies, with scripts/sidecar-modules.mjs, a sidecar that starts from its own modules and has none of the host's", () => {
    assertBuilt();
    const out = path.join(tempDir('sidecar-modules-'), 'app');
    const copied = spawnSync(process.execPath, ['scripts/sidecar-modules.mjs', out], { cwd: ROOT, encoding: 'utf8' });
    expect(copied.status, copied.stderr).toBe(0);
    const modules = fs.readdirSync(path.join(out, 'node_modules'));
    for (const hostOnly of ['ink', 'react', 'cli-progress', 'csv-stringify', 'typescript']) expect(modules, hostOnly).not.toContain(hostOnly);
    // The bundled sidecar and its chunks (scripts/bundle-bins.mjs): neither the CLI's bundle nor tsc's modules.
    expect(fs.readdirSync(path.join(out, 'dist'))).toEqual(['bin']);
    expect(fs.readdirSync(path.join(out, 'dist/bin')).sort()).toEqual(['bot-bottle-sidecar.help.json', 'bot-bottle-sidecar.js', 'chunks']);
    // The addon the sidecar loads: this platform's prebuild (better-sqlite3 ships N-API prebuilds), no other platform's.
    expect(fs.readdirSync(path.join(out, 'node_modules/better-sqlite3/prebuilds'))).toEqual([`${process.platform}-${process.arch}.node`]);
    // The copied bin starts from what was copied (the image test serves a tool call from it).
    const started = spawnSync(process.execPath, [path.join(out, 'dist/bin/bot-bottle-sidecar.js'), '--version'], { encoding: 'utf8' });
    expect(started.stderr).toBe('');
    expect(started.stdout.trim()).toBe(MANIFEST.version);
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
    // Copying about 50 MB of modules takes over a minute when the machine is busy.
  }, 300_000);

  it('leaves installed modules, builds, caches and git out of the build context', () => {
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules/', 'dist/', '.cache/', '.git/']) expect(ignored).toContain(entry);
  });
});


/**
 * The host user the sidecar and the operator's CLI run as: this one, or uid/gid 1000 when the
 * suite runs as root (the image's own `node` user), so the container is never root.
 */
const HOST_USER = process.getuid?.() === 0 ? { uid: 1000, gid: 1000 } : { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
const asHostUser = (argv: string[]): string[] =>
  process.getuid?.() === 0 ? ['setpriv', `--reuid=${HOST_USER.uid}`, `--regid=${HOST_USER.gid}`, '--clear-groups', ...argv] : argv;

function chownTree(dir: string): void {
  fs.chownSync(dir, HOST_USER.uid, HOST_USER.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(file);
    else fs.lchownSync(file, HOST_USER.uid, HOST_USER.gid);
  }
}

describe.skipIf(unavailable !== undefined && !process.env.CI)('the sidecar image, built and run hardened', () => {
  let setup: PodmanSetup;
  let image: string;
  const names: string[] = [];
  const children: ChildProcess[] = [];

  const podman = (args: string[]) => spawnSync('podman', [...setup.global, ...args], { encoding: 'utf8', timeout: 120_000 });

  beforeAll(() => {
    if (!detection.ok) throw new Error(`podman must run in CI: ${detection.reason}`);
    if (unavailable !== undefined) throw new Error(`the sidecar image must build in CI: ${unavailable}`);
    setup = detection.setup;
    assertBuilt();
    image = buildSidecarImage(setup);
  }, 3_600_000);

  afterAll(() => {
    for (const name of names) spawnSync('podman', [...(setup?.global ?? []), 'rm', '--force', '--time', '0', '--ignore', name], { timeout: 60_000 });
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('carries the version and schema labels, and only what the sidecar loads', () => {
    const labels = JSON.parse(podman(['image', 'inspect', '--format', '{{json .Config.Labels}}', image]).stdout) as Record<string, string>;
    expect(labels[VERSION_LABEL]).toBe(MANIFEST.version);
    expect(labels[SCHEMA_VERSION_LABEL]).toBe(String(SCHEMA_VERSION));

    const list = "const fs = require('fs'); console.log(JSON.stringify({ modules: fs.readdirSync('/app/node_modules'), app: fs.readdirSync('/app/dist/bin'), manifest: require('/app/package.json') }))";
    const listed = podman(['run', '--rm', '--network', 'none', ...setup.run, '--entrypoint', 'node', image, '-e', list]);
    expect(listed.status, listed.stderr).toBe(0);
    const { modules, app, manifest } = JSON.parse(listed.stdout) as { modules: string[]; app: string[]; manifest: { dependencies: Record<string, string> } };
    // The operator's tools stay out: the terminal UI's packages and the CLI's own code.
    for (const hostOnly of ['ink', 'react', 'cli-progress', 'csv-stringify', 'picocolors', 'typescript', 'vitest']) expect(modules, hostOnly).not.toContain(hostOnly);
    expect(app).toContain('bot-bottle-sidecar.js');
    expect(app).not.toContain('bot-bottle.js');
    expect(modules).toContain('better-sqlite3');
    expect(Object.keys(manifest.dependencies).length).toBeLessThan(Object.keys(MANIFEST.dependencies).length);
    for (const [name, range] of Object.entries(manifest.dependencies)) expect(MANIFEST.dependencies[name], name).toBe(range);
  });

  it('runs read-only, without capabilities, as a non-root user: healthy, and an agent call answered from the host CLI', async () => {
    const home = tempDir('sidecar-image-home-');
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    const name = `bot-bottle-image-test-${process.pid}-${Date.now()}`;
    names.push(name);
    let plan;
    try {
      plan = await prepareSupervise(SLUG, { network: 'podman', name, user: HOST_USER, image: { engine: 'podman', ref: image } });
    } finally {
      process.env.HOME = savedHome;
    }
    chownTree(home);

    const port = await freePort();
    const args = plan.runArgs('podman', image);
    args.splice(args.length - 1, 0, ...setup.run, '-p', `127.0.0.1:${port}:9100`);
    const child = spawn('podman', [...setup.global, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    await new Promise<void>((resolve, reject) => {
      const check = () => /^ready http:\/\/\S+\/mcp$/m.test(stdout) && resolve();
      child.stdout.on('data', check);
      child.once('close', (code) => reject(new Error(`the sidecar container exited (${code}) before it was ready: ${stderr}`)));
    });

    // The run as the launcher gave it: read-only root, no capabilities, no new privileges, not root.
    const status = podman(['exec', name, 'node', '-e', "process.stdout.write(require('fs').readFileSync('/proc/self/status', 'utf8'))"]);
    expect(status.status, status.stderr).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^Uid:\\s+${HOST_USER.uid}\\s`, 'm'));
    expect(status.stdout).toMatch(/^CapEff:\s+0+$/m);
    expect(status.stdout).toMatch(/^CapBnd:\s+0+$/m);
    expect(status.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    const write = podman(['exec', name, 'node', '-e', "require('fs').writeFileSync('/app/planted', 'x')"]);
    expect(write.status).not.toBe(0);
    expect(write.stderr).toContain('EROFS');

    const health = podman(['healthcheck', 'run', name]);
    expect(health.status, `${health.stdout}${health.stderr}`).toBe(0);
    const healthz = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Record<string, unknown>;
    expect(healthz).toEqual({ ok: true, slug: SLUG, version: MANIFEST.version, schemaVersion: SCHEMA_VERSION });

    const client = await connectClient(`http://127.0.0.1:${port}/mcp`);
    try {
      const routes = 'routes:\n  - host: registry.npmjs.org\n';
      const call = client.callTool({ name: 'egress-allow', arguments: { routes_yaml: routes, justification: 'npm install' } });
      // As the host user who owns the layout (the host opens only a database its user owns). A
      // checkout that user cannot reach (a clone under a 0700 mktemp -d directory, with the Node
      // runtime inside it) is bind-mounted, in a mount namespace of its own, at a place it can.
      const cliMain = path.join(ROOT, 'dist/bin/bot-bottle.js');
      const probe = asHostUser([process.execPath, cliMain, '--version']);
      const reachable = spawnSync(probe[0] as string, probe.slice(1)).status === 0;
      const view = reachable ? ROOT : tempDir('sidecar-image-checkout-');
      if (!reachable) fs.chmodSync(view, 0o755);
      const inView = (file: string): string => (file.startsWith(`${ROOT}${path.sep}`) ? path.join(view, path.relative(ROOT, file)) : file);
      const hostCliArgv = (verb: string[]): string[] => {
        const argv = asHostUser([inView(process.execPath), inView(cliMain), ...verb]);
        return reachable ? argv : ['unshare', '-m', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', ROOT, view, ...argv];
      };
      const cli = (...verb: string[]) => {
        const [command, ...rest] = hostCliArgv(verb);
        return spawnSync(command as string, rest, { encoding: 'utf8', env: { ...process.env, HOME: home }, timeout: 60_000 });
      };
      let pending: Array<{ id: string; slug: string; payload: string; payloadSha256: string }> = [];
      for (let attempt = 0; attempt < 200 && pending.length === 0; attempt++) {
        const listed = cli('supervise', '--once', '--json');
        expect(listed.status, listed.stderr).toBe(0);
        pending = JSON.parse(listed.stdout) as typeof pending;
        if (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const proposal = pending[0];
      expect(proposal).toMatchObject({ slug: SLUG, payload: routes });
      const approve = cli('supervise', 'approve', proposal?.id as string, '--expect-sha256', proposal?.payloadSha256 as string, '--reason', 'from the host CLI');
      expect(approve.status, `${approve.stdout}${approve.stderr}`).toBe(0);
      const result = (await call) as CallToolResult;
      expect(result.structuredContent).toMatchObject({ status: 'approved', proposal_id: proposal?.id, notes: 'from the host CLI' });
    } finally {
      await client.close();
    }
  }, 300_000);

  it('the launcher refuses an image built for another schema, naming the fix', async () => {
    const other = `${image.replace(/:[^:/]*$/, '')}:schema-${SCHEMA_VERSION + 1}`;
    const context = tempDir('sidecar-image-other-');
    fs.writeFileSync(path.join(context, 'Containerfile'), `FROM ${image}\nLABEL ${SCHEMA_VERSION_LABEL}="${SCHEMA_VERSION + 1}"\n`);
    const built = podman(['build', '--pull=never', '--format=docker', '-t', other, context]);
    expect(built.status, built.stderr).toBe(0);
    const savedHome = process.env.HOME;
    process.env.HOME = tempDir('sidecar-image-home-');
    try {
      const refusal = prepareSupervise(SLUG, { image: { engine: 'podman', ref: other } });
      await expect(refusal).rejects.toMatchObject({ code: 'schema-mismatch' });
      await expect(refusal).rejects.toThrow(`needs database schema ${SCHEMA_VERSION + 1}, but the host database is at schema ${SCHEMA_VERSION}`);
      await expect(refusal).rejects.toThrow(`podman build -f Dockerfile.sidecar -t ${other} .`);
    } finally {
      process.env.HOME = savedHome;
      podman(['rmi', '--force', other]);
    }
  }, 300_000);
});

if (unavailable !== undefined && process.env.CI) {
  it('the sidecar image builds in CI', () => {
    throw new Error(`the sidecar image must build in CI: ${unavailable}`);
  });
}
