import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnection, type Db } from '../src/storage/connection.js';
import { tableExists } from '../src/storage/tables.js';
import { expectFailure, tempDir } from './fixtures/storage-support.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = tempDir('connection');
  file = path.join(dir, 'bot-bottle.db');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function withOpen<T>(db: Db, use: (db: Db) => T): T {
  try {
    return use(db);
  } finally {
    db.close();
  }
}

const journalMode = (db: Db): string => String(db.pragma('journal_mode', { simple: true }));

/** A database an earlier install left in rollback-journal mode, with one table and row. */
function rollbackModeDatabase(): void {
  withOpen(openConnection(file, { journalMode: 'as-is' }), (db) => {
    db.exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('kept')`);
  });
}

describe('openConnection', () => {
  it('switches a new database to WAL with the write pragmas', () => {
    withOpen(openConnection(file), (db) => {
      expect(journalMode(db)).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    });
  });

  it("journalMode 'as-is' leaves a rollback-mode database in its mode, and can still write", () => {
    rollbackModeDatabase();
    withOpen(openConnection(file, { journalMode: 'as-is' }), (db) => {
      expect(journalMode(db)).toBe('delete');
      db.exec(`INSERT INTO notes VALUES ('more')`);
    });
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
    withOpen(openConnection(file, { readonly: true }), (db) => expect(journalMode(db)).toBe('delete'));
  });

  it('readonly reads what the file holds, writes nothing (not even WAL mode) and refuses writes', async () => {
    rollbackModeDatabase();
    const before = fs.readFileSync(file);
    withOpen(openConnection(file, { readonly: true }), (db) => {
      expect(journalMode(db)).toBe('delete');
      expect(tableExists(db, 'notes')).toBe(true);
      expect(tableExists(db, 'proposals')).toBe(false);
      expect(db.prepare('SELECT body FROM notes').pluck().all()).toEqual(['kept']);
      expect(() => db.exec(`INSERT INTO notes VALUES ('no')`)).toThrow(/readonly/);
    });
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual(['bot-bottle.db']);
  });

  it('readonly never creates a missing file and says so', async () => {
    await expectFailure(() => openConnection(file, { readonly: true }), 'layout', /no database at .*bot-bottle\.db, so there is nothing to read/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
