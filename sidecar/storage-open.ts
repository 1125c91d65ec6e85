import fs from 'node:fs';
import { openSidecarDatabase, type BottleDatabase } from '../src/database.js';
import { SuperviseError, isSuperviseError, type SuperviseErrorCode } from '../src/core/errors.js';
import { environmentError } from '../src/storage/environment-errors.js';
import { assertDbMountSupported } from '../src/storage/mount-guard.js';
import { DB_PATH_IN_CONTAINER, SHARED_DIR_IN_CONTAINER } from '../src/storage/layout.js';
import { DEFAULT_FLOOD_LIMITS, type FloodLimits } from '../src/queue/flood-control.js';
import { BottleKeyring } from '../src/keys/keyring.js';
import { readBottleKeyMaterial, KEYS_DIR_IN_CONTAINER } from '../src/keys/key-files.js';
import type { SidecarBottle, SidecarQueue } from '../src/queue/sidecar-view.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { schemaVersionOf } from '../src/storage/migrations.js';
import { schemaChangedError } from '../src/notify/notifier.js';
import type { storeKinds } from '../src/kinds/store-kinds.js';

/** How long a starting sidecar keeps trying a broker that is not up yet before it refuses to start. */
const BROKER_START_WAIT_MS = 10_000;

/** Why the sidecar will not start, as one line saying what is wrong and how to fix it. */
function refusal(code: SuperviseErrorCode, message: string, cause?: unknown): SuperviseError {
  return new SuperviseError(code, message.replace(/\s*\n\s*/g, ' '), cause === undefined ? {} : { cause });
}

export interface OpenSidecarOptions {
  /** Only outside a container (tests, the demo); inside one the DB is always DB_PATH_IN_CONTAINER. */
  dbPath?: string;
  /** Only outside a container, like dbPath; inside one the bottle's keys are always mounted at KEYS_DIR_IN_CONTAINER. */
  keysDir?: string;
  watch?: boolean;
  /** The bottle's quota (the launcher's settings, from the environment); default DEFAULT_FLOOD_LIMITS. */
  flood?: FloodLimits;
}

/**
 * The bottle's store as the sidecar uses it, whichever way it reaches the database: `location` is
 * the database file (mount mode) or the broker's URL (broker mode).
 */
export interface SidecarStorage {
  location: string;
  slug: string;
  queue: SidecarQueue;
  bottle: SidecarBottle;
  isOpen(): boolean;
  /** Resolves (with the cause) if the database fails under this process, e.g. its schema rolled back. */
  failed: Promise<unknown>;
  close(): Promise<void>;
}

/** The store as `serve` opens it: its kinds (the payload formats) load when `loadKinds` is awaited, after the port listens. */
export interface ServingStorage extends SidecarStorage {
  loadKinds(): Promise<void>;
  /**
   * Why serving could not start, if the database changed schema since it was opened (a rollback
   * right after the ready line fails the warm-up with a bare "no such table" otherwise).
   */
  schemaChange(): Error | undefined;
}

export interface OpenSidecarStoreOptions extends OpenSidecarOptions {
  /** Broker mode: the host broker's URL (SUPERVISE_BROKER_URL); without it the database is mounted. */
  brokerUrl?: string;
  log?: (line: string) => void;
}

/**
 * Opens bottle `slug`'s store the way the launcher set the sidecar up: through the host broker
 * when `brokerUrl` is given (the database stays on the host, behind a VM boundary), otherwise
 * the mounted database (openMountedStorage). Every start-up refusal happens here. Mounted, the
 * kinds are left for `loadKinds`, unless `attachKinds` makes them now; the broker's client
 * carries its own.
 */
export async function openStorage(slug: string, options: OpenSidecarStoreOptions = {}, attachKinds?: typeof storeKinds): Promise<ServingStorage> {
  if (options.brokerUrl === undefined) {
    const mounted = openMountedStorage(slug, options, attachKinds);
    return {
      ...mounted,
      location: mounted.path,
      loadKinds: async () => {
        await mounted.queue.loadKinds();
      },
      schemaChange: () => schemaChangeOf(mounted.path),
    };
  }
  if (options.dbPath !== undefined) throw refusal('config', 'give either --db (mount mode) or SUPERVISE_BROKER_URL (broker mode), not both.');
  return openBrokerStorage(slug, options.brokerUrl, options.keysDir ?? KEYS_DIR_IN_CONTAINER, options.log ?? (() => {}));
}

