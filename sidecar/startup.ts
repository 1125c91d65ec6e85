import fs from 'node:fs';
import { openSidecarDatabase, type BottleDatabase } from '../src/database.js';
import { SuperviseError, isSuperviseError, type SuperviseErrorCode } from '../src/core/errors.js';
import { environmentError } from '../src/storage/environment-errors.js';
import { assertDbMountSupported } from '../src/storage/mount-guard.js';
import { DB_PATH_IN_CONTAINER, SHARED_DIR_IN_CONTAINER } from '../src/storage/layout.js';
import { DEFAULT_FLOOD_LIMITS, type FloodLimits } from '../src/queue/flood-control.js';

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
 * The sidecar's start-up checks, in the order that gives the most useful message: the file is
 * there, it is reached through a directory mount on a local filesystem, and its schema is the one
 * this build knows. Only then is the database opened, never created and never migrated: the host
 * owns the file and its schema. Every refusal is a `SuperviseError` of an environment code.
 *
 * What it returns is bottle `slug`'s views and nothing more: no store, audit log or connection
 * that could answer the operator's proposals or reach another bottle.
 */
export function openSidecarStorage(slug: string, options: OpenSidecarOptions = {}): BottleDatabase {
  const file = options.dbPath ?? DB_PATH_IN_CONTAINER;
  requireDatabaseFile(file, options.dbPath !== undefined);
  try {
    assertDbMountSupported(file);
    return openSidecarDatabase(slug, {
      path: file,
      watch: options.watch ?? true,
      flood: options.flood ?? DEFAULT_FLOOD_LIMITS,
      ...(options.keysDir !== undefined ? { keysDir: options.keysDir } : {}),
    });
  } catch (error) {
    const failure = environmentError(error, file) ?? error;
    if (isSuperviseError(failure)) throw refusal(failure.code, `refusing to open ${file}: ${failure.message}`, failure);
    throw failure;
  }
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
