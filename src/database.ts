import { AuditStore } from './audit/audit-store.js';
import { BottleStore, type BottleSelf } from './bottles/bottle-store.js';
import { checkpoint, openConnection, type Db } from './storage/connection.js';
import { SuperviseError } from './core/errors.js';
import type { KindRegistry } from './kinds/registry.js';
import type { storeKinds } from './kinds/store-kinds.js';
import { migrateUp, readUserVersion } from './storage/migrations.js';
import { ChangeNotifier } from './notify/notifier.js';
import { refuseEmptyDatabase, requireSafeDatabaseFile } from './storage/database-file.js';
import { DB_PATH_IN_CONTAINER, ensureHostDatabase, hostDbPath, requireExistingDatabase } from './storage/layout.js';
import { openBottleKeyring, openHostKeyring, type HostKeyring } from './keys/keyring.js';
import type { BottleQueue } from './queue/bottle-queue.js';
import { QueueStore } from './queue/queue-store.js';
import type { FloodLimits } from './queue/flood-control.js';
import { SCHEMA_VERSION } from './storage/schema-version.js';
import { validateSlug } from './core/validation.js';

/** One process's handle on the supervise database: a connection, its notifier and the stores on it. */
export interface SuperviseDatabase {
  path: string;
  db: Db;
  queue: QueueStore;
  audit: AuditStore;
  bottles: BottleStore;
  notifier: ChangeNotifier;
  /** Signs what the host writes and checks every seal it reads. */
  keyring: HostKeyring;
  close(): Promise<void>;
}

/**
 * What a bottle's sidecar gets: its own bottle's views and a way to close them. Never the stores,
 * the audit log or the connection: code in a bottle may be compromised, and nothing reachable from
 * here can answer the operator's proposals, speak as the host or touch another bottle's rows.
 */
export interface BottleDatabase {
  path: string;
  slug: string;
  queue: BottleQueue;
  bottle: BottleSelf;
  isOpen(): boolean;
  /** Resolves (with the cause) if the database fails under this process, e.g. its schema rolled back. */
  failed: Promise<unknown>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** An explicit file (tests, tools); default: the host path (`hostDbPath()`) or the container path. */
  path?: string;
  kinds?: KindRegistry;
  /** Watch the doorbells writers ring after their commits (default true); off, a poll delivers. */
  watch?: boolean;
  /** Only a database that exists (read-only commands): neither the layout nor the file is created. */
  mustExist?: boolean;
  /** Bottle-side openers: the bottle's quota, which every enqueue is held to (the host has none). */
  flood?: FloodLimits;
  /**
   * Host: the keys directory (default ~/.bot-bottle/keys, outside the shared directory) with the
   * host's signing pair, made on first use, and each bottle's MAC key. Sidecar: the bottle's
   * read-only key mount (default KEYS_DIR_IN_CONTAINER).
   */
  keysDir?: string;
}

/**
 * The host side: makes the layout, migrates to this build's schema, and opens. Only the host
 * migrates: sidecars of different builds share this file, and none may change the schema under the others.
 */
export async function openHostDatabase(options: OpenDatabaseOptions = {}): Promise<SuperviseDatabase> {
  const database = await openHostDatabaseForListing(options);
  try {
    await database.queue.loadKinds();
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/**
 * `openHostDatabase` for a command that may only list: without `options.kinds` the built-in
 * kinds' payload formats (zod, YAML, diff) are not loaded, so `queue.kinds` works only after
 * `await queue.loadKinds()` (the store's async methods load them themselves). Not exported by the
 * library: every store it hands out has its kinds loaded.
 */
export async function openHostDatabaseForListing(options: OpenDatabaseOptions = {}): Promise<SuperviseDatabase> {
  const file = options.mustExist ? requireExistingDatabase(options.path ?? hostDbPath(), { hostLayout: options.path === undefined }) : ensureHostDatabase(options.path);
  refuseEmptyDatabase(requireSafeDatabaseFile(file));
  const db = openConnection(file, { fileMustExist: options.mustExist ?? false });
  try {
    if (readUserVersion(db) !== SCHEMA_VERSION) await migrateUp(file);
    assertSchemaVersion(db, 'host');
    const keyring = openHostKeyring(options.keysDir);
    const notifier = new ChangeNotifier(db, { dbFile: file, watch: options.watch ?? true });
    const queue = new QueueStore(db, { notifier, keyring, ...(options.kinds ? { kinds: options.kinds } : {}), ...(options.flood ? { flood: options.flood } : {}) });
    // Only a registry the caller passed can declare launcher kinds; the built-ins are never recorded.
    if (options.kinds) {
      await queue.recordKinds().catch(async (error: unknown) => {
        await notifier.close();
        throw error;
      });
    }
    return {
      path: file,
      db,
      queue,
      audit: new AuditStore(db),
      bottles: new BottleStore(db, { keyring }),
      notifier,
      keyring,
      close: () => closeAll(notifier, db),
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The sidecar side, for bottle `slug`: never creates or migrates, refuses a schema it was not built
 * for, and seals with the bottle's key from its read-only mount. Returns the bottle's views only.
 * The kinds load on first use (`queue.loadKinds()`), unless `attachKinds` (store-kinds.ts's
 * `storeKinds`) makes them now.
 */
export function openSidecarDatabase(slug: string, options: OpenDatabaseOptions = {}, attachKinds?: typeof storeKinds): BottleDatabase {
  const file = options.path ?? DB_PATH_IN_CONTAINER;
  const db = openConnection(file, { fileMustExist: true });
  try {
    assertSchemaVersion(db, 'sidecar');
    const keyring = openBottleKeyring(validateSlug(slug), options.keysDir);
    const notifier = new ChangeNotifier(db, { dbFile: file, watch: options.watch ?? true });
    const store = new QueueStore(db, {
      notifier,
      keyring,
      ...(options.kinds ? { kinds: options.kinds } : {}),
      ...(options.flood ? { flood: options.flood } : {}),
      ...(attachKinds ? { attachKinds } : {}),
    });
    return {
      path: file,
      slug,
      queue: store.forSlug(slug),
      bottle: new BottleStore(db, { keyring }).forSlug(slug),
      isOpen: () => db.open,
      failed: notifier.failed,
      close: () => closeAll(notifier, db),
    };
  } catch (error) {
    db.close();
    throw error;
  }
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

async function closeAll(notifier: ChangeNotifier, db: Db): Promise<void> {
  await notifier.close();
  db.close();
}

/** Long-running host processes call this so the WAL stays bounded while sidecars keep reading. */
export function startCheckpointing(db: Db, intervalMs = 60_000): () => void {
  const timer = setInterval(() => {
    if (db.open) checkpoint(db);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
