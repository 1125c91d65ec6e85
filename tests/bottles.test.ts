// Bottles in the database: the launcher's signed registration and retirement, the sidecar's sealed
// heartbeat, and the overview the operator's tools show. A bottle can write the table with raw SQL,
// so every claim is checked against its rightful writer's seal. Real database files, real keys.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BottleStore } from '../src/bottles/bottle-store.js';
import { openBottleKeyring } from '../src/keys/keyring.js';
import { openConnection } from '../src/storage/connection.js';
import { ALIVE_WITHIN_MS, CLOCK_SKEW_ALLOWED_MS, GONE_AFTER_MS } from '../src/bottles/bottle-overview.js';
import { openHostDatabase, openSidecarDatabase, type BottleDatabase, type SuperviseDatabase } from '../src/database.js';
import { registerBottle, retireBottle } from '../src/launcher/bottles.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';
import { assertBuilt, runCli } from './fixtures/cli-support.js';
import { expectFailure, ROUTES_YAML, tempDir } from './fixtures/storage-support.js';
import { sha256 } from '../src/core/hash.js';

const beat = { sidecarVersion: '0.1.0', schemaVersion: SCHEMA_VERSION, liveRoutes: { hash: sha256(ROUTES_YAML), text: ROUTES_YAML } };

let dir: string;
let file: string;
let host: SuperviseDatabase;
const sidecars: BottleDatabase[] = [];

function sidecar(slug: string): BottleDatabase {
  const opened = openSidecarDatabase(slug, { path: file, watch: false, keysDir: bottleKeysDir(slug) });
  sidecars.push(opened);
  return opened;
}

/** What a compromised bottle can do: open the shared file with raw SQL. */
function rawSql(run: (db: Database.Database) => void): void {
  const db = new Database(file);
  try {
    run(db);
  } finally {
    db.close();
  }
}

const overviewOf = (slug: string, now?: number) => host.bottles.overview(now).find((bottle) => bottle.slug === slug);

beforeEach(async () => {
  dir = tempDir('bottles-overview');
  file = path.join(dir, 'bot-bottle.db');
  host = await openHostDatabase({ path: file, watch: false });
});

