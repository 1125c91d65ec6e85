import fs from 'node:fs';
import { SuperviseError } from '../core/errors.js';
import { isBusyError, type Db } from '../storage/connection.js';
import { environmentError } from '../storage/environment-errors.js';
import { ALL_BOTTLES, Doorbells, type Bell } from './doorbells.js';
import { latestEventId, oldestEventId, readEventsAfter, type ChangeEvent } from './events.js';

export type Notification = ChangeEvent | { type: 'resync' };
export type ChangeListener = (events: Notification[]) => void;

export interface NotifierOptions {
  /** The database file the connection has open; its doorbells sit beside it. */
  dbFile: string;
  /** Watch the doorbells the writers ring. Off, the poll alone delivers (slower, still correct). */
  watch?: boolean;
  /** Poll interval while an urgent subscriber (a waiter) exists. */
  urgentPollMs?: number;
  /** Poll interval while only non-urgent subscribers exist. */
  idlePollMs?: number;
}

export interface SubscribeOptions {
  /** Urgent subscribers (waiters) get the fast poll; others the idle one. */
  urgent?: boolean;
  /** Called once when the notifier closes with this subscription still open, before the connection closes. */
  onClose?: () => void;
  /**
   * Only this bottle's events: the process then watches that bottle's doorbell alone and reads
   * its events alone, so other bottles' commits cost it nothing. Default: every bottle's.
   */
  slug?: string;
}

interface Subscription {
  listener: ChangeListener;
  urgent: boolean;
  onClose: (() => void) | undefined;
  slug: string | undefined;
}

const EVENT_BATCH = 1000;

/**
 * Tells this process's subscribers what other processes committed. One per process and
 * connection. Writers ring doorbells after their commits (see doorbells.ts); on a ring, and on a
 * slow fallback poll, one `PRAGMA data_version` check (microseconds) says whether another
 * connection committed, and only then are the subscribers' events read, filtered to their bottles
 * on an index. `data_version` moves only for other connections' commits, so our own never wake
 * us; the stores `poke()` us instead so in-process waiters still see them.
 */
export class ChangeNotifier {
  readonly #db: Db;
  readonly #options: Required<Omit<NotifierOptions, 'dbFile' | 'watch'>>;
  readonly #dbFile: string;
  readonly #doorbells: Doorbells | undefined;
  /** Each bell file's watcher (undefined if it could not start: the poll delivers then). */
  readonly #watchers = new Map<string, fs.FSWatcher | undefined>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #dataVersion: () => number;
  readonly #userVersion: () => number;
  /** The schema version this process opened the database at; another one under it is a failure. */
  readonly #openedAtVersion: number;
  #lastDataVersion: number;
  #cursor: number;
  #pollTimer: NodeJS.Timeout | undefined;
  #pollDueAt = 0;
  #pokeScheduled = false;
  #closed = false;
  #failure: unknown;
  readonly #failed: Promise<unknown>;
  #reportFailure: (error: unknown) => void = () => undefined;

