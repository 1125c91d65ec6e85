import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { mountNamespaceSupport } from './fixtures/mount-namespace.js';
import { Children, fixtureCommand, type FixtureChild } from './fixtures/wake-children.js';

const ROUTES = 'routes:\n  - host: mounted.example\n';
const NEVER_MS = 600_000;
const TEST_TIMEOUT_MS = 60_000;

const support = mountNamespaceSupport();
if (!support.ok) console.warn(`bind-mount tests skipped: ${support.reason}; they need root and unshare(1) to make a mount namespace.`);

/**
 * Runs a fixture in a private mount namespace after `mount --bind` of each [source, target]
 * pair. The mounts exist only in there; outside, the host keeps using the original paths.
 */
function inMountNamespace(children: Children, binds: Array<[string, string]>, fixture: string, args: string[]): FixtureChild {
  const script = `${binds.map((_, i) => `mount --bind "$${2 * i + 1}" "$${2 * i + 2}"`).join(' && ')} && shift ${2 * binds.length} && exec "$@"`;
  return children.command('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...binds.flat(), ...fixtureCommand(fixture, args)]);
}

describe('through a real bind mount of the shared directory', () => {
  const children = new Children();
  let root: string;
  let shared: string;
  let mounted: string;
  let host: SuperviseDatabase;

  beforeEach(async () => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'bind-mount-')));
    shared = path.join(root, 'home', '.bot-bottle', 'supervise');
    mounted = path.join(root, 'run', 'supervise');
    fs.mkdirSync(shared, { recursive: true, mode: 0o700 });
    fs.mkdirSync(mounted, { recursive: true });
    host = await openHostDatabase({ path: path.join(shared, 'bot-bottle.db') });
  });

  afterEach(async () => {
    await children.killAll();
    await host.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it.skipIf(!support.ok)(
    'host and sidecar, each by its own path, enqueue, answer and wake each other both ways',
    async () => {
      const sidecarDb = path.join(mounted, 'bot-bottle.db');
      const sidecar = inMountNamespace(children, [[shared, mounted]], 'wake-mount-sidecar.ts', [JSON.stringify({ path: sidecarDb, slug: 'acme', payload: ROUTES })]);

      // The guard accepts the directory mount, and the sidecar really reaches the DB through it.
      expect(await sidecar.nextEvent('mount')).toMatchObject({ verdict: { ok: true, mountPoint: mounted } });
      expect(fs.readdirSync(mounted)).toEqual([]);

      // Upward: the sidecar proposes, the host answers, the sidecar wakes.
      const { id: upId } = (await sidecar.nextEvent('proposed')) as { id: string };
      expect(host.queue.listPendingProposals().map((p) => [p.id, p.slug])).toEqual([[upId, 'acme']]);
      await host.queue.writeResponse('acme', upId, { status: 'approved', responder: 'operator', notes: 'seen from the host' });
      expect(await sidecar.nextEvent('outcome')).toMatchObject({ outcome: 'answered', status: 'approved', notes: 'seen from the host' });
      expect(await sidecar.nextEvent('archived')).toMatchObject({ archived: true });
      expect(host.queue.readProposal('acme', upId)?.state).toBe('archived');

      // Downward: the host proposes for the bottle, the sidecar answers, the host wakes.
      const down = await host.queue.writeProposal('acme', { kind: 'egress-routes-apply', payload: ROUTES, origin: 'host' });
      const outcome = await host.queue.waitForResponse('acme', down.id, { timeoutMs: NEVER_MS });
      expect(outcome).toMatchObject({ outcome: 'answered', response: { status: 'approved', responder: 'sidecar', notes: `applied in ${sidecarDb}` } });
      expect(await sidecar.nextEvent('answered')).toMatchObject({ id: down.id });

      sidecar.endInput();
      expect(await sidecar.exited).toEqual({ code: 0, signal: null });
      expect(host.audit.readAuditEntries({ slug: 'acme', action: 'proposal-decision' }).map((e) => [e.proposalId, e.actor])).toEqual([
        [upId, 'operator'],
        [down.id, 'sidecar'],
      ]);
      expect(host.audit.verify().ok).toBe(true);
      expect(host.db.pragma('integrity_check', { simple: true })).toBe('ok');
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(!support.ok)(
    'the mount guard refuses a single-file bind mount of the database and accepts the directory mount',
    async () => {
      const fileTarget = path.join(root, 'file-mount', 'bot-bottle.db');
      fs.mkdirSync(path.dirname(fileTarget));
      fs.writeFileSync(fileTarget, '');
      const guard = inMountNamespace(
        children,
        [
          [shared, mounted],
          [path.join(shared, 'bot-bottle.db'), fileTarget],
        ],
        'wake-mount-guard.ts',
        [fileTarget, path.join(mounted, 'bot-bottle.db')],
      );

      const fileVerdict = await guard.nextEvent('verdict');
      expect(fileVerdict).toMatchObject({ path: fileTarget, ok: false, name: 'SuperviseError', code: 'mount', cause: 'file-mount' });
      expect(fileVerdict.message).toContain(`${fileTarget} is itself a mount point (a single-file bind mount)`);
      expect(fileVerdict.message).toContain('Mount the directory instead');
      expect(await guard.nextEvent('verdict')).toMatchObject({ path: path.join(mounted, 'bot-bottle.db'), ok: true, mountPoint: mounted });
      expect(await guard.exited).toEqual({ code: 0, signal: null });

      // Outside the namespace neither mount exists: the target is still the empty file made above.
      expect(fs.statSync(fileTarget).size).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
