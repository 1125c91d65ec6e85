import { AuditStore } from './audit/audit-store.js';
import { BottleStore } from './bottles/bottle-store.js';
import { checkpoint, openConnection, type Db } from './storage/connection.js';
import { SuperviseError } from './core/errors.js';
import type { KindRegistry } from './kinds/registry.js';
import { migrateUp, readUserVersion } from './storage/migrations.js';
import { ChangeNotifier } from './notify/notifier.js';
import { refuseEmptyDatabase, requireSafeDatabaseFile } from './storage/database-file.js';
import { DB_PATH_IN_CONTAINER, ensureHostLayout, hostDbPath, requireExistingDatabase } from './storage/layout.js';
import { QueueStore } from './queue/queue-store.js';
import type { FloodLimits } from './queue/flood-control.js';
import { SCHEMA_VERSION } from './storage/schema-version.js';

/** One process's handle on the supervise database: a connection, its notifier and the stores on it. */
export interface SuperviseDatabase {
  path: string;
  db: Db;
  queue: QueueStore;
  audit: AuditStore;
  bottles: BottleStore;
  notifier: ChangeNotifier;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** An explicit file (tests, tools); default: the host path (`hostDbPath()`) or the container path. */
  path?: string;
  kinds?: KindRegistry;
  /** Watch the shared directory for file events (default true). */
  watch?: boolean;
  /** Only a database that exists (read-only commands): neither the layout nor the file is created. */
  mustExist?: boolean;
  /** Bottle-side openers: the bottle's quota, which every enqueue is held to (the host has none). */
  flood?: FloodLimits;
}

/**
 * The host side: makes the layout, migrates to this build's schema, and opens. Only the host
 * migrates: sidecars of different builds share this file, and none may change the schema under the others.
 */
export async function openHostDatabase(options: OpenDatabaseOptions = {}): Promise<SuperviseDatabase> {
  const file = options.mustExist ? requireExistingDatabase(options.path ?? hostDbPath(), { hostLayout: options.path === undefined }) : (options.path ?? ensureHostLayout());
  refuseEmptyDatabase(requireSafeDatabaseFile(file));
  const db = openConnection(file, { fileMustExist: options.mustExist ?? false });
  try {
    if (readUserVersion(db) !== SCHEMA_VERSION) await migrateUp(file);
    assertSchemaVersion(db, 'host');
  } catch (error) {
    db.close();
    throw error;
  }
  return assemble(file, db, options);
}

/** The sidecar side: never creates or migrates; refuses a schema it was not built for. */
export function openSidecarDatabase(options: OpenDatabaseOptions = {}): SuperviseDatabase {
  const file = options.path ?? DB_PATH_IN_CONTAINER;
  const db = openConnection(file, { fileMustExist: true });
  try {
    assertSchemaVersion(db, 'sidecar');
  } catch (error) {
    db.close();
    throw error;
  }
  return assemble(file, db, options);
}

export function assertSchemaVersion(db: Db, role: 'host' | 'sidecar'): void {
  const version = readUserVersion(db);
  if (version === SCHEMA_VERSION) return;
  const advice =
    version > SCHEMA_VERSION
      ? `The database is newer: upgrade this ${role === 'sidecar' ? 'sidecar image' : 'bot-bottle install'}.`
      : role === 'sidecar'
        ? 'The database is older: upgrade bot-bottle on the host and run `bot-bottle db migrate` (the host migrates, never a sidecar).'
        : 'Run `bot-bottle db migrate`.';
  throw new SuperviseError('schema-mismatch', `database schema version is ${version} but this ${role} was built for version ${SCHEMA_VERSION}. ${advice}`);
}

function assemble(file: string, db: Db, options: OpenDatabaseOptions): SuperviseDatabase {
  const notifier = new ChangeNotifier(db, { dbFile: file, watch: options.watch ?? true });
  const queue = new QueueStore(db, { notifier, ...(options.kinds ? { kinds: options.kinds } : {}), ...(options.flood ? { flood: options.flood } : {}) });
  return {
    path: file,
    db,
    queue,
    audit: new AuditStore(db),
    bottles: new BottleStore(db),
    notifier,
    async close() {
      await notifier.close();
      db.close();
    },
  };
}

/** Long-running host processes call this so the WAL stays bounded while sidecars keep reading. */
export function startCheckpointing(db: Db, intervalMs = 60_000): () => void {
  const timer = setInterval(() => {
    if (db.open) checkpoint(db);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
