// The bottles table: sidecar heartbeats with the live routes file, read back by the host with every
// column distrusted, and the staleness of a routes proposal against it. Real database files.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stalenessLookup, stalenessOf } from '../src/bottles/staleness.js';
import { sha256 } from '../src/core/hash.js';
import { MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { expectFailure, tempDir } from './fixtures/storage-support.js';

const LIVE = 'routes:\n  - host: api.github.com\n';
const beat = (text: string | undefined, hash = sha256(text ?? '')) => ({ sidecarVersion: '0.1.0', schemaVersion: 6, liveRoutes: { hash, text } });

let dir: string;
let database: SuperviseDatabase;

beforeEach(async () => {
  dir = tempDir('bottles');
  database = await openHostDatabase({ path: path.join(dir, 'bot-bottle.db'), watch: false });
});

afterEach(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('BottleStore', () => {
  it('a heartbeat upserts one row and moves only the heartbeat and the live file: never what the launcher registers', async () => {
    const self = database.bottles.forSlug('acme');
    await self.recordHeartbeat(beat(LIVE));
    const first = database.bottles.readBottle('acme');
    expect(first).toMatchObject({ slug: 'acme', sidecarVersion: '0.1.0', schemaVersion: 6, liveRoutesHash: sha256(LIVE), liveRoutes: LIVE, startedAt: null, stoppedAt: null, backend: null, image: null });

    const changed = `${LIVE}  - host: pypi.org\n`;
    await database.bottles.recordHeartbeat('acme', beat(changed), (first?.lastHeartbeat ?? 0) + 1000);
    const second = database.bottles.readBottle('acme');
    expect(second).toMatchObject({ liveRoutesHash: sha256(changed), liveRoutes: changed, startedAt: first?.startedAt, lastHeartbeat: (first?.lastHeartbeat ?? 0) + 1000 });
    expect(database.bottles.listBottles().map((b) => b.slug)).toEqual(['acme']);
  });

  it('a sidecar without a readable routes file publishes none; one over the payload limit publishes its hash only', async () => {
    await database.bottles.forSlug('none').recordHeartbeat({ sidecarVersion: '0.1.0', schemaVersion: 6, liveRoutes: undefined });
    expect(database.bottles.readBottle('none')).toMatchObject({ liveRoutesHash: null, liveRoutes: null });
    const huge = `routes:\n${'#'.repeat(MAX_PAYLOAD_BYTES)}\n`;
    await database.bottles.forSlug('big').recordHeartbeat(beat(undefined, sha256(huge)));
    expect(database.bottles.readBottle('big')).toMatchObject({ liveRoutesHash: sha256(huge), liveRoutes: null });
  });

  it('refuses a heartbeat whose text does not match its hash, or a malformed hash or version, writing nothing', async () => {
    const self = database.bottles.forSlug('acme');
    await expectFailure(() => self.recordHeartbeat(beat(LIVE, sha256('other'))), 'invalid-input', /does not match its hash/);
    await expectFailure(() => self.recordHeartbeat(beat(undefined, 'not-a-hash')), 'invalid-input', /64 lowercase hex/);
    await expectFailure(() => self.recordHeartbeat({ ...beat(LIVE), sidecarVersion: 'v 1\u001b[2J' }), 'invalid-input', /sidecar version/);
    await expectFailure(() => self.recordHeartbeat({ ...beat(LIVE), liveRoutes: { hash: sha256('x'.repeat(MAX_PAYLOAD_BYTES + 1)), text: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) } }), 'too-large', /live routes file/);
    expect(database.bottles.listBottles()).toEqual([]);
  });

  it('a bottle’s view writes only its own row', async () => {
    await database.bottles.forSlug('acme').recordHeartbeat(beat(LIVE));
    await database.bottles.forSlug('beta').recordHeartbeat(beat(''));
    expect(database.bottles.readBottle('acme')?.liveRoutes).toBe(LIVE);
    expect(database.bottles.readBottle('beta')?.liveRoutes).toBe('');
    expect(() => database.bottles.forSlug('../acme')).toThrow(/slug/);
  });

  it('reads rows written with raw SQL as unknown where they are malformed: a bad hash, a text that is not the hashed file, wrong types', async () => {
    const insert = database.db.prepare('INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version, live_routes_hash, live_routes) VALUES (?, ?, ?, ?, ?, ?)');
    insert.run('badhash', 'yesterday', 'v1\u001b[2J', 'six', 'ZZ', LIVE);
    insert.run('swapped', 1, '0.1.0', 6, sha256(LIVE), 'routes:\n  - host: exfil.attacker.example\n');
    expect(database.bottles.readBottle('badhash')).toMatchObject({ lastHeartbeat: null, sidecarVersion: null, schemaVersion: null, liveRoutesHash: null, liveRoutes: null });
    expect(database.bottles.readBottle('swapped')).toMatchObject({ liveRoutesHash: sha256(LIVE), liveRoutes: null });
  });

  it('the bottle view records what its sidecar did with an approved routes file in the audit log, as the sidecar', async () => {
    const entry = await database.bottles.forSlug('acme').recordRoutesApply({ proposalId: 'p-1', kind: 'egress-allow', action: 'routes-stale', status: 'stale', notes: 'x'.repeat(20_000) });
    expect(entry).toMatchObject({ slug: 'acme', component: 'egress', action: 'routes-stale', actor: 'sidecar', status: 'stale', proposalId: 'p-1' });
    expect(Buffer.byteLength(entry.notes)).toBeLessThanOrEqual(8 * 1024);
    expect(database.audit.verify()).toMatchObject({ ok: true });
  });
});

describe('staleness', () => {
  const proposal = (currentFileHash: string | null, kind = 'egress-allow') => ({ slug: 'acme', kind, currentFileHash });

  it('is current when the live hash is the one proposed against, stale otherwise, unknown without a published live file', async () => {
    await database.bottles.forSlug('acme').recordHeartbeat(beat(LIVE));
    const bottle = database.bottles.readBottle('acme');
    expect(stalenessOf(proposal(sha256(LIVE)), bottle)).toMatchObject({ state: 'current', liveRoutesHash: sha256(LIVE) });
    expect(stalenessOf(proposal(sha256('')), bottle)).toMatchObject({ state: 'stale', liveRoutesHash: sha256(LIVE), liveRoutes: LIVE });
    // A proposal that names no file it replaces cannot be said to match the live one.
    expect(stalenessOf(proposal(null), bottle)).toMatchObject({ state: 'stale' });
    expect(stalenessOf(proposal(sha256(LIVE)), undefined)).toEqual({ state: 'unknown' });
    expect(stalenessOf(proposal(sha256(LIVE), 'gitleaks-allow'), bottle)).toBeUndefined();
  });

  it('a lookup reads each bottle once per listing', async () => {
    await database.bottles.forSlug('acme').recordHeartbeat(beat(LIVE));
    const lookup = stalenessLookup(database.bottles);
    expect(lookup(proposal(sha256(LIVE)))?.state).toBe('current');
    await database.bottles.forSlug('acme').recordHeartbeat(beat(''));
    expect(lookup(proposal(sha256(LIVE)))?.state).toBe('current');
    expect(stalenessLookup(database.bottles)(proposal(sha256(LIVE)))?.state).toBe('stale');
  });
});
