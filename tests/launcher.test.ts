// The launcher side of the sidecar: prepareSupervise makes the host database ready and says how
// to run the sidecar against it: the shared directory mounted, the host user, the bottle's network.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnection } from '../src/storage/connection.js';
import { prepareSupervise } from '../src/launcher/launcher.js';
import { readUserVersion } from '../src/storage/migrations.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { tempDir } from './fixtures/sidecar-harness.js';

let home: string;
let savedHome: string | undefined;

beforeEach(() => {
  savedHome = process.env.HOME;
  home = tempDir('sidecar-launcher-');
  process.env.HOME = home;
});

afterEach(() => {
  process.env.HOME = savedHome;
});

describe('prepareSupervise', () => {
  it('creates the layout and a migrated database, and returns the directory mount and env', async () => {
    const plan = await prepareSupervise('acme');
    const shared = path.join(home, '.bot-bottle', 'supervise');
    expect(plan.sharedDir).toBe(shared);
    expect(plan.hostDbPath).toBe(path.join(home, '.bot-bottle', 'bot-bottle.db'));
    expect(fs.lstatSync(plan.hostDbPath).isSymbolicLink()).toBe(true);
    expect(fs.statSync(shared).mode & 0o777).toBe(0o700);
    const db = openConnection(plan.hostDbPath, { fileMustExist: true });
    expect(readUserVersion(db)).toBe(SCHEMA_VERSION);
    db.close();

    expect(plan.mount).toEqual({ type: 'bind', source: shared, target: '/run/supervise' });
    expect(plan.env).toEqual({ SUPERVISE_BOTTLE_SLUG: 'acme' });
  });

  it('builds run arguments: the directory mount, the host uid:gid, the slug, the internal network', async () => {
    const plan = await prepareSupervise('acme', {
      egressUrl: 'http://egress:8080/routes',
      routesFile: '/etc/egress/routes.yaml',
      reloadCommand: ['kill', '-HUP', '1'],
      responseTimeoutSeconds: 45,
    });
    const args = plan.runArgs('docker', 'bot-bottle-sidecar:1');
    expect(args[0]).toBe('run');
    expect(args.at(-1)).toBe('bot-bottle-sidecar:1');
    const after = (flag: string) => args[args.indexOf(flag) + 1];
    expect(after('--mount')).toBe(`type=bind,src=${plan.sharedDir},dst=/run/supervise`);
    expect(after('--user')).toBe(`${process.getuid?.()}:${process.getgid?.()}`);
    expect(after('--network')).toBe('bot-bottle-acme');
    expect(after('--network-alias')).toBe('supervise');
    const env = args.flatMap((arg, i) => (args[i - 1] === '-e' ? [arg] : []));
    expect(env).toEqual([
      'SUPERVISE_BOTTLE_SLUG=acme',
      'SUPERVISE_EGRESS_URL=http://egress:8080/routes',
      'SUPERVISE_ROUTES_FILE=/etc/egress/routes.yaml',
      'SUPERVISE_RELOAD_COMMAND=["kill","-HUP","1"]',
      'SUPERVISE_RESPONSE_TIMEOUT_SECONDS=45',
    ]);
    expect(args).not.toContain('-v');
    // Hardened, before the image: an init for the reload command's children, no writable root, no
    // capabilities, no privilege gain (the image test runs the real sidecar with exactly these).
    const hardening = ['--init', '--read-only', '--cap-drop=ALL', '--security-opt=no-new-privileges'];
    for (const flag of hardening) expect(args.indexOf(flag), flag).toBeGreaterThan(0);
    expect(Math.max(...hardening.map((flag) => args.indexOf(flag)))).toBeLessThan(args.length - 1);

    const rootless = await prepareSupervise('acme', { user: { uid: 1000, gid: 1000 }, network: 'bottle-net' });
    const podman = rootless.runArgs('podman', 'img');
    expect(podman).toContain('--network');
    expect(podman[podman.indexOf('--network') + 1]).toBe('bottle-net');
    expect(podman[podman.indexOf('--user') + 1]).toBe('1000:1000');
    // Rootless podman needs keep-id to run as the host user; rootful (this test as root) must not get it.
    expect(podman.includes('--userns=keep-id')).toBe(process.getuid?.() !== 0);
  });

  it('makes the bottle\'s key once and mounts only that bottle\'s key directory, read-only', async () => {
    const plan = await prepareSupervise('acme');
    const keys = path.join(home, '.bot-bottle', 'keys', 'bottles', 'acme');
    expect(plan.keysMount).toEqual({ type: 'bind', source: keys, target: '/run/supervise-keys', readonly: true });
    expect(fs.readdirSync(keys).sort()).toEqual(['bottle.key', 'host.pub']);
    expect(fs.statSync(path.join(keys, 'bottle.key')).mode & 0o777).toBe(0o600);
    const key = fs.readFileSync(path.join(keys, 'bottle.key'), 'utf8');

    const again = await prepareSupervise('acme');
    expect(fs.readFileSync(path.join(again.keysMount.source, 'bottle.key'), 'utf8')).toBe(key);
    const other = await prepareSupervise('other');
    expect(other.keysMount.source).toBe(path.join(home, '.bot-bottle', 'keys', 'bottles', 'other'));
    expect(fs.readFileSync(path.join(other.keysMount.source, 'bottle.key'), 'utf8')).not.toBe(key);

    const args = plan.runArgs('docker', 'img');
    const mounts = args.flatMap((arg, i) => (args[i - 1] === '--mount' ? [arg] : []));
    expect(mounts).toEqual([`type=bind,src=${plan.sharedDir},dst=/run/supervise`, `type=bind,src=${keys},dst=/run/supervise-keys,readonly`]);
  });

  it('is idempotent: a second call leaves the database and its rows alone', async () => {
    const first = await prepareSupervise('acme');
    const inode = fs.statSync(first.hostDbPath).ino;
    await prepareSupervise('other');
    expect(fs.statSync(first.hostDbPath).ino).toBe(inode);
  });

  it('passes the bottle quota, the names, the listen address and the bearer token to the sidecar', async () => {
    const plan = await prepareSupervise('acme', { maxPending: 5, proposalsPerMinute: 12, allowedHosts: ['supervise', 'sidecar.internal'], listenHost: '0.0.0.0', requireMcpToken: true });
    expect(plan.env).toMatchObject({
      SUPERVISE_MAX_PENDING: '5',
      SUPERVISE_PROPOSALS_PER_MINUTE: '12',
      SUPERVISE_ALLOWED_HOSTS: 'supervise,sidecar.internal',
      SUPERVISE_LISTEN_HOST: '0.0.0.0',
      SUPERVISE_MCP_TOKEN: plan.mcpToken,
    });
    expect(plan.runArgs('docker', 'img')).toContain(`SUPERVISE_MCP_TOKEN=${plan.mcpToken}`);
    for (const maxPending of [0, 1.5, 10_001]) {
      await expect(prepareSupervise('acme', { maxPending })).rejects.toThrow(/maxPending must be a whole number from 1 to 10000/);
    }
    await expect(prepareSupervise('acme', { proposalsPerMinute: -1 })).rejects.toThrow(/proposalsPerMinute/);
  });

  it('refuses a sidecar image the engine cannot show, saying how to build it', async () => {
    // A name no engine has (or no engine at all): either way the launcher cannot read its labels.
    const ref = `localhost/bot-bottle-no-such-image-${process.pid}:none`;
    const refusal = prepareSupervise('acme', { image: { engine: 'podman', ref } });
    await expect(refusal).rejects.toMatchObject({ code: 'config' });
    await expect(refusal).rejects.toThrow(`cannot inspect the sidecar image ${ref} with podman`);
    await expect(refusal).rejects.toThrow(`podman build -f Dockerfile.sidecar -t ${ref} .`);
  });

  it('refuses an invalid slug before creating anything', async () => {
    await expect(prepareSupervise('../etc')).rejects.toThrow(/path separator/);
    expect(fs.existsSync(path.join(home, '.bot-bottle'))).toBe(false);
  });

  it('refuses, with the fix, when a regular file sits where the link belongs', async () => {
    fs.mkdirSync(path.join(home, '.bot-bottle'));
    fs.writeFileSync(path.join(home, '.bot-bottle', 'bot-bottle.db'), 'old');
    await expect(prepareSupervise('acme')).rejects.toThrow(/bot-bottle db adopt/);
  });
});

