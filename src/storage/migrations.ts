import fs from 'node:fs';
import path from 'node:path';
import type { Umzug, UmzugStorage } from 'umzug';
import { openConnection, retryOnBusy, type Db } from './connection.js';
import { SuperviseError } from '../core/errors.js';
import { packageRoot } from '../core/package-root.js';
import { SCHEMA_VERSION } from './schema-version.js';
import { tableExists } from './tables.js';

export interface MigrationFile {
  /** `0001_queue_audit_events`: the number is the schema version it brings the DB to. */
  name: string;
  version: number;
  up: string;
  down: string;
}

export interface MigrationStatus {
  userVersion: number;
  buildVersion: number;
  applied: string[];
  pending: string[];
}

const MIGRATION_FILE = /^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$/;
const STORAGE_TABLE = 'schema_migrations';

/** The migrations/ of this installation, beside its package.json. */
export function defaultMigrationsDir(): string {
  const dir = path.join(packageRoot(), 'migrations');
  if (!fs.existsSync(dir)) throw new Error(`${dir} is missing: the installation is incomplete; reinstall bot-bottle (or restore migrations/ in a checkout).`);
  return dir;
}

export function loadMigrations(dir: string = defaultMigrationsDir()): MigrationFile[] {
  const byName = new Map<string, Partial<MigrationFile>>();
  for (const file of fs.readdirSync(dir)) {
    const match = MIGRATION_FILE.exec(file);
    if (!match) continue;
    const [, number, label, direction] = match as unknown as [string, string, string, 'up' | 'down'];
    const name = `${number}_${label}`;
    const entry = byName.get(name) ?? { name, version: Number(number) };
    entry[direction] = fs.readFileSync(path.join(dir, file), 'utf8');
    byName.set(name, entry);
  }
  const migrations = [...byName.values()].sort((a, b) => (a.version ?? 0) - (b.version ?? 0));
  migrations.forEach((migration, index) => {
    if (migration.up === undefined || migration.down === undefined) {
      throw new Error(`migration ${migration.name} needs both ${migration.name}.up.sql and ${migration.name}.down.sql`);
    }
    if (migration.version !== index + 1) {
      throw new Error(`migration ${migration.name} is out of sequence: expected number ${String(index + 1).padStart(4, '0')}`);
    }
  });
  return migrations as MigrationFile[];
}

export function readUserVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function storageFor(db: Db): UmzugStorage {
  return {
    async logMigration({ name }) {
      db.prepare(`INSERT INTO ${STORAGE_TABLE} (name, applied_at) VALUES (?, ?)`).run(name, Date.now());
    },
    async unlogMigration({ name }) {
      db.prepare(`DELETE FROM ${STORAGE_TABLE} WHERE name = ?`).run(name);
    },
    async executed() {
      return appliedMigrations(db);
    },
  };
}

/** The names of the migrations the database has applied, oldest first. */
export function appliedMigrations(db: Db): string[] {
  if (!tableExists(db, STORAGE_TABLE)) return [];
  return db.prepare(`SELECT name FROM ${STORAGE_TABLE} ORDER BY name`).pluck().all() as string[];
}

/** Where the open database stands against `migrations`; reads only, so a read-only connection will do. */
export function readMigrationStatus(db: Db, migrations: MigrationFile[] = loadMigrations()): MigrationStatus {
  const applied = appliedMigrations(db);
  return {
    userVersion: readUserVersion(db),
    buildVersion: SCHEMA_VERSION,
    applied,
    pending: migrations.map((m) => m.name).filter((name) => !applied.includes(name)),
  };
}

export function migrationStatus(file: string, migrations: MigrationFile[] = loadMigrations()): MigrationStatus {
  // Asking must not create the file: a database that does not exist yet has everything to come.
  if (!fs.existsSync(file)) return { userVersion: 0, buildVersion: SCHEMA_VERSION, applied: [], pending: migrations.map((m) => m.name) };
  const db = openConnection(file, { readonly: true });
  try {
    return readMigrationStatus(db, migrations);
  } finally {
    db.close();
  }
}

/**
 * Holds one BEGIN IMMEDIATE on a dedicated connection for the whole run, so concurrent migrators
 * serialize and a failure anywhere leaves neither schema nor bookkeeping behind.
 */
