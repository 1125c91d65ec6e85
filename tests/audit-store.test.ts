import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalAuditEntry, chainHash, GENESIS_HASH, type AuditEntry, type AuditEntryInput, type AuditFilter, type AuditStore } from '../src/audit/audit-store.js';
import { openConnection, writeTransaction, type Db } from '../src/storage/connection.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import type { SuperviseErrorCode } from '../src/core/errors.js';
import { MAX_NOTES_BYTES } from '../src/core/limits.js';
import { caught, dumpData, expectFailure, tempDir } from './fixtures/storage-support.js';

let dir: string;
let database: SuperviseDatabase;
let audit: AuditStore;

beforeEach(async () => {
  dir = tempDir('audit');
  database = await openHostDatabase({ path: path.join(dir, 'bot-bottle.db'), watch: false });
  audit = database.audit;
});

afterEach(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const SLUGS = ['acme-api', 'billing', 'crawler'];
const ACTIONS = ['proposal-decision', 'operator-edit', 'expired'];
const BASE_TS = Date.UTC(2026, 0, 1);

/** Entry `i` of a deterministic, varied log: slugs, actions and times cycle at different rates. */
function entryInput(i: number): { slug: string; entry: AuditEntryInput } {
  return {
    slug: SLUGS[i % 3] as string,
    entry: {
      ts: BASE_TS + i * 1000,
      component: i % 2 === 0 ? 'egress' : 'git-gate',
      action: ACTIONS[i % ACTIONS.length] as string,
      actor: i % 5 === 0 ? 'supervise' : 'operator',
      proposalId: i % 4 === 0 ? null : `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      kind: i % 2 === 0 ? 'egress-allow' : 'gitleaks-allow',
      status: (['approved', 'rejected', 'modified', null] as const)[i % 4] ?? null,
      notes: `entry ${i} — ünïcode and "quotes"`,
      diff: i % 3 === 0 ? `--- a\n+++ b\n@@ -1 +1 @@\n-old ${i}\n+new ${i}\n` : '',
    },
  };
}

/** Appends `count` entries in one transaction (fast), through the same code path every writer uses. */
async function appendMany(count: number, from = 0): Promise<void> {
  await writeTransaction(database.db, () => {
    for (let i = from; i < from + count; i += 1) {
      const { slug, entry } = entryInput(i);
      audit.appendWithinTransaction(slug, entry);
    }
  });
}

/** A second connection, as an attacker with file access would have, with the guards removed. */
function attacker(dropTriggers: boolean): Db {
  const db = openConnection(database.path);
  if (dropTriggers) db.exec('DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;');
  return db;
}

function withAttacker(dropTriggers: boolean, act: (db: Db) => void): void {
  const db = attacker(dropTriggers);
  try {
    act(db);
  } finally {
    db.close();
  }
}

describe('the hash chain', () => {
  it('an empty log verifies with the genesis head', () => {
    expect(audit.head()).toEqual({ hash: GENESIS_HASH, count: 0 });
    expect(audit.verify()).toEqual({ ok: true, head: { hash: GENESIS_HASH, count: 0 } });
  });

  it('a long chain written by many transactions verifies, and its head is the last entry', async () => {
    for (let i = 0; i < 25; i += 1) {
      const { slug, entry } = entryInput(i);
      await audit.writeAuditEntry(slug, entry);
    }
    await appendMany(2000, 25);

    const entries = audit.readAuditEntries();
    expect(entries).toHaveLength(2025);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 2025 }, (_, i) => i + 1));
    entries.forEach((entry, index) => expect(entry.prevHash).toBe(index === 0 ? GENESIS_HASH : entries[index - 1]?.hash));
    const head = { hash: entries.at(-1)?.hash, count: 2025 };
    expect(audit.head()).toEqual(head);
    expect(audit.verify()).toEqual({ ok: true, head });
  });

  it('hashes a documented canonical form that another implementation can recompute', async () => {
    const written = await audit.writeAuditEntry('acme-api', { ts: 1_700_000_000_000, component: 'egress', action: 'proposal-decision', actor: 'operator', proposalId: 'p-1', kind: 'egress-allow', status: 'approved', notes: 'ok', diff: '+x\n' });
    const canonical = JSON.stringify(['bot-bottle-audit-v1', 1, 1_700_000_000_000, 'acme-api', 'egress', 'proposal-decision', 'p-1', 'egress-allow', 'approved', 'ok', 'operator', '+x\n']);
    expect(canonicalAuditEntry(written)).toBe(canonical);
    expect(written.hash).toBe(createHash('sha256').update(`${GENESIS_HASH}\n${canonical}`).digest('hex'));
    expect(chainHash(GENESIS_HASH, canonical)).toBe(written.hash);
  });

  it('an entry written as part of a queue decision is in the same chain', async () => {
    await appendMany(3);
    const proposal = await database.queue.writeProposal('acme-api', { kind: 'egress-allow', origin: 'agent', payload: 'routes:\n  - host: a.example.com\n' });
    await database.queue.writeResponse('acme-api', proposal.id, { status: 'approved', responder: 'operator' });
    expect(audit.readAuditEntries({ order: 'desc', limit: 1 })[0]).toMatchObject({ seq: 4, proposalId: proposal.id, action: 'proposal-decision' });
    expect(audit.verify()).toMatchObject({ ok: true, head: { count: 4 } });
  });
});

describe('append-only triggers', () => {
  beforeEach(() => appendMany(5));

  it('refuse UPDATE and DELETE from any connection, leaving the log intact', () => {
    const before = dumpData(database.db);
    withAttacker(false, (db) => {
      expect(() => db.prepare(`UPDATE audit_entries SET notes = 'nothing happened' WHERE seq = 2`).run()).toThrow(/audit_entries is append-only: UPDATE is refused/);
      expect(() => db.prepare('DELETE FROM audit_entries WHERE seq = 5').run()).toThrow(/audit_entries is append-only: DELETE is refused/);
      expect(() => db.prepare('DELETE FROM audit_entries').run()).toThrow(/DELETE is refused/);
      expect(() => db.prepare(`INSERT INTO audit_entries (seq, ts, slug, component, action, actor, prev_hash, hash) VALUES (2, 0, 's', 'c', 'a', 'x', 'p', 'h') ON CONFLICT (seq) DO UPDATE SET notes = 'upsert'`).run()).toThrow(/audit_entries is append-only/);
    });
    expect(() => database.db.prepare(`UPDATE audit_entries SET actor = 'me'`).run()).toThrow(/UPDATE is refused/);
    expect(dumpData(database.db)).toEqual(before);
    expect(audit.verify()).toMatchObject({ ok: true, head: { count: 5 } });
  });

  it('refuse INSERT OR REPLACE, which would otherwise delete an entry without firing the DELETE trigger', () => {
    const before = dumpData(database.db);
    const victim = audit.readAuditEntry(3) as AuditEntry;
    withAttacker(false, (db) => {
      expect(() =>
        db
          .prepare(`INSERT OR REPLACE INTO audit_entries (seq, ts, slug, component, action, actor, notes, prev_hash, hash) VALUES (3, 0, 'acme-api', 'egress', 'expired', 'x', 'forged', ?, ?)`)
          .run(victim.prevHash, 'f'.repeat(64)),
      ).toThrow(/append-only/);
      // A conflict on the unique hash column would replace a row too.
      expect(() =>
        db.prepare(`REPLACE INTO audit_entries (seq, ts, slug, component, action, actor, prev_hash, hash) VALUES (99, 0, 'acme-api', 'egress', 'expired', 'x', 'p', ?)`).run(victim.hash),
      ).toThrow(/append-only/);
    });
    expect(dumpData(database.db)).toEqual(before);
  });
});

describe('verify names the first bad entry after the triggers are dropped', () => {
  const TOTAL = 20;
  let original: AuditEntry[];

  beforeEach(async () => {
    await appendMany(TOTAL);
    original = audit.readAuditEntries();
  });

  const hashOf = (seq: number): string => (seq === 0 ? GENESIS_HASH : (original[seq - 1] as AuditEntry).hash);
  /** `validPrefix` is what still chains from genesis: up to the entry before the damage. */
  const expectFirstBad = (seq: number, reason: RegExp, prefixCount = seq - 1, prefixHash = hashOf(prefixCount)): void => {
    expect(audit.verify()).toEqual({ ok: false, firstBad: { seq, reason: expect.stringMatching(reason) }, validPrefix: { hash: prefixHash, count: prefixCount } });
  };

  for (const seq of [1, 7, TOTAL]) {
    it(`an edited entry (${seq})`, () => {
      withAttacker(true, (db) => db.prepare(`UPDATE audit_entries SET notes = 'approved by nobody' WHERE seq = ?`).run(seq));
      expectFirstBad(seq, /its contents do not match its hash: the entry was edited/);
    });
  }

  it('an edited timestamp', () => {
    withAttacker(true, (db) => db.prepare('UPDATE audit_entries SET ts = ts + 1 WHERE seq = 12').run());
    expectFirstBad(12, /edited/);
  });

  it('an edited entry whose own hash the attacker recomputed: the next entry no longer chains', () => {
    const entry = { ...(original[6] as AuditEntry), notes: 'rewritten' };
    const forgedHash = chainHash(entry.prevHash, canonicalAuditEntry(entry));
    withAttacker(true, (db) => db.prepare('UPDATE audit_entries SET notes = ?, hash = ? WHERE seq = 7').run(entry.notes, forgedHash));
    expectFirstBad(8, /its prev_hash does not match the hash of entry 7/, 7, forgedHash);
  });

  for (const seq of [1, 7]) {
    it(`a deleted entry (${seq})`, () => {
      withAttacker(true, (db) => db.prepare('DELETE FROM audit_entries WHERE seq = ?').run(seq));
      expectFirstBad(seq + 1, new RegExp(`expected entry ${seq} here but found entry ${seq + 1}: entries ${seq}–${seq} were deleted`), seq - 1);
    });
  }

  it('a run of deleted entries', () => {
    withAttacker(true, (db) => db.prepare('DELETE FROM audit_entries WHERE seq BETWEEN 4 AND 9').run());
    expectFirstBad(10, /expected entry 4 here but found entry 10: entries 4–9 were deleted/, 3);
  });

  for (const [a, b] of [
    [5, 12],
    [9, 10],
  ] as const) {
    it(`two entries swapped, rows and all (${a} ↔ ${b})`, () => {
      withAttacker(true, (db) => {
        const move = db.prepare('UPDATE audit_entries SET seq = ? WHERE seq = ?');
        db.transaction(() => {
          move.run(-1, a);
          move.run(a, b);
          move.run(b, -1);
        })();
      });
      expectFirstBad(a, /its prev_hash does not match the hash of entry/);
    });
  }

  it("two entries' contents swapped while their hash columns stay put", () => {
    const columns = ['ts', 'slug', 'component', 'action', 'proposal_id', 'kind', 'status', 'notes', 'actor', 'diff'];
    withAttacker(true, (db) => {
      const read = db.prepare(`SELECT ${columns.join(', ')} FROM audit_entries WHERE seq = ?`);
      const write = db.prepare(`UPDATE audit_entries SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE seq = @seq`);
      const three = read.get(3) as Record<string, unknown>;
      const eleven = read.get(11) as Record<string, unknown>;
      db.transaction(() => {
        write.run({ ...eleven, seq: 3 });
        write.run({ ...three, seq: 11 });
      })();
    });
    expectFirstBad(3, /edited/);
  });

  it('a forged entry appended without the right hash', () => {
    withAttacker(false, (db) =>
      db
        .prepare(`INSERT INTO audit_entries (seq, ts, slug, component, action, actor, notes, prev_hash, hash) VALUES (?, ?, 'acme-api', 'egress', 'proposal-decision', 'operator', 'forged', ?, ?)`)
        .run(TOTAL + 1, BASE_TS, hashOf(TOTAL), 'e'.repeat(64)),
    );
    expectFirstBad(TOTAL + 1, /edited/);
  });

  it('deleting the last N leaves a self-consistent chain: only a recorded head shows the loss', () => {
    const recordedHead = audit.head();
    withAttacker(true, (db) => db.prepare('DELETE FROM audit_entries WHERE seq > ?').run(TOTAL - 3));

    const result = audit.verify();
    expect(result).toEqual({ ok: true, head: { hash: hashOf(TOTAL - 3), count: TOTAL - 3 } });
    expect(result.ok && result.head).not.toEqual(recordedHead);
  });

  it('deleting one entry and re-chaining everything after it also verifies: the recorded head is the defence', () => {
    const recordedHead = audit.head();
    withAttacker(true, (db) => {
      db.transaction(() => {
        db.prepare('DELETE FROM audit_entries WHERE seq = 7').run();
        let prev = hashOf(6);
        for (const entry of original.slice(7)) {
          const moved = { ...entry, seq: entry.seq - 1 };
          const hash = chainHash(prev, canonicalAuditEntry(moved));
          db.prepare('UPDATE audit_entries SET seq = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(moved.seq, prev, hash, entry.seq);
          prev = hash;
        }
      })();
    });
    const result = audit.verify();
    expect(result.ok).toBe(true);
    expect(result.ok && result.head.count).toBe(TOTAL - 1);
    expect(result.ok && result.head.hash).not.toBe(recordedHead.hash);
  });
});

describe('reading with filters', () => {
  const COUNT = 60;
  let all: AuditEntry[];

  beforeEach(async () => {
    await appendMany(COUNT);
    all = audit.readAuditEntries();
    expect(all).toHaveLength(COUNT);
  });

  const cases: Array<[string, AuditFilter, (e: AuditEntry) => boolean]> = [
    ['slug', { slug: 'billing' }, (e) => e.slug === 'billing'],
    ['action', { action: 'operator-edit' }, (e) => e.action === 'operator-edit'],
    ['component', { component: 'git-gate' }, (e) => e.component === 'git-gate'],
    ['status', { status: 'modified' }, (e) => e.status === 'modified'],
    ['kind', { kind: 'egress-allow' }, (e) => e.kind === 'egress-allow'],
    ['proposal id', { proposalId: '00000000-0000-4000-8000-000000000013' }, (e) => e.proposalId === '00000000-0000-4000-8000-000000000013'],
    ['since (inclusive)', { since: BASE_TS + 40_000 }, (e) => e.ts >= BASE_TS + 40_000],
    ['until (exclusive)', { until: BASE_TS + 10_000 }, (e) => e.ts < BASE_TS + 10_000],
    ['a time range', { since: BASE_TS + 10_000, until: BASE_TS + 20_000 }, (e) => e.ts >= BASE_TS + 10_000 && e.ts < BASE_TS + 20_000],
    ['slug and time range and action', { slug: 'acme-api', action: 'proposal-decision', since: BASE_TS + 5_000, until: BASE_TS + 50_000 }, (e) => e.slug === 'acme-api' && e.action === 'proposal-decision' && e.ts >= BASE_TS + 5_000 && e.ts < BASE_TS + 50_000],
    ['a slug with no entries', { slug: 'nobody' }, () => false],
  ];

  for (const [name, filter, keep] of cases) {
    it(`by ${name}`, () => {
      const expected = all.filter(keep);
      expect(audit.readAuditEntries(filter)).toEqual(expected);
      expect([...audit.iterateAuditEntries(filter)]).toEqual(expected);
      expect(audit.readAuditEntries({ ...filter, order: 'desc' })).toEqual([...expected].reverse());
      expect(audit.readAuditEntries({ ...filter, limit: 2 })).toEqual(expected.slice(0, 2));
      expect(audit.readAuditEntries({ ...filter, limit: 2, order: 'desc' })).toEqual([...expected].reverse().slice(0, 2));
    });
  }

  it('sanity: the filters above are not all trivially empty or full', () => {
    for (const [name, , keep] of cases.slice(0, -1)) {
      const kept = all.filter(keep).length;
      expect({ name, kept: kept > 0 && kept < COUNT }).toEqual({ name, kept: true });
    }
  });

  it('limit and order on the whole log, and single entries by seq', () => {
    expect(audit.readAuditEntries({ limit: 5 }).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(audit.readAuditEntries({ order: 'desc', limit: 3 }).map((e) => e.seq)).toEqual([COUNT, COUNT - 1, COUNT - 2]);
    expect(audit.readAuditEntry(17)).toEqual(all[16]);
    expect(audit.readAuditEntry(COUNT + 1)).toBeUndefined();
  });

  it('streams through a small page cache and gives the connection its own back, however the stream ends', () => {
    const cacheSize = (): number => database.db.pragma('cache_size', { simple: true }) as number;
    const original = cacheSize();
    expect(original).toBeLessThan(-1024);
    expect([...audit.iterateAuditEntries({ slug: 'billing' })]).toEqual(all.filter((e) => e.slug === 'billing'));
    expect(cacheSize()).toBe(original);
    // Abandoned after one entry (break calls return()): the setting still comes back, and the connection is free.
    for (const entry of audit.iterateAuditEntries()) {
      expect(entry.seq).toBe(1);
      break;
    }
    expect(cacheSize()).toBe(original);
    // A connection already at a smaller cache keeps it.
    database.db.pragma('cache_size = -256');
    expect([...audit.iterateAuditEntries()]).toHaveLength(COUNT);
    expect(cacheSize()).toBe(-256);
    database.db.pragma(`cache_size = ${original}`);
  });

  it('refuses a limit that is not a positive whole number', async () => {
    await expectFailure(() => audit.readAuditEntries({ limit: 0 }), 'invalid-input', /limit must be a positive whole number, got 0/);
    await expectFailure(() => audit.readAuditEntries({ limit: 2.5 }), 'invalid-input', /got 2\.5/);
    await expectFailure(() => audit.readAuditEntries({ limit: -1 }), 'invalid-input', /got -1/);
  });
});

describe('writing bad entries is refused and writes nothing', () => {
  const good: AuditEntryInput = { component: 'egress', action: 'operator-edit', actor: 'operator' };
  const cases: Array<[string, string, AuditEntryInput, SuperviseErrorCode, RegExp]> = [
    ['an invalid slug', '../x', good, 'invalid-slug', /contains a path separator/],
    ['an empty slug', '', good, 'invalid-slug', /bottle slug is empty/],
    ['a component with capitals', 'acme-api', { ...good, component: 'Egress' }, 'invalid-input', /audit component "Egress" is not valid/],
    ['an action with a space', 'acme-api', { ...good, action: 'operator edit' }, 'invalid-input', /audit action "operator edit" is not valid/],
    ['an actor with a newline', 'acme-api', { ...good, actor: 'op\nerator' }, 'invalid-input', /audit actor "op\\nerator" is not valid/],
    ['oversized notes', 'acme-api', { ...good, notes: 'n'.repeat(MAX_NOTES_BYTES + 1) }, 'too-large', /audit notes is \d+ bytes, over the limit/],
  ];

  for (const [name, slug, entry, code, message] of cases) {
    it(name, async () => {
      await appendMany(2);
      const before = dumpData(database.db);
      await expectFailure(() => audit.writeAuditEntry(slug, entry), code, message);
      expect(dumpData(database.db)).toEqual(before);
    });
  }

  it('appendWithinTransaction outside a transaction is a programming error, not a silent write', async () => {
    const error = await caught(() => audit.appendWithinTransaction('acme-api', good));
    expect(error.message).toMatch(/needs an open write transaction/);
    expect(audit.head().count).toBe(0);
  });
});
