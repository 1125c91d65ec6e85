/**
 * The audit `detail` column (migration 0005): covered by the hash chain when present, left out of
 * the canonical form when NULL, so entries written before the column existed verify unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStore, canonicalAuditEntry, chainHash, GENESIS_HASH } from '../src/audit/audit-store.js';
import { openConnection, writeTransaction, type Db } from '../src/storage/connection.js';
import { migrateDown, migrateUp } from '../src/storage/migrations.js';
import { tempDir } from './fixtures/storage-support.js';

let dir: string;
let file: string;
const open: Db[] = [];

function connect(): Db {
  const db = openConnection(file);
  open.push(db);
  return db;
}

beforeEach(() => {
  dir = tempDir('audit-detail');
  file = path.join(dir, 'bot-bottle.db');
});

afterEach(() => {
  for (const db of open.splice(0)) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('audit detail', () => {
  it('is stored as JSON text and hashed as a thirteenth field; an entry without it hashes as before', async () => {
    await migrateUp(file);
    const store = new AuditStore(connect());
    const plain = await store.writeAuditEntry('acme', { component: 'egress', action: 'proposal-decision', actor: 'operator', notes: 'ok' });
    const detailed = await store.writeAuditEntry('acme', { component: 'egress', action: 'proposal-decision', actor: 'operator', detail: { proposedSha256: 'a'.repeat(64) } });

    expect(plain.detail).toBeNull();
    expect(JSON.parse(canonicalAuditEntry(plain))).toHaveLength(12);
    expect(detailed.detail).toBe(JSON.stringify({ proposedSha256: 'a'.repeat(64) }));
    const canonical = JSON.parse(canonicalAuditEntry(detailed)) as unknown[];
    expect(canonical).toHaveLength(13);
    expect(canonical[12]).toBe(detailed.detail);
    expect(chainHash(plain.hash, canonicalAuditEntry(detailed))).toBe(detailed.hash);
    expect(store.readAuditEntry(2)).toEqual(detailed);
    expect(store.verify()).toMatchObject({ ok: true, head: { count: 2 } });
  });

  it('an edited detail breaks the chain where it was edited', async () => {
    await migrateUp(file);
    const store = new AuditStore(connect());
    await store.writeAuditEntry('acme', { component: 'egress', action: 'proposal-decision', actor: 'operator', detail: { finalSha256: 'b'.repeat(64) } });
    await store.writeAuditEntry('acme', { component: 'egress', action: 'expired', actor: 'supervise' });
    const attacker = connect();
    attacker.exec('DROP TRIGGER audit_entries_no_update');
    attacker.prepare('UPDATE audit_entries SET detail = ? WHERE seq = 1').run(JSON.stringify({ finalSha256: 'c'.repeat(64) }));
    expect(store.verify()).toMatchObject({ ok: false, firstBad: { seq: 1, reason: expect.stringMatching(/edited/) } });
  });

  it('entries written before the column existed still verify after the migration, and after it is rolled back', async () => {
    await migrateUp(file, { to: 4 });
    const old = connect();
    // Written the way a schema-4 build wrote them: twelve fields, no detail column to fill.
    await writeTransaction(old, () => {
      let prev = GENESIS_HASH;
      for (let seq = 1; seq <= 3; seq += 1) {
        const body = { seq, ts: 1_700_000_000_000 + seq, slug: 'acme', component: 'egress', action: 'proposal-decision', proposalId: null, kind: 'egress-allow', status: 'approved', notes: `n${seq}`, actor: 'operator', diff: '' };
        const hash = chainHash(prev, canonicalAuditEntry({ ...body, detail: null }));
        old
          .prepare('INSERT INTO audit_entries (seq, ts, slug, component, action, proposal_id, kind, status, notes, actor, diff, prev_hash, hash) VALUES (@seq, @ts, @slug, @component, @action, @proposalId, @kind, @status, @notes, @actor, @diff, @prev, @hash)')
          .run({ ...body, prev, hash });
        prev = hash;
      }
    });
    old.close();
    open.splice(open.indexOf(old), 1);

    await migrateUp(file);
    const store = new AuditStore(connect());
    expect(store.verify()).toMatchObject({ ok: true, head: { count: 3 } });
    await store.writeAuditEntry('acme', { component: 'egress', action: 'proposal-decision', actor: 'operator', detail: { note: 'after' } });
    expect(store.verify()).toMatchObject({ ok: true, head: { count: 4 } });

    for (const db of open.splice(0)) db.close();
    await migrateDown(file, { to: 4 });
    const columns = (table: string): string[] => (connect().prepare(`SELECT name FROM pragma_table_info('${table}')`).pluck().all() as string[]);
    expect(columns('audit_entries')).not.toContain('detail');
    expect(columns('proposals')).not.toContain('seal');
    expect(columns('responses')).not.toContain('seal');
  });
});