async function openBrokerStorage(slug: string, url: string, keysDir: string, log: (line: string) => void): Promise<ServingStorage> {
  // The broker's client (and the kinds its queue validates with) loads only in broker mode.
  const { BrokerBottle, BrokerConnection, BrokerQueue } = await import('./broker-client.js');
  const material = readBottleKeyMaterial(keysDir);
  const connection = new BrokerConnection(url, slug, material.bottleKey);
  let hello: { slug: string; schemaVersion: number };
  try {
    hello = (await connection.retrying('hello', {}, Date.now() + BROKER_START_WAIT_MS)) as typeof hello;
  } catch (error) {
    if (isSuperviseError(error)) throw refusal(error.code, `broker mode: ${error.message}`, error);
    throw error;
  }
  if (hello.schemaVersion !== SCHEMA_VERSION) {
    throw refusal(
      'schema-mismatch',
      `the broker at ${url} serves database schema version ${hello.schemaVersion} but this sidecar was built for version ${SCHEMA_VERSION}. ${hello.schemaVersion > SCHEMA_VERSION ? 'Upgrade this sidecar image.' : 'Upgrade bot-bottle on the host and restart the broker.'}`,
    );
  }
  const queue = new BrokerQueue(connection, new BottleKeyring(slug, material), log);
  let open = true;
  return {
    location: url,
    slug,
    queue,
    bottle: new BrokerBottle(connection),
    isOpen: () => open,
    // A broker that fails is a broker that is unreachable: calls report it and retry; nothing here ends the sidecar.
    failed: new Promise<unknown>(() => {}),
    loadKinds: async () => {},
    // The broker owns the file; its schema was checked at the hello and every call reports its own refusal.
    schemaChange: () => undefined,
    close: async () => {
      open = false;
      queue.close();
    },
  };
}

/**
 * The sidecar's start-up checks, in the order that gives the most useful message: the file is
 * there, it is reached through a directory mount on a local filesystem, and its schema is the one
 * this build knows. Only then is the database opened, never created and never migrated: the host
 * owns the file and its schema. Every refusal is a `SuperviseError` of an environment code.
 *
 * What it returns is bottle `slug`'s views and nothing more: no store, audit log or connection
 * that could answer the operator's proposals or reach another bottle.
 */
export function openMountedStorage(slug: string, options: OpenSidecarOptions = {}, attachKinds?: typeof storeKinds): BottleDatabase {
  const file = options.dbPath ?? DB_PATH_IN_CONTAINER;
  requireDatabaseFile(file, options.dbPath !== undefined);
  try {
    assertDbMountSupported(file);
    return openSidecarDatabase(
      slug,
      {
        path: file,
        watch: options.watch ?? true,
        flood: options.flood ?? DEFAULT_FLOOD_LIMITS,
        ...(options.keysDir !== undefined ? { keysDir: options.keysDir } : {}),
      },
      attachKinds,
    );
  } catch (error) {
    const failure = environmentError(error, file) ?? error;
    if (isSuperviseError(failure)) throw refusal(failure.code, `refusing to open ${file}: ${failure.message}`, failure);
    throw failure;
  }
}

function schemaChangeOf(file: string): Error | undefined {
  let now: number;
  try {
    now = schemaVersionOf(file);
  } catch {
    return undefined;
  }
  return now === SCHEMA_VERSION ? undefined : schemaChangedError(file, SCHEMA_VERSION, now);
}

function requireDatabaseFile(file: string, explicit: boolean): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw refusal('mount', `cannot reach the database at ${file} (${code ?? String(error)}); check the mount and the --user the container runs as.`, error);
    throw refusal(
      'layout',
      explicit
        ? `no database at ${file}. Create it on the host first (any bot-bottle command does, e.g. bot-bottle db migrate --db ${file}).`
        : `no database at ${file}. Mount the host's shared directory there (--mount type=bind,src=$HOME/.bot-bottle/supervise,dst=${SHARED_DIR_IN_CONTAINER}; prepareSupervise(slug) gives the exact arguments) and let the host create the database first.`,
    );
  }
  if (!stat.isFile()) {
    throw refusal('mount', `${file} is not a regular file. Mount the host's shared directory at ${SHARED_DIR_IN_CONTAINER}, never the database file or another directory in its place.`);
  }
}
