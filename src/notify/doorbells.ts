import fs from 'node:fs';
import path from 'node:path';
import { isSlug } from '../core/validation.js';

/** Who a doorbell calls: every process that watches all bottles, or those that watch one bottle. */
export type Bell = { all: true } | { slug: string };

export const ALL_BOTTLES: Bell = { all: true };

/** What a bell file is called beside the database: `bot-bottle.db-bell` and `bot-bottle.db-bell.<slug>`. */
export const BELL_SUFFIX = '-bell';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY } = fs.constants;
// Making a bell to watch: read-only and non-blocking, so a FIFO in its place neither blocks nor is
// written; no follow, so a link in its place is not made into a file elsewhere.
const BELL_OPEN_FLAGS = O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK;
// Opening a bell to ring: never through a link, never waiting (a FIFO, a lease), never taking a terminal.
const BELL_RING_FLAGS = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
const BELL_MAKE_FLAGS = BELL_RING_FLAGS | O_CREAT | O_EXCL;
/** What a ring writes at offset 0: a bell is at most this one byte long. */
const RING = Buffer.from('!');
/**
 * How long a bell's descriptor is kept after it is opened. A ring is a one-byte write through it,
 * which a watcher's inotify watch reports as a change. Writing through a kept descriptor changes no
 * inode metadata the next commit's fsync must journal, where setting times (or a stat before each
 * write, on kernels with fine-grained timestamps) made every commit that followed a ring about 60 µs
 * slower (docs/BENCHMARKS.md §8). Reopening each second finds a bell a bottle replaced.
 */
export const BELL_KEPT_OPEN_MS = 1000;

/**
 * Announces commits to the processes waiting on them, one file per audience in the database's
 * directory (the shared directory every sidecar has mounted). A writer rings the bells of what
 * it committed after the commit is visible, so a watcher's one `data_version` check then finds
 * it: no WAL events to sift and no settle loop. A process watching one bottle's bell is not woken
 * by other bottles' commits. A bell is only a hint: a missed or forged ring costs latency (the
 * notifier's poll still delivers), never correctness.
 *
 * A ring writes into the shared directory, where a bottle may have put anything in a bell's place,
 * so it writes only into a bell: a plain file of at most one byte with no other name, opened
 * without following a link and checked to be the file that was looked at. The database, its side
 * files, a link to a file elsewhere, a FIFO or a device are never written.
 */
export class Doorbells {
  /** The all-bottles bell; a bottle's is this path, a dot and its slug. */
  readonly #allBottles: string;

  /** Each bell rung since the descriptors were last closed: its descriptor, or null if it is no bell to ring. */
  readonly #rung = new Map<string, number | null>();
  #closeTimer: NodeJS.Timeout | undefined;

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

  /** Closes the bells' descriptors, `BELL_KEPT_OPEN_MS` after the first was opened; the next ring opens afresh. */
  #closeAll(): void {
    clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    for (const fd of this.#rung.values()) if (fd !== null) closeQuietly(fd);
    this.#rung.clear();
  }

  #touch(file: string | undefined): void {
    if (file === undefined) return;
    let fd = this.#rung.get(file);
    if (fd === undefined) {
      fd = openBell(file);
      this.#rung.set(file, fd);
      this.#closeTimer ??= setTimeout(() => this.#closeAll(), BELL_KEPT_OPEN_MS).unref();
    }
    if (fd === null) return;
    try {
      fs.writeSync(fd, RING, 0, RING.length, 0);
    } catch {
      // A full disk or a vanished mount: the poll delivers; the next opening tries again.
      closeQuietly(fd);
      this.#rung.set(file, null);
    }
  }
}

/**
 * A descriptor to ring `file` through, made if missing; null when what is there is no bell. Looked
 * at before it is opened, so a device or FIFO put in its place is not even opened, and checked
 * after, so what is written is the file that was looked at.
 */
function openBell(file: string): number | null {
  let seen: fs.BigIntStats;
  try {
    seen = fs.lstatSync(file, { bigint: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return null;
    try {
      // O_EXCL: made here and now, so it is a new empty file whatever raced us to the name.
      return fs.openSync(file, BELL_MAKE_FLAGS, 0o600);
    } catch {
      return null;
    }
  }
  if (!isBell(seen)) return null;
  let fd: number;
  try {
    fd = fs.openSync(file, BELL_RING_FLAGS);
  } catch {
    return null;
  }
  try {
    const opened = fs.fstatSync(fd, { bigint: true });
    if (isBell(opened) && opened.dev === seen.dev && opened.ino === seen.ino) return fd;
  } catch {
    // Unreadable: treated as no bell.
  }
  closeQuietly(fd);
  return null;
}

/** A bell: a plain file with no other name (no hard link to the database or elsewhere), at most one byte long. */
function isBell(stat: fs.BigIntStats): boolean {
  return stat.isFile() && stat.nlink === 1n && stat.size <= BigInt(RING.length);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already closed or gone with its mount: nothing left to release.
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