afterEach(async () => {
  for (const opened of sidecars.splice(0)) await opened.close();
  await host.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('registration and heartbeat', () => {
  it('a registered bottle is stale until its sidecar beats, alive after, gone once retired whatever its sidecar says', async () => {
    await registerBottle('acme', { backend: 'podman', image: 'ghcr.io/acme/agent:1', database: host });
    expect(overviewOf('acme')).toMatchObject({ registration: 'registered', liveness: 'stale', heartbeat: 'none', backend: 'podman', image: 'ghcr.io/acme/agent:1', stoppedAt: null });

    await sidecar('acme').bottle.recordHeartbeat(beat);
    expect(overviewOf('acme')).toMatchObject({ registration: 'registered', liveness: 'alive', heartbeat: 'sealed', sidecarVersion: '0.1.0', schemaVersion: SCHEMA_VERSION, liveRoutesHash: sha256(ROUTES_YAML) });

    expect(await retireBottle('acme', { database: host })).toBe(true);
    expect(await retireBottle('acme', { database: host })).toBe(false);
    await sidecars[0]?.bottle.recordHeartbeat(beat);
    const retired = overviewOf('acme');
    expect(retired).toMatchObject({ registration: 'retired', liveness: 'gone', heartbeat: 'sealed', image: 'ghcr.io/acme/agent:1' });
    expect(retired?.stoppedAt).toEqual(expect.any(Number));

    const entries = host.audit.readAuditEntries({ slug: 'acme' }).filter((entry) => entry.component === 'bottles');
    expect(entries.map((entry) => [entry.action, entry.actor])).toEqual([
      ['bottle-registered', 'launcher'],
      ['bottle-retired', 'launcher'],
    ]);
    expect(host.audit.verify()).toMatchObject({ ok: true });
  });

  it('liveness follows the sealed heartbeat’s age: alive, then stale, then gone', async () => {
    await sidecar('acme').bottle.recordHeartbeat(beat);
    const at = host.bottles.readBottle('acme')?.lastHeartbeat ?? 0;
    expect(overviewOf('acme', at + ALIVE_WITHIN_MS)?.liveness).toBe('alive');
    expect(overviewOf('acme', at + ALIVE_WITHIN_MS + 1)?.liveness).toBe('stale');
    expect(overviewOf('acme', at + GONE_AFTER_MS + 1)?.liveness).toBe('gone');
    expect(overviewOf('acme')).toMatchObject({ registration: 'unregistered', backend: null });
  });

  it('a heartbeat never changes what the host registered', async () => {
    await registerBottle('acme', { backend: 'docker', image: 'agent:1', database: host });
    const before = host.bottles.readBottle('acme');
    await sidecar('acme').bottle.recordHeartbeat(beat);
    const after = host.bottles.readBottle('acme');
    expect(after).toMatchObject({ backend: 'docker', image: 'agent:1', startedAt: before?.startedAt, stoppedAt: null, registrationSeal: before?.registrationSeal });
    expect(overviewOf('acme')?.registration).toBe('registered');
  });

  it('bottles with proposals waiting are listed with their count and oldest, rows or not', async () => {
    await registerBottle('acme', { backend: 'docker', image: 'agent:1', database: host });
    const first = await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
    await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: `${ROUTES_YAML}  - host: pypi.org\n` });
    await host.queue.writeProposal('ghost', { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
    // Past its expiry but not yet swept: not waiting any more.
    await host.queue.writeProposal('ghost', { kind: 'egress-allow', origin: 'agent', payload: `${ROUTES_YAML}  - host: x.example\n`, ttlMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(overviewOf('acme')).toMatchObject({ pending: 2, oldestPendingAt: first.createdAt });
    expect(overviewOf('ghost')).toMatchObject({ pending: 1, registration: 'unregistered', heartbeat: 'none', liveness: 'gone' });
  });

  it('refuses a malformed registration, writing nothing, and a retirement of a bottle never registered', async () => {
    await expectFailure(() => registerBottle('acme', { backend: 'do cker', image: 'agent:1', database: host }), 'invalid-input', /backend "do cker" is not valid: 1–64 printable characters without spaces/);
    await expectFailure(() => registerBottle('acme', { backend: 'docker', image: 'agent\u001b[2J', database: host }), 'invalid-input', /image .* is not valid/);
    await expectFailure(() => registerBottle('../etc', { backend: 'docker', image: 'agent:1', database: host }), 'invalid-slug', /slug/);
    expect(host.bottles.listBottles()).toEqual([]);
    expect(host.audit.readAuditEntries({})).toEqual([]);
    await expectFailure(() => retireBottle('acme', { database: host }), 'not-found', /no registration signed by this host.*Register it first/);
  });
});

describe('against a hostile bottle', () => {
  it('a registration rewritten with raw SQL shows as forged, with none of its claims', async () => {
    await registerBottle('acme', { backend: 'docker', image: 'agent:1', database: host });
    rawSql((db) => db.prepare(`UPDATE bottles SET image = 'trusted-looking:latest' WHERE slug = 'acme'`).run());
    expect(overviewOf('acme')).toMatchObject({ registration: 'forged', backend: null, image: null, startedAt: null });
  });

  it('undoing a retirement with raw SQL shows as forged, not as registered', async () => {
    await registerBottle('acme', { backend: 'docker', image: 'agent:1', database: host });
    await retireBottle('acme', { database: host });
    rawSql((db) => db.prepare(`UPDATE bottles SET stopped_at = NULL WHERE slug = 'acme'`).run());
    expect(overviewOf('acme')).toMatchObject({ registration: 'forged', liveness: 'gone' });
  });

  it('a registration a bottle inserts itself (no host signature, or its own MAC) is forged', async () => {
    rawSql((db) => db.prepare(`INSERT INTO bottles (slug, backend, image, started_at, registration_seal) VALUES ('evil', 'docker', 'x', 1, 'mac:00')`).run());
    rawSql((db) => db.prepare(`INSERT INTO bottles (slug, backend, image, started_at) VALUES ('bare', 'docker', 'x', 1)`).run());
    expect(overviewOf('evil')?.registration).toBe('forged');
    expect(overviewOf('bare')?.registration).toBe('forged');
  });

  it('a heartbeat written or freshened with raw SQL never makes a bottle alive', async () => {
    await sidecar('acme').bottle.recordHeartbeat(beat);
    const now = Date.now() + 10 * GONE_AFTER_MS;
    // An old sealed beat, moved forward in time without the key: the MAC no longer fits.
    rawSql((db) => db.prepare(`UPDATE bottles SET last_heartbeat = ? WHERE slug = 'acme'`).run(now));
    expect(overviewOf('acme', now)).toMatchObject({ heartbeat: 'forged', liveness: 'gone' });
    rawSql((db) => db.prepare(`INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version) VALUES ('quiet', ?, '0.1.0', ?)`).run(now, SCHEMA_VERSION));
    expect(overviewOf('quiet', now)).toMatchObject({ heartbeat: 'unsealed', liveness: 'gone' });
  });

  it('a sealed heartbeat dated ahead of the host’s clock (the bottle holds its own key) never makes it alive', async () => {
    await sidecar('acme').bottle.recordHeartbeat(beat);
    const at = host.bottles.readBottle('acme')?.lastHeartbeat ?? 0;
    expect(overviewOf('acme', at - CLOCK_SKEW_ALLOWED_MS)).toMatchObject({ heartbeat: 'sealed', liveness: 'alive' });
    expect(overviewOf('acme', at - CLOCK_SKEW_ALLOWED_MS - 1)).toMatchObject({ heartbeat: 'sealed', liveness: 'stale' });
    expect(overviewOf('acme', at - 365 * 86_400_000)).toMatchObject({ heartbeat: 'sealed', liveness: 'stale' });
  });

  it('one bottle’s sealed heartbeat copied onto another’s row is forged there', async () => {
    await sidecar('beta').bottle.recordHeartbeat(beat);
    const row = host.bottles.readBottle('beta');
    rawSql((db) =>
      db
        .prepare(`INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version, live_routes_hash, heartbeat_seal) VALUES ('acme', ?, ?, ?, ?, ?)`)
        .run(row?.lastHeartbeat, row?.sidecarVersion, row?.schemaVersion, row?.liveRoutesHash, row?.heartbeatSeal),
    );
    expect(overviewOf('beta')?.heartbeat).toBe('sealed');
    expect(overviewOf('acme')).toMatchObject({ heartbeat: 'forged', liveness: 'gone' });
  });

  it('a sidecar can neither register nor retire, nor beat for another bottle', async () => {
    expect('register' in sidecar('acme').bottle).toBe(false);
    // Code in the bottle could build the store under its view from the same modules and its own key.
    const db = openConnection(file, { fileMustExist: true });
    try {
      const store = new BottleStore(db, { keyring: openBottleKeyring('acme', bottleKeysDir('acme')) });
      await expectFailure(() => store.register('acme', { backend: 'docker', image: 'x' }), 'forbidden', /only the host registers/);
      await expectFailure(() => store.retire('acme'), 'forbidden', /only the host registers/);
      await expectFailure(() => store.recordHeartbeat('beta', beat), 'forbidden', /cannot publish a heartbeat for "beta"/);
    } finally {
      db.close();
    }
  });
});

describe('bot-bottle bottles', () => {
  it('lists each bottle with its state, pending count and seals, as a table and as JSON', async () => {
    assertBuilt();
    await registerBottle('acme', { backend: 'podman', image: 'agent:1', database: host });
    await sidecar('acme').bottle.recordHeartbeat(beat);
    await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML });
    await registerBottle('evil', { backend: 'docker', image: 'agent:1', database: host });
    rawSql((db) => db.prepare(`UPDATE bottles SET backend = 'podman\u001b[2J' WHERE slug = 'evil'`).run());
    const home = process.env.HOME ?? '';

    const json = await runCli(['--db', file, 'bottles', '--json'], { home });
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout) as { bottles: Array<Record<string, unknown>> };
    expect(listed.bottles.map((bottle) => [bottle.slug, bottle.liveness, bottle.registration, bottle.heartbeat, bottle.pending])).toEqual([
      ['acme', 'alive', 'registered', 'sealed', 1],
      ['evil', 'gone', 'forged', 'none', 0],
    ]);

    const table = await runCli(['--db', file, 'bottles'], { home });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^acme\s+alive\s+1\s+\d+s\s+\d+s ago \(sidecar 0\.1\.0, schema \d+\); podman agent:1$/m);
    expect(table.stdout).toMatch(/^evil\s+gone\s+0\s+-\s+never; \[FORGED registration\]$/m);
    expect(table.stdout).not.toContain('\u001b');
  });

  it('refuses a database that does not exist instead of creating one', async () => {
    assertBuilt();
    const missing = path.join(dir, 'nothing.db');
    const run = await runCli(['--db', missing, 'bottles'], { home: process.env.HOME ?? '' });
    expect(run.code).toBe(5);
    expect(fs.existsSync(missing)).toBe(false);
  });
});
