import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openConnection } from '../src/storage/connection.js';
import { openHostDatabase, openSidecarDatabase } from '../src/database.js';
import { loadMigrations, migrateDown, migrateUp, migrationStatus, readUserVersion, type MigrationFile } from '../src/storage/migrations.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { readDatabaseStatus } from '../src/admin/status.js';
import { Children, dumpSchema, expectFailure, MIGRATIONS_DIR, tempDir } from './fixtures/storage-support.js';

const REAL = loadMigrations(MIGRATIONS_DIR);
const NEWEST = REAL.length;
const number = (version: number): string => String(version).padStart(4, '0');

function withConnection<T>(file: string, read: (db: ReturnType<typeof openConnection>) => T): T {
  const db = openConnection(file);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const schemaOf = (file: string): unknown[] => withConnection(file, dumpSchema);
const userVersionOf = (file: string): number => withConnection(file, readUserVersion);
const fullMaster = (file: string): unknown[] => withConnection(file, (db) => db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all());
const bookkeeping = (file: string): string[] =>
  withConnection(file, (db) => {
    const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'schema_migrations'`).get();
    return exists ? (db.prepare('SELECT name FROM schema_migrations ORDER BY name').pluck().all() as string[]) : [];
  });

/** A migrations directory holding copies of the real ones plus `extra`, numbered after the newest. */
function migrationsDirWith(root: string, extra: Array<{ label: string; up: string; down: string }>): string {
  const dir = fs.mkdtempSync(path.join(root, 'migrations-'));
  for (const file of fs.readdirSync(MIGRATIONS_DIR)) fs.copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(dir, file));
  extra.forEach(({ label, up, down }, index) => {
    const name = `${number(NEWEST + index + 1)}_${label}`;
    fs.writeFileSync(path.join(dir, `${name}.up.sql`), up);
    fs.writeFileSync(path.join(dir, `${name}.down.sql`), down);
  });
  return dir;
}

const EXTRA = [
  { label: 'test_notes', up: 'CREATE TABLE test_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);', down: 'DROP TABLE test_notes;' },
  { label: 'test_notes_index', up: 'CREATE INDEX test_notes_body ON test_notes (body);', down: 'DROP INDEX test_notes_body;' },
];

let dir: string;
beforeEach(() => {
  dir = tempDir('migrations');
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the migrations directory', () => {
  it('SCHEMA_VERSION is the number of the newest migration file', () => {
    const numbers = fs.readdirSync(MIGRATIONS_DIR).map((file) => Number(/^(\d{4})_/.exec(file)?.[1] ?? NaN));
    expect(numbers.length).toBeGreaterThan(0);
    expect(SCHEMA_VERSION).toBe(Math.max(...numbers));
    expect(REAL.at(-1)?.version).toBe(SCHEMA_VERSION);
  });

  it('holds nothing but numbered up/down pairs (a misnamed file would be silently skipped)', () => {
    const files = fs.readdirSync(MIGRATIONS_DIR).sort();
    for (const file of files) expect(file).toMatch(/^\d{4}_[a-z0-9_]+\.(up|down)\.sql$/);
    expect(files).toEqual(REAL.flatMap((m) => [`${m.name}.down.sql`, `${m.name}.up.sql`]));
  });
});

describe.each(REAL.map((m) => [m.name, m] as const))('migration %s', (_name, migration: MigrationFile) => {
  it('down reverses up exactly, and up → down → up round-trips', async () => {
    const file = path.join(dir, 'db.sqlite');
    if (migration.version > 1) await migrateUp(file, { to: migration.version - 1 }, REAL);
    const before = schemaOf(file);
    expect(userVersionOf(file)).toBe(migration.version - 1);

    expect((await migrateUp(file, { to: migration.version }, REAL)).applied).toEqual([migration.name]);
    const afterUp = schemaOf(file);
    expect(userVersionOf(file)).toBe(migration.version);

    expect((await migrateDown(file, {}, REAL)).reverted).toEqual([migration.name]);
    expect(schemaOf(file)).toEqual(before);
    expect(userVersionOf(file)).toBe(migration.version - 1);

    await migrateUp(file, { to: migration.version }, REAL);
    expect(schemaOf(file)).toEqual(afterUp);
    expect(userVersionOf(file)).toBe(migration.version);
  });
});

describe('migrating the real set', () => {
  it('all the way up, down to 0 and up again', async () => {
    const file = path.join(dir, 'db.sqlite');
    const empty = schemaOf(file);
    const up = await migrateUp(file);
    expect(up).toEqual({ applied: REAL.map((m) => m.name), reverted: [], userVersion: SCHEMA_VERSION });
    const latest = schemaOf(file);
    expect(latest).not.toEqual(empty);

    const down = await migrateDown(file, { to: 0 });
    expect(down).toEqual({ applied: [], reverted: REAL.map((m) => m.name).reverse(), userVersion: 0 });
    expect(schemaOf(file)).toEqual(empty);
    expect(bookkeeping(file)).toEqual([]);

    await migrateUp(file);
    expect(schemaOf(file)).toEqual(latest);
    expect(bookkeeping(file)).toEqual(REAL.map((m) => m.name));
  });
});

describe('status, targets and steps', () => {
  let set: MigrationFile[];
  let names: string[];
  let file: string;
  beforeEach(() => {
    set = loadMigrations(migrationsDirWith(dir, EXTRA));
    names = set.map((m) => m.name);
    file = path.join(dir, 'db.sqlite');
  });
  const tables = (): string[] => withConnection(file, (db) => db.prepare(`SELECT name FROM sqlite_master WHERE name LIKE 'test_notes%' ORDER BY name`).pluck().all() as string[]);

  it('reports status and moves up to a target, to the latest, and not past it', async () => {
    expect(migrationStatus(file, set)).toEqual({ userVersion: 0, buildVersion: SCHEMA_VERSION, applied: [], pending: names });
    // Asking about a database that does not exist yet does not create it.
    expect(fs.existsSync(file)).toBe(false);

    expect(await migrateUp(file, { to: NEWEST + 1 }, set)).toEqual({ applied: names.slice(0, NEWEST + 1), reverted: [], userVersion: NEWEST + 1 });
    expect(migrationStatus(file, set)).toMatchObject({ userVersion: NEWEST + 1, applied: names.slice(0, NEWEST + 1), pending: [names[NEWEST + 1]] });
    expect(tables()).toEqual(['test_notes']);

    expect(await migrateUp(file, {}, set)).toEqual({ applied: [names[NEWEST + 1]], reverted: [], userVersion: NEWEST + 2 });
    expect(tables()).toEqual(['test_notes', 'test_notes_body']);
    expect(await migrateUp(file, {}, set)).toEqual({ applied: [], reverted: [], userVersion: NEWEST + 2 });
    expect(migrationStatus(file, set)).toMatchObject({ userVersion: NEWEST + 2, applied: names, pending: [] });
  });

  it('accepts a target as a version number, a numeric string, a number prefix or a full name', async () => {
    expect((await migrateUp(file, { to: 1 }, set)).userVersion).toBe(1);
    expect((await migrateUp(file, { to: String(NEWEST + 1) }, set)).userVersion).toBe(NEWEST + 1);
    await migrateDown(file, { to: 0 }, set);
    expect((await migrateUp(file, { to: number(NEWEST + 1) }, set)).userVersion).toBe(NEWEST + 1);
    expect((await migrateUp(file, { to: names[NEWEST + 1] as string }, set)).userVersion).toBe(NEWEST + 2);
  });

  it('steps down one at a time, down to a target (which stays applied), and down to 0', async () => {
    await migrateUp(file, {}, set);

    expect(await migrateDown(file, {}, set)).toEqual({ applied: [], reverted: [names[NEWEST + 1]], userVersion: NEWEST + 1 });
    expect(tables()).toEqual(['test_notes']);

    await migrateUp(file, {}, set);
    expect(await migrateDown(file, { to: NEWEST }, set)).toEqual({ applied: [], reverted: [names[NEWEST + 1], names[NEWEST]], userVersion: NEWEST });
    expect(tables()).toEqual([]);
    expect(migrationStatus(file, set)).toMatchObject({ userVersion: NEWEST, applied: names.slice(0, NEWEST) });
    expect(await migrateDown(file, { to: NEWEST }, set)).toEqual({ applied: [], reverted: [], userVersion: NEWEST });

    expect(await migrateDown(file, { to: 0 }, set)).toEqual({ applied: [], reverted: names.slice(0, NEWEST).reverse(), userVersion: 0 });
    expect(schemaOf(file)).toEqual([]);
    expect(await migrateDown(file, {}, set)).toEqual({ applied: [], reverted: [], userVersion: 0 });
  });

  it('refuses unknown targets and a roll-back target that is not applied, changing nothing', async () => {
    await migrateUp(file, { to: NEWEST }, set);
    const before = fullMaster(file);

    await expectFailure(() => migrateUp(file, { to: 99 }, set), 'invalid-input', new RegExp(`unknown migration "99"\\. Known: ${names[0]}`));
    await expectFailure(() => migrateUp(file, { to: 'latest-ish' }, set), 'invalid-input', /unknown migration "latest-ish"/);
    await expectFailure(() => migrateDown(file, { to: NEWEST + 2 }, set), 'invalid-input', new RegExp(`cannot roll back to ${names[NEWEST + 1]}: it is not applied`));

    expect(fullMaster(file)).toEqual(before);
    expect(userVersionOf(file)).toBe(NEWEST);
  });
});

describe('two processes migrating the same fresh database at once', () => {
  const children = new Children();
  afterEach(() => children.killAll());

  async function race(file: string, migrationsDir: string): Promise<Array<{ ok: boolean; applied: string[] }>> {
    const racers = [children.start('storage-migrate.ts', [file, migrationsDir]), children.start('storage-migrate.ts', [file, migrationsDir])];
    await Promise.all(racers.map((child) => child.ready()));
    for (const child of racers) child.send('go');
    const results = await Promise.all(racers.map((child) => child.nextJson<{ ok: boolean; applied: string[] }>()));
    const codes = await Promise.all(racers.map((child) => child.finish()));
    expect({ results, codes, stderr: racers.map((child) => child.stderr.join('')) }).toMatchObject({ codes: [0, 0], stderr: ['', ''] });
    return results;
  }

  it('applies each migration exactly once, whoever wins', async () => {
    const migrationsDir = migrationsDirWith(dir, EXTRA);
    const names = loadMigrations(migrationsDir).map((m) => m.name);
    for (let round = 0; round < 3; round += 1) {
      const file = path.join(dir, `race-${round}.sqlite`);
      const results = await race(file, migrationsDir);

      expect(results.every((r) => r.ok)).toBe(true);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
      expect(bookkeeping(file)).toEqual(names);
      expect(userVersionOf(file)).toBe(names.length);
      expect(withConnection(file, (db) => db.pragma('integrity_check', { simple: true }))).toBe('ok');
    }
  });

  it('works with the real migrations', async () => {
    const file = path.join(dir, 'race-real.sqlite');
    const results = await race(file, MIGRATIONS_DIR);
    expect(results.flatMap((r) => r.applied).sort()).toEqual(REAL.map((m) => m.name));
    expect(userVersionOf(file)).toBe(SCHEMA_VERSION);
  });
});

describe('a migration that fails halfway', () => {
  const broken = [
    { what: 'a runtime error after a statement succeeded', up: 'CREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);\n', message: /no such table: no_such_table/ },
    { what: 'a syntax error after a statement succeeded', up: 'CREATE TABLE half_done (x);\nTHIS IS NOT SQL;\n', message: /syntax error/ },
  ];

  for (const { what, up, message } of broken) {
    it(`(${what}) on a fresh database rolls back the whole run: no schema, no bookkeeping`, async () => {
      const set = loadMigrations(migrationsDirWith(dir, [{ label: 'broken', up, down: 'DROP TABLE half_done;' }]));
      const file = path.join(dir, 'db.sqlite');

      const error = await expectFailure(() => migrateUp(file, {}, set), 'migration', new RegExp(`migration ${number(NEWEST + 1)}_broken failed: .*Nothing was changed`, 's'));
      expect(error.message).toMatch(message);

      expect(fullMaster(file)).toEqual([]);
      expect(userVersionOf(file)).toBe(0);
    });

    it(`(${what}) on an up-to-date database leaves schema, bookkeeping and user_version as they were`, async () => {
      const set = loadMigrations(migrationsDirWith(dir, [{ label: 'broken', up, down: 'DROP TABLE half_done;' }]));
      const file = path.join(dir, 'db.sqlite');
      await migrateUp(file, {}, REAL);
      const before = { master: fullMaster(file), bookkeeping: bookkeeping(file), userVersion: userVersionOf(file) };

      await expectFailure(() => migrateUp(file, {}, set), 'migration', /_broken failed/);

      expect({ master: fullMaster(file), bookkeeping: bookkeeping(file), userVersion: userVersionOf(file) }).toEqual(before);
      expect(bookkeeping(file)).not.toContain(`${number(NEWEST + 1)}_broken`);
    });
  }

  it('a down that fails leaves the migration applied and its schema in place', async () => {
    const set = loadMigrations(migrationsDirWith(dir, [{ label: 'bad_down', up: 'CREATE TABLE kept (x);', down: 'DROP TABLE kept;\nDROP TABLE no_such_table;' }]));
    const file = path.join(dir, 'db.sqlite');
    await migrateUp(file, {}, set);
    const before = { master: fullMaster(file), bookkeeping: bookkeeping(file), userVersion: userVersionOf(file) };

    await expectFailure(() => migrateDown(file, {}, set), 'migration', /_bad_down failed: no such table: no_such_table/);

    expect({ master: fullMaster(file), bookkeeping: bookkeeping(file), userVersion: userVersionOf(file) }).toEqual(before);
  });
});

describe('a database newer than this build', () => {
  /** Every file in the directory with a hash of its bytes. */
  const filesIn = (directory: string): Record<string, string> =>
    Object.fromEntries(fs.readdirSync(directory).sort().map((name) => [name, createHash('sha256').update(fs.readFileSync(path.join(directory, name))).digest('hex')]));

  let file: string;
  let dbDir: string;
  beforeEach(async () => {
    dbDir = path.join(dir, 'shared');
    fs.mkdirSync(dbDir);
    file = path.join(dbDir, 'bot-bottle.db');
    const host = await openHostDatabase({ path: file, watch: false });
    await host.close();
    withConnection(file, (db) => db.pragma(`user_version = ${SCHEMA_VERSION + 1}`));
  });

  it('is refused by the host opener with schema-mismatch, and nothing is written', async () => {
    const before = filesIn(dbDir);
    await expectFailure(
      () => openHostDatabase({ path: file, watch: false }),
      'schema-mismatch',
      new RegExp(`schema version ${SCHEMA_VERSION + 1}.*newer than this build knows \\(${SCHEMA_VERSION}\\)\\. Upgrade bot-bottle`),
    );
    expect(filesIn(dbDir)).toEqual(before);
  });

  it('is refused by the sidecar opener with schema-mismatch, and nothing is written', async () => {
    const before = filesIn(dbDir);
    await expectFailure(
      () => openSidecarDatabase('acme', { path: file }),
      'schema-mismatch',
      new RegExp(`schema version is ${SCHEMA_VERSION + 1} but this sidecar was built for version ${SCHEMA_VERSION}\\. .*upgrade this sidecar image`),
    );
    expect(filesIn(dbDir)).toEqual(before);
  });

  it('is refused by migrate up and down, and nothing is written', async () => {
    const before = filesIn(dbDir);
    await expectFailure(() => migrateUp(file), 'schema-mismatch', /newer than this build knows/);
    await expectFailure(() => migrateDown(file), 'schema-mismatch', /newer than this build knows/);
    await expectFailure(() => migrateDown(file, { to: 0 }), 'schema-mismatch', /newer than this build knows/);
    expect(filesIn(dbDir)).toEqual(before);
  });

  it('is recognised by an applied migration this build does not know, too', async () => {
    withConnection(file, (db) => {
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      db.prepare('INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)').run('9999_from_the_future', Date.now());
    });
    const before = filesIn(dbDir);
    await expectFailure(() => migrateUp(file), 'schema-mismatch', /applied: 9999_from_the_future/);
    expect(filesIn(dbDir)).toEqual(before);
  });
});

describe('a database older than the sidecar', () => {
  it('is refused, and the sidecar does not migrate it', async () => {
    const file = path.join(dir, 'bot-bottle.db');
    fs.writeFileSync(file, '');
    await expectFailure(() => openSidecarDatabase('acme', { path: file }), 'schema-mismatch', /schema version is 0 .*The database is older: .*bot-bottle db migrate/);
    expect(fullMaster(file)).toEqual([]);
    expect(userVersionOf(file)).toBe(0);
  });
});

describe('readDatabaseStatus', () => {
  it('names the missing database and the fix instead of a raw ENOENT, and creates nothing', () => {
    const missing = path.join(tempDir('status'), 'absent', 'bot-bottle.db');
    expect(() => readDatabaseStatus(missing)).toThrow(expect.objectContaining({ code: 'layout', message: expect.stringMatching(/no database at .*bot-bottle db migrate/) }));
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
  });
});