describe('prepareSupervise backends', () => {
  const mountsOf = (args: string[]): string[] => args.flatMap((arg, i) => (args[i - 1] === '--mount' ? [arg] : []));

  it('docker and podman on Linux mount the shared directory, as before', async () => {
    for (const backend of ['docker', 'podman'] as const) {
      const plan = await prepareSupervise('acme', { backend });
      expect(plan.mode).toBe('mount');
      expect(plan.brokerUrl).toBeUndefined();
      expect(plan.mounts.map((m) => m.target)).toEqual(['/run/supervise', '/run/supervise-keys']);
      expect(mountsOf(plan.runArgs(backend, 'img'))).toHaveLength(2);
      expect(plan.env.SUPERVISE_BROKER_URL).toBeUndefined();
    }
  });

  it.each([
    ['docker-desktop', 'http://host.docker.internal:9110'],
    ['podman-machine', 'http://host.containers.internal:9110'],
    ['apple-container', 'http://host.container.internal:9110'],
    ['microvm', 'http://127.0.0.1:9110'],
  ] as const)('%s gets broker mode: no database mount, the key directory read-only, the broker as the VM sees the host', async (backend, url) => {
    const plan = await prepareSupervise('acme', { backend });
    expect(plan.mode).toBe('broker');
    expect(plan.brokerUrl).toBe(url);
    expect(plan.env.SUPERVISE_BROKER_URL).toBe(url);
    expect(plan.mounts).toEqual([plan.keysMount]);
    expect(mountsOf(plan.runArgs('docker', 'img'))).toEqual([`type=bind,src=${plan.keysMount.source},dst=/run/supervise-keys,readonly`]);
    expect(plan.runArgs('docker', 'img')).not.toContain('--add-host');
  });

  it('broker mode on Linux docker: an explicit URL, a second network that reaches the host, and the host-gateway name', async () => {
    const plan = await prepareSupervise('acme', { backend: 'docker', brokerUrl: 'http://host.docker.internal:9200/', brokerNetwork: 'bot-bottle-broker' });
    expect(plan.mode).toBe('broker');
    expect(plan.env.SUPERVISE_BROKER_URL).toBe('http://host.docker.internal:9200');
    const args = plan.runArgs('docker', 'img');
    expect(args.flatMap((arg, i) => (args[i - 1] === '--network' ? [arg] : []))).toEqual(['bot-bottle-acme', 'bot-bottle-broker']);
    expect(args[args.indexOf('--add-host') + 1]).toBe('host.docker.internal:host-gateway');
    expect((await prepareSupervise('acme', { backend: 'docker-desktop', brokerPort: 9999 })).brokerUrl).toBe('http://host.docker.internal:9999');
  });

  it('refuses an unknown backend, a bad broker URL or port, writing nothing', async () => {
    await expect(prepareSupervise('acme', { backend: 'vmware' as never })).rejects.toThrow(/backend "vmware" is not known; use one of docker, podman/);
    await expect(prepareSupervise('acme', { backend: 'docker-desktop', brokerUrl: 'ftp://x' })).rejects.toThrow(/must be http\(s\):\/\/HOST:PORT/);
    await expect(prepareSupervise('acme', { backend: 'docker-desktop', brokerUrl: 'http://h:1/path' })).rejects.toThrow(/no path/);
    await expect(prepareSupervise('acme', { backend: 'microvm', brokerPort: 70000 })).rejects.toThrow(/brokerPort must be 1–65535/);
    expect(fs.existsSync(path.join(home, '.bot-bottle'))).toBe(false);
  });
});
