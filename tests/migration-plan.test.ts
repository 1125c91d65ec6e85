import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planMigrate, planRollback } from '../src/admin/migration-plan.js';
import { openConnection } from '../src/storage/connection.js';
import { loadMigrations, migrateDown, migrateUp, readUserVersion, type MigrationFile } from '../src/storage/migrations.js';
import { expectFailure, MIGRATIONS_DIR, tempDir } from './fixtures/storage-support.js';

const REAL = loadMigrations(MIGRATIONS_DIR);
const NEWEST = REAL.length;

let dir: string;
let file: string;
/** The real migrations and two more after them, so a plan has tables of its own to drop. */
let set: MigrationFile[];
let names: string[];

beforeEach(() => {
  dir = tempDir('migration-plan');
  file = path.join(dir, 'bot-bottle.db');
  const migrationsDir = path.join(dir, 'migrations');
  fs.mkdirSync(migrationsDir);
  for (const name of fs.readdirSync(MIGRATIONS_DIR)) fs.copyFileSync(path.join(MIGRATIONS_DIR, name), path.join(migrationsDir, name));
  const extra = (version: number, label: string, up: string, down: string): void => {
    const name = `${String(version).padStart(4, '0')}_${label}`;
    fs.writeFileSync(path.join(migrationsDir, `${name}.up.sql`), up);
    fs.writeFileSync(path.join(migrationsDir, `${name}.down.sql`), down);
  };
  extra(NEWEST + 1, 'test_notes', 'CREATE TABLE test_notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);', 'DROP TABLE test_notes;');
  extra(NEWEST + 2, 'test_tags', 'CREATE TABLE test_tags (tag TEXT);\nCREATE INDEX test_tags_tag ON test_tags (tag);', 'DROP INDEX test_tags_tag;\nDROP TABLE IF EXISTS "test_tags";');
  set = loadMigrations(migrationsDir);
  names = set.map((m) => m.name);
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const step = (index: number, dropsTables: string[] = []): { name: string; version: number; dropsTables: string[] } => ({ name: names[index] as string, version: index + 1, dropsTables });

function fileState(): { bytes: Buffer; userVersion: number; journalMode: string } {
  const db = openConnection(file, { readonly: true });
  try {
    return { bytes: fs.readFileSync(file), userVersion: readUserVersion(db), journalMode: String(db.pragma('journal_mode', { simple: true })) };
  } finally {
    db.close();
  }
}

describe('planMigrate', () => {
  it('plans every migration for a database not created yet, and creates nothing', async () => {
    const plan = await planMigrate(file, {}, set);
    expect(plan).toEqual({ direction: 'up', steps: names.map((_, index) => step(index)), userVersion: 0, userVersionAfter: NEWEST + 2 });
    expect(fs.readdirSync(dir)).toEqual(['migrations']);
  });

  it('plans up to a target, which the run then applies exactly', async () => {
    await migrateUp(file, { to: NEWEST }, set);
    const plan = await planMigrate(file, { to: NEWEST + 1 }, set);
    expect(plan).toEqual({ direction: 'up', steps: [step(NEWEST)], userVersion: NEWEST, userVersionAfter: NEWEST + 1 });
    const run = await migrateUp(file, { to: NEWEST + 1 }, set);
    expect(run.applied).toEqual(plan.steps.map((s) => s.name));
    expect(run.userVersion).toBe(plan.userVersionAfter);
  });

  it('has nothing to do on a database at the newest schema', async () => {
    await migrateUp(file, {}, set);
    expect(await planMigrate(file, {}, set)).toEqual({ direction: 'up', steps: [], userVersion: NEWEST + 2, userVersionAfter: NEWEST + 2 });
    expect(await planMigrate(file, { to: names.at(-1) as string }, set)).toMatchObject({ steps: [] });
  });

  it('refuses an unknown target, and one the database has passed (naming the rollback to use), changing nothing', async () => {
    await migrateUp(file, {}, set);
    const before = fileState();
    await expectFailure(() => planMigrate(file, { to: 'latest-ish' }, set), 'invalid-input', new RegExp(`unknown migration "latest-ish"\\. Known: ${names[0]}`));
    await expectFailure(
      () => planMigrate(file, { to: 1 }, set),
      'invalid-input',
      new RegExp(`${names[0]} is already applied and so are later migrations \\(${names.slice(1).join(', ')}\\); migrate only moves forward\\. To go back, use \`bot-bottle db rollback --to ${names[0]}\``),
    );
    expect(fileState()).toEqual(before);
  });

  it('refuses a database a newer build migrated, as the run would', async () => {
    await migrateUp(file, {}, set);
    await expectFailure(() => planMigrate(file, {}, REAL), 'schema-mismatch', /newer than this build knows/);
  });

  it('reads a rollback-mode database without switching it to WAL', async () => {
    await migrateUp(file, { to: NEWEST }, set);
    const db = openConnection(file, { journalMode: 'as-is' });
    db.pragma('journal_mode = DELETE');
    db.close();
    const before = fileState();
    expect((await planMigrate(file, {}, set)).steps.map((s) => s.name)).toEqual(names.slice(NEWEST));
    expect(fileState()).toEqual({ ...before, journalMode: 'delete' });
  });
});

describe('planRollback', () => {
  beforeEach(async () => {
    await migrateUp(file, {}, set);
  });

  it('plans the newest migration by default, naming the tables it drops, and the run reverts exactly that', async () => {
    const before = fileState();
    const plan = await planRollback(file, {}, set);
    expect(plan).toEqual({ direction: 'down', steps: [step(NEWEST + 1, ['test_tags'])], userVersion: NEWEST + 2, userVersionAfter: NEWEST + 1 });
    expect(fileState()).toEqual(before);
    const run = await migrateDown(file, {}, set);
    expect(run.reverted).toEqual(plan.steps.map((s) => s.name));
    expect(run.userVersion).toBe(plan.userVersionAfter);
  });

  it('plans every migration after a kept one, newest first; the kept one stays', async () => {
    const plan = await planRollback(file, { to: String(NEWEST) }, set);
    expect(plan).toEqual({ direction: 'down', steps: [step(NEWEST + 1, ['test_tags']), step(NEWEST, ['test_notes'])], userVersion: NEWEST + 2, userVersionAfter: NEWEST });
    expect((await migrateDown(file, { to: String(NEWEST) }, set)).reverted).toEqual(plan.steps.map((s) => s.name));
  });

  it('plans everything for 0, the real tables among what it drops', async () => {
    const plan = await planRollback(file, { to: 0 }, set);
    expect(plan.steps.map((s) => s.name)).toEqual([...names].reverse());
    expect(plan.steps.flatMap((s) => s.dropsTables)).toEqual(expect.arrayContaining(['proposals', 'responses', 'audit_entries', 'events', 'legacy_imports', 'test_notes', 'test_tags']));
    expect(plan.userVersionAfter).toBe(0);
    expect((await migrateDown(file, { to: '0' }, set)).reverted).toEqual(plan.steps.map((s) => s.name));
    expect(await planRollback(file, {}, set)).toEqual({ direction: 'down', steps: [], userVersion: 0, userVersionAfter: 0 });
  });

  it('refuses a target that is not applied and an unknown one, changing nothing', async () => {
    await migrateDown(file, { to: NEWEST }, set);
    const before = fileState();
    await expectFailure(() => planRollback(file, { to: NEWEST + 1 }, set), 'invalid-input', new RegExp(`cannot roll back to ${names[NEWEST]}: it is not applied\\. Applied: ${names[0]}`));
    await expectFailure(() => planRollback(file, { to: 'nope' }, set), 'invalid-input', /unknown migration "nope"/);
    expect(fileState()).toEqual(before);
  });
});
