import fs from 'node:fs';
import { openSidecarDatabase, type SuperviseDatabase } from '../src/database.js';
import { isSuperviseError } from '../src/core/errors.js';
import { MountGuardError, assertDbMountSupported } from '../src/storage/mount-guard.js';
import { DB_PATH_IN_CONTAINER, SHARED_DIR_IN_CONTAINER } from '../src/storage/layout.js';

/** Why the sidecar will not start; the message is one line saying what is wrong and how to fix it. */
export class StartupRefusal extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'StartupRefusal';
  }
}

export interface OpenSidecarOptions {
  /** Only outside a container (tests, the demo); inside one the DB is always DB_PATH_IN_CONTAINER. */
  dbPath?: string;
  watch?: boolean;
}

/**
 * The checks of DESIGN §5.1, in the order that gives the most useful message: the file is there,
 * it is reached through a directory mount on a local filesystem, and its schema is the one this
 * build knows. Only then is the database opened (never created, never migrated).
 */
export function openSidecarStorage(options: OpenSidecarOptions = {}): SuperviseDatabase {
  const file = options.dbPath ?? DB_PATH_IN_CONTAINER;
  requireDatabaseFile(file, options.dbPath !== undefined);
  try {
    assertDbMountSupported(file);
  } catch (error) {
    if (error instanceof MountGuardError) throw new StartupRefusal(`refusing to open ${file}: ${error.message}`);
    throw error;
  }
  try {
    return openSidecarDatabase({ path: file, watch: options.watch ?? true });
  } catch (error) {
    if (isSuperviseError(error)) throw new StartupRefusal(`refusing to open ${file}: ${error.message}`);
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) {
      throw new StartupRefusal(
        `cannot open the database at ${file} (${code}: ${(error as Error).message}). Run the sidecar as the host user that owns it (--user "$(id -u):$(id -g)") with the shared directory mounted read-write.`,
      );
    }
    throw error;
  }
}

function requireDatabaseFile(file: string, explicit: boolean): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new StartupRefusal(`cannot reach the database at ${file} (${code ?? String(error)}); check the mount and the --user the container runs as.`);
    throw new StartupRefusal(
      explicit
        ? `no database at ${file}. Create it on the host first (any bot-bottle command does, e.g. bot-bottle db migrate --db ${file}).`
        : `no database at ${file}. Mount the host's shared directory there (--mount type=bind,src=$HOME/.bot-bottle/supervise,dst=${SHARED_DIR_IN_CONTAINER}; prepareSupervise(slug) gives the exact arguments) and let the host create the database first.`,
    );
  }
  if (!stat.isFile()) {
    throw new StartupRefusal(`${file} is not a regular file. Mount the host's shared directory at ${SHARED_DIR_IN_CONTAINER}, never the database file or another directory in its place.`);
  }
}