async function underMigrationLock<T>(file: string, migrations: MigrationFile[], run: (umzug: Umzug<Db>) => Promise<T>): Promise<T> {
  // umzug (and the CLI toolkit it brings) loads only when something migrates, and before the lock is taken.
  const { Umzug } = await import('umzug');
  const db = openConnection(file);
  try {
    await retryOnBusy(() => db.exec('BEGIN IMMEDIATE'));
    try {
      assertKnownSchema(db, migrations);
      db.exec(`CREATE TABLE IF NOT EXISTS ${STORAGE_TABLE} (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`);
      const umzug = new Umzug<Db>({
        migrations: migrations.map((m) => ({
          name: m.name,
          up: async () => void db.exec(m.up),
          down: async () => void db.exec(m.down),
        })),
        context: db,
        storage: storageFor(db),
        logger: undefined,
      });
      const result = await run(umzug);
      const applied = appliedMigrations(db);
      const newest = migrations.filter((m) => applied.includes(m.name)).at(-1);
      db.pragma(`user_version = ${newest?.version ?? 0}`);
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw explainMigrationFailure(error);
    }
  } finally {
    db.close();
  }
}

/** Refuses a database some newer build migrated: an older build's migrations could only damage it. */
export function assertKnownSchema(db: Db, migrations: MigrationFile[]): void {
  const known = new Set(migrations.map((m) => m.name));
  const unknown = appliedMigrations(db).filter((name) => !known.has(name));
  const userVersion = readUserVersion(db);
  if (unknown.length > 0 || userVersion > migrations.length) {
    throw new SuperviseError(
      'schema-mismatch',
      `the database is at schema version ${userVersion}${unknown.length ? ` (applied: ${unknown.join(', ')})` : ''}, newer than this build knows (${migrations.length}). Upgrade bot-bottle on this host; do not migrate it with an older build.`,
    );
  }
}

function explainMigrationFailure(error: unknown): unknown {
  if (error instanceof SuperviseError) return error;
  const cause = (error as { cause?: unknown }).cause ?? error;
  const message = cause instanceof Error ? cause.message : String(cause);
  const name = (error as { migration?: { name?: string } }).migration?.name;
  return new SuperviseError('migration', `migration ${name ?? '(unknown)'} failed: ${message}. Nothing was changed: the whole run was rolled back.`);
}

export interface MigrationResult {
  applied: string[];
  reverted: string[];
  userVersion: number;
}

/** Applies pending migrations up to `to` (a name or version), or all of them. */
export async function migrateUp(file: string, options: { to?: string | number } = {}, migrations: MigrationFile[] = loadMigrations()): Promise<MigrationResult> {
  const to = options.to === undefined ? undefined : findMigration(options.to, migrations).name;
  const ran = await underMigrationLock(file, migrations, (umzug) => umzug.up(to === undefined ? {} : { to }));
  return { applied: ran.map((m) => m.name), reverted: [], userVersion: schemaVersionOf(file) };
}

/**
 * Reverts migrations. With no target, one step; with `to`, down to and excluding that migration
 * (it stays applied, like River's --target-version); `to: 0` reverts everything.
 */
export async function migrateDown(file: string, options: { to?: string | number } = {}, migrations: MigrationFile[] = loadMigrations()): Promise<MigrationResult> {
  const ran = await underMigrationLock(file, migrations, async (umzug) => {
    if (options.to === undefined) return umzug.down({ step: 1 });
    if (options.to === 0 || options.to === '0') return umzug.down({ to: 0 });
    const keep = findMigration(options.to, migrations).name;
    const executed = (await umzug.executed()).map((m) => m.name);
    if (!executed.includes(keep)) {
      throw new SuperviseError('invalid-input', `cannot roll back to ${keep}: it is not applied. Applied: ${executed.join(', ') || 'none'}.`);
    }
    const next = executed[executed.indexOf(keep) + 1];
    return next === undefined ? [] : umzug.down({ to: next });
  });
  return { applied: [], reverted: ran.map((m) => m.name), userVersion: schemaVersionOf(file) };
}

/** A migration named by its full name, its number (`2`, `"2"`) or its number prefix (`"0002"`). */
export function findMigration(to: string | number, migrations: MigrationFile[]): MigrationFile {
  const text = String(to);
  const match = migrations.find((m) => m.name === text || (/^\d+$/.test(text) && m.version === Number(text)) || m.name.startsWith(`${text}_`));
  if (!match) {
    throw new SuperviseError('invalid-input', `unknown migration "${text}". Known: ${migrations.map((m) => m.name).join(', ')}.`);
  }
  return match;
}

/** The schema version `file` is at, read on a connection of its own that writes nothing. */
export function schemaVersionOf(file: string): number {
  const db = openConnection(file, { readonly: true });
  try {
    return readUserVersion(db);
  } finally {
    db.close();
  }
}
