import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GENESIS_HASH, readAuditHead, type AuditEntry, type AuditHead } from '../src/audit/audit-store.js';
import { checkKeptHead, parseKeptHead } from '../src/audit/kept-head.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { openConnection, writeTransaction } from '../src/storage/connection.js';
import { expectFailure, tempDir } from './fixtures/storage-support.js';

let dir: string;
let database: SuperviseDatabase;

beforeEach(async () => {
  dir = tempDir('audit-head');
  database = await openHostDatabase({ path: path.join(dir, 'bot-bottle.db'), watch: false });
});
afterEach(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function append(count: number): Promise<AuditEntry[]> {
  return writeTransaction(database.db, () =>
    Array.from({ length: count }, () => database.audit.appendWithinTransaction('acme', { component: 'egress', action: 'proposal-decision', actor: 'operator', status: 'approved' })),
  );
}

const keptOf = (head: AuditHead): string => `${head.hash}:${head.count}`;

/** Raw SQL as someone with file access would run it, the append-only triggers dropped first. */
function tamper(sql: string): void {
  const db = openConnection(database.path);
  try {
    for (const trigger of db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_entries'`).pluck().all() as string[]) db.exec(`DROP TRIGGER "${trigger}"`);
    db.exec(sql);
  } finally {
    db.close();
  }
}

describe('readAuditHead', () => {
  it('is the genesis hash with count 0 for an empty log, then the newest entry', async () => {
    expect(readAuditHead(database.db)).toEqual({ hash: GENESIS_HASH, count: 0 });
    const entries = await append(3);
    const newest = entries.at(-1) as AuditEntry;
    expect(readAuditHead(database.db)).toEqual({ hash: newest.hash, count: 3 });
    expect(database.audit.head()).toEqual(readAuditHead(database.db));
  });

  it('reads the head of another connection, read-only, as a backup copy or an inspection would', async () => {
    await append(2);
    const reader = openConnection(database.path, { readonly: true });
    try {
      expect(readAuditHead(reader)).toEqual(database.audit.head());
    } finally {
      reader.close();
    }
  });
});

describe('parseKeptHead', () => {
  it('reads HASH:COUNT as verify prints it, lowercasing the hash and ignoring surrounding space', () => {
    const hash = 'AB'.repeat(32);
    expect(parseKeptHead(` ${hash}:12\n`, '--expect-head')).toEqual({ hash: hash.toLowerCase(), count: 12 });
    expect(parseKeptHead(`${GENESIS_HASH}:0`, '--expect-head')).toEqual({ hash: GENESIS_HASH, count: 0 });
  });

  it.each([
    ['no count', 'a'.repeat(64)],
    ['a short hash', `${'a'.repeat(63)}:1`],
    ['a negative count', `${'a'.repeat(64)}:-1`],
    ['a count beyond safe integers', `${'a'.repeat(64)}:99999999999999999999`],
    ['something else', 'deadbeef'],
  ])('refuses %s as a usage error naming where it came from', async (_name, text) => {
    await expectFailure(() => parseKeptHead(text, '--expect-head'), 'usage', /^--expect-head ".*" is not a head: give HASH:COUNT exactly as `bot-bottle audit verify` printed it/);
  });
});

describe('checkKeptHead', () => {
  it('matches the current head, and counts the entries appended since an earlier one', async () => {
    const first = await append(4);
    const kept = database.audit.head();
    expect(checkKeptHead(database.audit, kept)).toEqual({ expected: kept, matches: true, newEntries: 0 });

    await append(3);
    expect(checkKeptHead(database.audit, kept)).toEqual({ expected: kept, matches: true, newEntries: 3 });
    const second = { hash: (first[1] as AuditEntry).hash, count: 2 };
    expect(checkKeptHead(database.audit, second)).toEqual({ expected: second, matches: true, newEntries: 5 });
  });

  it('a head kept before the first entry is the genesis hash, and matches any log', async () => {
    const empty = database.audit.head();
    expect(checkKeptHead(database.audit, empty)).toMatchObject({ matches: true, newEntries: 0 });
    await append(2);
    expect(checkKeptHead(database.audit, empty)).toMatchObject({ matches: true, newEntries: 2 });
  });

  it('finds a log cut short at its end, which the chain alone cannot', async () => {
    await append(6);
    const kept = database.audit.head();
    tamper('DELETE FROM audit_entries WHERE seq > 4');
    expect(database.audit.verify().ok).toBe(true);
    expect(checkKeptHead(database.audit, kept)).toEqual({
      expected: kept,
      matches: false,
      problem: `the log ends at entry 4, but the kept head ${keptOf(kept)} is entry 6: entries 5–6 were removed from the end of the log.`,
    });
  });

  it('finds a log rewritten from scratch to the same length', async () => {
    await append(3);
    const kept = database.audit.head();
    tamper('DELETE FROM audit_entries');
    await writeTransaction(database.db, () => {
      for (let i = 0; i < 3; i += 1) database.audit.appendWithinTransaction('acme', { component: 'egress', action: 'operator-edit', actor: 'mallory' });
    });
    const rewritten = database.audit.head();
    expect(database.audit.verify().ok).toBe(true);
    expect(checkKeptHead(database.audit, kept)).toEqual({
      expected: kept,
      matches: false,
      problem: `entry 3 has hash ${rewritten.hash}, not the kept ${kept.hash}: the log was rewritten at or before entry 3.`,
    });
  });

  it('finds the kept entry deleted from the middle', async () => {
    await append(5);
    const third = { hash: (database.audit.readAuditEntry(3) as AuditEntry).hash, count: 3 };
    tamper('DELETE FROM audit_entries WHERE seq = 3');
    expect(checkKeptHead(database.audit, third)).toEqual({ expected: third, matches: false, problem: `entry 3 of the kept head ${keptOf(third)} is missing from the log.` });
  });
});