  constructor(db: Db, options: NotifierOptions) {
    this.#db = db;
    this.#dbFile = options.dbFile;
    const watchFiles = options.watch ?? true;
    // With the doorbells, the poll only covers a ring that never came (a bell swapped by a
    // bottle, a filesystem without events), so it can be slow and cheap: once a second, the same
    // for waiters as for views (at 500 ms, 32 idle waiters used about 1.6× the CPU).
    this.#options = {
      urgentPollMs: options.urgentPollMs ?? (watchFiles ? 1000 : 10),
      idlePollMs: options.idlePollMs ?? 1000,
    };
    this.#doorbells = watchFiles ? new Doorbells(options.dbFile) : undefined;
    const statement = db.prepare('PRAGMA data_version').pluck();
    this.#dataVersion = () => statement.get() as number;
    const userVersion = db.prepare('PRAGMA user_version').pluck();
    this.#userVersion = () => userVersion.get() as number;
    this.#openedAtVersion = this.#userVersion();
    this.#lastDataVersion = this.#dataVersion();
    this.#cursor = latestEventId(db);
    this.#failed = new Promise((resolve) => (this.#reportFailure = resolve));
  }

  /**
   * Resolves, with the error, if reading changes fails for good: the schema was rolled back or the
   * file damaged under this process. The notifier has stopped by then; a long-running process
   * (the sidecar, the TUI) ends on it with the error's message instead of crashing in a timer.
   */
  get failed(): Promise<unknown> {
    return this.#failed;
  }

  subscribe(listener: ChangeListener, options: SubscribeOptions = {}): () => void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new Error('the change notifier is closed');
    if (this.#subscriptions.size === 0) {
      // Nobody listened, so nobody needs what happened before now.
      this.#cursor = latestEventId(this.#db);
      this.#lastDataVersion = this.#dataVersion();
    }
    const subscription: Subscription = { listener, urgent: options.urgent ?? false, onClose: options.onClose, slug: options.slug };
    this.#subscriptions.add(subscription);
    this.#watchBell(options.slug === undefined ? ALL_BOTTLES : { slug: options.slug });
    this.#schedulePoll();
    return () => {
      this.#subscriptions.delete(subscription);
      this.#schedulePoll();
    };
  }

  /** Called by the stores after their own commits: deliver them without waiting for any signal. */
  poke(): void {
    if (this.#pokeScheduled || this.#closed || this.#subscriptions.size === 0) return;
    this.#pokeScheduled = true;
    queueMicrotask(() => {
      this.#pokeScheduled = false;
      this.#guarded(() => this.#drain());
    });
  }

  get subscriberCount(): number {
    return this.#subscriptions.size;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const open = [...this.#subscriptions];
    this.#subscriptions.clear();
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    const watchers = [...this.#watchers.values()];
    this.#watchers.clear();
    try {
      for (const subscription of open) subscription.onClose?.();
    } finally {
      for (const watcher of watchers) watcher?.close();
    }
  }

  /**
   * Watches the bell the subscription needs, kept until close: waits come and go faster than a
   * watcher starts. The bell file itself is watched (one inotify watch on its inode), never its
   * directory: that is the shared directory every commit writes its WAL into, and a directory
   * watch would wake every waiting process on every commit of every bottle. (chokidar 4 and later
   * watch a file through its directory, which is why this is Node's own `fs.watch`.)
   */
  #watchBell(bell: Bell): void {
    // Every wait subscribes: the common case, a bell already watched, costs no system call.
    const file = this.#doorbells?.fileOf(bell);
    if (file === undefined || this.#watchers.has(file)) return;
    this.#watchFile(file, this.#doorbells?.prepare(file) ?? false);
    // A ring between subscribing and the watch being in place is found by this check.
    setImmediate(() => this.#onRing());
  }

  /** Watches `file` if it is a plain file (`usable`); otherwise leaves it to the poll, which looks again. */
  #watchFile(file: string, usable: boolean): void {
    let watcher: fs.FSWatcher | undefined;
    try {
      watcher = usable && !this.#closed ? fs.watch(file) : undefined;
    } catch {
      // The poll keeps delivering; a bell that cannot be watched costs latency, not correctness.
      watcher = undefined;
    }
    this.#watchers.set(file, watcher);
    if (watcher === undefined) return;
    const current = watcher;
    current.on('change', (type) => {
      // Replaced or removed (by a bottle, or a clean-up): the watch would stay on the old file.
      if (type === 'rename') this.#unwatch(file, current);
      this.#onRing();
    });
    current.on('error', () => this.#unwatch(file, current));
  }

  #unwatch(file: string, watcher: fs.FSWatcher): void {
    watcher.close();
    if (this.#watchers.get(file) !== watcher) return;
    this.#watchers.set(file, undefined);
    // A bell put back in its place is watched again at once; a missing one is never made again
    // here (a watcher must not write into a directory being removed), the poll looks for it.
    setImmediate(() => this.#rewatchMissing());
  }

  /** Watches again each bell that was gone or unusable, if it is a plain file now. */
  #rewatchMissing(): void {
    if (this.#closed) return;
    for (const [file, watcher] of this.#watchers) {
      if (watcher === undefined) this.#watchFile(file, this.#doorbells?.isPlainFile(file) ?? false);
    }
  }

  /** The ring comes after the commit, so one check finds it: nothing to spin on. */
  #onRing(): void {
    if (this.#closed || this.#subscriptions.size === 0) return;
    this.#guarded(() => this.#checkDataVersion());
  }

  #schedulePoll(): void {
    if (this.#closed || this.#subscriptions.size === 0) {
      clearTimeout(this.#pollTimer);
      this.#pollTimer = undefined;
      return;
    }
    const urgent = [...this.#subscriptions].some((s) => s.urgent);
    const intervalMs = urgent ? this.#options.urgentPollMs : this.#options.idlePollMs;
    const dueAt = performance.now() + intervalMs;
    // Keep a timer that fires soon enough: re-arming it on every subscribe would starve the poll
    // while waiters come and go faster than it fires.
    if (this.#pollTimer && this.#pollDueAt <= dueAt) return;
    clearTimeout(this.#pollTimer);
    this.#pollDueAt = dueAt;
    this.#pollTimer = setTimeout(() => {
      this.#pollTimer = undefined;
      this.#rewatchMissing();
      this.#guarded(() => this.#checkDataVersion());
      this.#schedulePoll();
    }, intervalMs);
    this.#pollTimer.unref();
  }

  /**
   * Runs a check from a timer or a file event, where nobody could catch what it throws. A busy
   * database is tried again on the next poll; anything else stops the notifier and is reported
   * through `failed`.
   */
  #guarded(check: () => boolean | void): boolean {
    try {
      return check() === true;
    } catch (error) {
      if (isBusyError(error)) return false;
      this.#failure = environmentError(error, this.#dbFile) ?? error;
      this.#reportFailure(this.#failure);
      // Waiters end as they do on close; what they then read fails the same way, to their callers.
      this.close().catch(() => undefined);
      return true;
    }
  }

  /** Returns true when another connection committed since the last check (and delivers it). */
  #checkDataVersion(): boolean {
    const version = this.#dataVersion();
    if (version === this.#lastDataVersion) return false;
    this.#lastDataVersion = version;
    this.#requireSameSchema();
    this.#drain();
    return true;
  }

  /**
   * A rollback (or a newer build's migration) under a running process leaves it reading tables
   * that are gone or changed; that is a failure to stop on, not to meet later as "no such table".
   */
  #requireSameSchema(): void {
    const now = this.#userVersion();
    if (now === this.#openedAtVersion) return;
    throw schemaChangedError(this.#dbFile, this.#openedAtVersion, now);
  }

  /** Every bottle's events if any subscriber wants them all, else only the subscribers' bottles'. */
  #wantedSlugs(): string[] | undefined {
    const slugs = new Set<string>();
    for (const subscription of this.#subscriptions) {
      if (subscription.slug === undefined) return undefined;
      slugs.add(subscription.slug);
    }
    return [...slugs];
  }

  #drain(): void {
    if (this.#closed || this.#subscriptions.size === 0) return;
    const slugs = this.#wantedSlugs();
    const through = latestEventId(this.#db);
    // Pruning removed events after our cursor: what they said must be read from the tables.
    const pruned = this.#cursor > 0 && (oldestEventId(this.#db) ?? 0) > this.#cursor + 1;
    for (let resync = pruned; ; resync = false) {
      const events = readEventsAfter(this.#db, this.#cursor, through, EVENT_BATCH, slugs);
      const full = events.length === EVENT_BATCH;
      this.#cursor = full ? (events.at(-1) as ChangeEvent).id : Math.max(this.#cursor, through);
      const notifications: Notification[] = resync ? [{ type: 'resync' }, ...events] : events;
      if (notifications.length > 0) for (const subscription of [...this.#subscriptions]) deliver(subscription, notifications);
      if (!full || this.#closed) return;
    }
  }
}

/**
 * One listener's exception must not cost the others their batch or stop the poll, and must not
 * vanish either: it is rethrown on its own turn of the event loop, where the process sees it.
 */
function deliver(subscription: Subscription, notifications: Notification[]): void {
  try {
    subscription.listener(notifications);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** What a process says when the schema it opened `dbFile` at is gone from under it. */
export function schemaChangedError(dbFile: string, openedAt: number, now: number): SuperviseError {
  return new SuperviseError(
    'schema-mismatch',
    `${dbFile} changed schema under this process (version ${openedAt}, now ${now}): it was rolled back, or migrated by another bot-bottle build. Run \`bot-bottle db migrate\` on the host with the build this runs, then start this again.`,
  );
}
