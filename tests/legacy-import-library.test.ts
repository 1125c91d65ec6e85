import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase } from '../src/database.js';
import { importLegacy } from '../src/legacy/import.js';
import { assertLegacyRoot } from '../src/legacy/tree.js';
import { openConnection, type Db } from '../src/storage/connection.js';
import { migrateUp } from '../src/storage/migrations.js';
import { tableExists } from '../src/storage/tables.js';
import { dumpData, expectFailure, FIXTURES_DIR, tempDir } from './fixtures/storage-support.js';

/** The counts of the fixture tree (docs/LEGACY-IMPORT.md walks through each file); the CLI tests check the same. */
const FIRST_RUN = {
  proposals: { read: 11, imported: 6, alreadyPresent: 1, malformed: 4 },
  responses: { read: 6, imported: 5, alreadyPresent: 0, malformed: 1 },
  auditLines: { read: 8, imported: 5, alreadyPresent: 1, malformed: 2 },
};
const SECOND_RUN = {
  proposals: { read: 11, imported: 0, alreadyPresent: 7, malformed: 4 },
  responses: { read: 6, imported: 0, alreadyPresent: 5, malformed: 1 },
  auditLines: { read: 8, imported: 0, alreadyPresent: 6, malformed: 2 },
};

let dir: string;
let from: string;
let file: string;

beforeEach(() => {
  dir = tempDir('legacy-library');
  from = path.join(dir, 'legacy');
  fs.cpSync(path.join(FIXTURES_DIR, 'legacy', 'tree'), from, { recursive: true });
  file = path.join(dir, 'bot-bottle.db');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function withReadOnly<T>(use: (db: Db) => T): T {
  const db = openConnection(file, { readonly: true });
  try {
    return use(db);
  } finally {
    db.close();
  }
}

describe('importLegacy as a library', () => {
  it('imports through the stores, records each source once, and recognizes all of it on the next run', async () => {
    const database = await openHostDatabase({ path: file, watch: false });
    try {
      expect(await importLegacy({ from, db: database.db })).toMatchObject({ dryRun: false, ...FIRST_RUN, countsVerified: true });
      expect(await importLegacy({ from, db: database.db, batchSize: 2 })).toMatchObject({ ...SECOND_RUN, countsVerified: true });
      expect(database.db.prepare('SELECT source_kind, count(*) AS n FROM legacy_imports GROUP BY source_kind ORDER BY source_kind').all()).toEqual([
        { source_kind: 'audit', n: 5 },
        { source_kind: 'proposal', n: 6 },
        { source_kind: 'response', n: 5 },
      ]);
      expect(database.audit.verify()).toMatchObject({ ok: true, head: { count: 5 } });
    } finally {
      await database.close();
    }
  });

  it('dry-runs against a database older than this build (no legacy_imports table yet) and writes nothing', async () => {
    await migrateUp(file, { to: 1 });
    const before = withReadOnly(dumpData);
    const db = openConnection(file, { readonly: true });
    try {
      expect(await importLegacy({ from, db, dryRun: true })).toMatchObject({ dryRun: true, ...FIRST_RUN, countsVerified: true });
    } finally {
      db.close();
    }
    expect(withReadOnly(dumpData)).toEqual(before);
    expect(withReadOnly((reader) => tableExists(reader, 'legacy_imports'))).toBe(false);
  });

  it('dry-runs without any database', async () => {
    expect(await importLegacy({ from, dryRun: true })).toMatchObject({ dryRun: true, ...FIRST_RUN, countsVerified: true });
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses a root that is not the legacy layout as invalid input', async () => {
    await expectFailure(() => assertLegacyRoot(path.join(dir, 'nope')), 'invalid-input', /nope is not a directory\. Point --from at the old bot-bottle state directory/);
    await expectFailure(() => importLegacy({ from: FIXTURES_DIR, dryRun: true }), 'invalid-input', /holds neither queue\/ nor audit\//);
  });
});
