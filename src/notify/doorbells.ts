import fs from 'node:fs';
import path from 'node:path';
import { isSlug } from '../core/validation.js';

/** Who a doorbell calls: every process that watches all bottles, or those that watch one bottle. */
export type Bell = { all: true } | { slug: string };

export const ALL_BOTTLES: Bell = { all: true };

/** What a bell file is called beside the database: `bot-bottle.db-bell` and `bot-bottle.db-bell.<slug>`. */
export const BELL_SUFFIX = '-bell';

const { O_RDONLY, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
// Making a bell: read-only and non-blocking, so a FIFO in its place neither blocks nor is written;
// no follow, so a link in its place is not made into a file elsewhere. A ring only sets times, so
// even a hard link to another file (the database itself) loses nothing.
const BELL_OPEN_FLAGS = O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK;

/**
 * Announces commits to the processes waiting on them, one file per audience in the database's
 * directory (the shared directory every sidecar has mounted). A writer touches the bells of what
 * it committed after the commit is visible, so a watcher's one `data_version` check then finds
 * it: no WAL events to sift and no settle loop. A process watching one bottle's bell is not woken
 * by other bottles' commits. A bell is only a hint: a missed or forged ring costs latency (the
 * notifier's poll still delivers), never correctness.
 */
export class Doorbells {
  /** The all-bottles bell; a bottle's is this path, a dot and its slug. */
  readonly #allBottles: string;

  /** `dbFile` as the connection opened it; SQLite resolves links, so the bells go where it did. */
  constructor(dbFile: string) {
    const resolved = fs.realpathSync(dbFile);
    this.#allBottles = path.join(path.dirname(resolved), `${path.basename(resolved)}${BELL_SUFFIX}`);
  }

  /** The file `bell` is rung on; `undefined` for a slug no bottle can have (a forged event row's). */
  fileOf(bell: Bell): string | undefined {
    if ('all' in bell) return this.#allBottles;
    return isSlug(bell.slug) ? `${this.#allBottles}.${bell.slug}` : undefined;
  }

  /** After a commit: rings the all-bottles bell and each named bottle's. */
  ring(slugs: Iterable<string>): void {
    this.#touch(this.#allBottles);
    for (const slug of slugs) this.#touch(this.fileOf({ slug }));
  }

  /** Makes `file` (a bell's, from `fileOf`) if missing, so it can be watched; false when it cannot be used. */
  prepare(file: string): boolean {
    return create(file) && this.isPlainFile(file);
  }

  /** Whether `file` is there as a plain file (not a link, FIFO or directory put in a bell's place). */
  isPlainFile(file: string): boolean {
    try {
      return fs.lstatSync(file).isFile();
    } catch {
      return false;
    }
  }

  #touch(file: string | undefined): void {
    if (file === undefined) return;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const now = new Date();
      try {
        // One call that never follows a link: a link in the bell's place only has its own times set.
        fs.lutimesSync(file, now, now);
        return;
      } catch (error) {
        // The first ring makes the bell. Anything else (not ours, a full disk) leaves it to the poll.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !create(file)) return;
      }
    }
  }
}

/** Creates `file` if missing without following a link in its place; false if it cannot be made or opened. */
function create(file: string): boolean {
  try {
    fs.closeSync(fs.openSync(file, BELL_OPEN_FLAGS, 0o600));
    return true;
  } catch {
    return false;
  }
}
