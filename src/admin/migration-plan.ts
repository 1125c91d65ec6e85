import fs from 'node:fs';
import { SuperviseError } from '../core/errors.js';
import { openConnection, retryOnBusy } from '../storage/connection.js';
import { appliedMigrations, assertKnownSchema, findMigration, loadMigrations, readUserVersion, type MigrationFile } from '../storage/migrations.js';

export interface PlannedMigration {
  name: string;
  version: number;
  /** Tables this step drops, read from its SQL, so whoever confirms a rollback knows what is lost. */
  dropsTables: string[];
}

/** What `migrateUp` or `migrateDown` would do to a database, worked out without changing it. */
export interface MigrationPlan {
  direction: 'up' | 'down';
  /** In the order they would run; empty when there is nothing to do. */
  steps: PlannedMigration[];
  userVersion: number;
  userVersionAfter: number;
}

export interface PlanOptions {
  /** A migration's name, number or number prefix; for a rollback, `0` reverts everything. */
  to?: string | number;
}

/**
 * The migrations `migrateUp(file, options)` would apply, in order, refused as that run would
 * refuse them. A `to` the database has already passed is refused too: migrating only moves
 * forward, and applying nothing would leave the user believing the schema is at `to`.
 */
export async function planMigrate(file: string, options: PlanOptions = {}, migrations: MigrationFile[] = loadMigrations()): Promise<MigrationPlan> {
  const target = options.to === undefined ? undefined : findMigration(options.to, migrations);
  const { applied, userVersion } = await readApplied(file, migrations);
  if (target !== undefined) {
    const later = applied.filter((name) => name > target.name);
    if (later.length > 0) {
      throw new SuperviseError(
        'invalid-input',
        `${target.name} is already applied and so are later migrations (${later.join(', ')}); migrate only moves forward. To go back, use \`bot-bottle db rollback --to ${target.name}\`.`,
      );
    }
  }
  const steps = migrations.filter((m) => !applied.includes(m.name) && (target === undefined || m.version <= target.version));
  return { direction: 'up', steps: steps.map((m) => planned(m, m.up)), userVersion, userVersionAfter: steps.at(-1)?.version ?? userVersion };
}

/**
 * The migrations `migrateDown(file, options)` would revert, newest first: with no `to` the newest
 * one, with `to` every one after it (it stays applied), with `to: 0` all of them.
 */
export async function planRollback(file: string, options: PlanOptions = {}, migrations: MigrationFile[] = loadMigrations()): Promise<MigrationPlan> {
  const { applied, userVersion } = await readApplied(file, migrations);
  const appliedFiles = migrations.filter((m) => applied.includes(m.name));
  let reverted: MigrationFile[];
  if (options.to === undefined) {
    reverted = appliedFiles.slice(-1);
  } else if (String(options.to) === '0') {
    reverted = [...appliedFiles].reverse();
  } else {
    const keep = findMigration(options.to, migrations);
    if (!applied.includes(keep.name)) {
      throw new SuperviseError('invalid-input', `cannot roll back to ${keep.name}: it is not applied. Applied: ${applied.join(', ') || 'none'}.`);
    }
    reverted = appliedFiles.filter((m) => m.version > keep.version).reverse();
  }
  const kept = appliedFiles.filter((m) => !reverted.includes(m));
  return {
    direction: 'down',
    steps: reverted.map((m) => planned(m, m.down)),
    userVersion,
    userVersionAfter: reverted.length === 0 ? userVersion : (kept.at(-1)?.version ?? 0),
  };
}

function planned(migration: MigrationFile, sql: string): PlannedMigration {
  return { name: migration.name, version: migration.version, dropsTables: droppedTables(sql) };
}

function droppedTables(sql: string): string[] {
  return [...sql.matchAll(/DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?"?(\w+)"?/gi)].map((match) => match[1] as string);
}

/** Read-only, so planning (a dry run included) writes nothing; a file not created yet has applied nothing. */
async function readApplied(file: string, migrations: MigrationFile[]): Promise<{ applied: string[]; userVersion: number }> {
  if ((fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0) === 0) return { applied: [], userVersion: 0 };
  const db = openConnection(file, { readonly: true });
  try {
    return await retryOnBusy(() => {
      assertKnownSchema(db, migrations);
      return { applied: appliedMigrations(db), userVersion: readUserVersion(db) };
    });
  } finally {
    db.close();
  }
}
