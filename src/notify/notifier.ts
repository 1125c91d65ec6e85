import fs from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { SuperviseError } from '../core/errors.js';
import { isBusyError, type Db } from '../storage/connection.js';
import { environmentError } from '../storage/environment-errors.js';
import { latestEventId, readEventsAfter, type ChangeEvent } from './events.js';

export type Notification = ChangeEvent | { type: 'resync' };
export type ChangeListener = (events: Notification[]) => void;

export interface NotifierOptions {
  /** The database file the connection has open; its directory is watched. */
  dbFile: string;
  /** Watch the directory for file events. Off, the poll alone delivers (slower, still correct). */
  watch?: boolean;
  /** Poll interval while an urgent subscriber (a waiter) exists. */
  urgentPollMs?: number;
  /** Poll interval while only non-urgent subscribers exist. */
  idlePollMs?: number;
  /** How long to keep re-checking after a file event for the commit to become visible. */
  settleWindowMs?: number;
}

export interface SubscribeOptions {
  /** Urgent subscribers (waiters) get the fast poll; others the idle one. */
  urgent?: boolean;
  /** Called once when the notifier closes with this subscription still open, before the connection closes. */
  onClose?: () => void;
}

interface Subscription {
  listener: ChangeListener;
  urgent: boolean;
  onClose: (() => void) | undefined;
}

const EVENT_BATCH = 1000;
const SPIN_MS = 2;

/**
 * Tells this process's subscribers what other processes committed. One per
 * process and connection: `PRAGMA data_version` on the connection the stores write with changes
 * only for other connections' commits, so our own commits never wake us; the stores `poke()`
 * us instead so in-process waiters still see them.
 */
export class ChangeNotifier {
  readonly #db: Db;
  readonly #options: Required<Omit<NotifierOptions, 'dbFile'>>;
  readonly #dbFile: string;
  readonly #subscriptions = new Set<Subscription>();
  readonly #dataVersion: () => number;
  readonly #userVersion: () => number;
  /** The schema version this process opened the database at; another one under it is a failure. */
  readonly #openedAtVersion: number;
  #lastDataVersion: number;
  #cursor: number;
  #watcher: FSWatcher | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #pollDueAt = 0;
  #settling = false;
  #eventDuringSettle = false;
  #pokeScheduled = false;
  #closed = false;
  #failure: unknown;
  readonly #failed: Promise<unknown>;
  #reportFailure: (error: unknown) => void = () => undefined;

  constructor(db: Db, options: NotifierOptions) {
    this.#db = db;
    this.#dbFile = options.dbFile;
    const watchFiles = options.watch ?? true;
    this.#options = {
      watch: watchFiles,
      urgentPollMs: options.urgentPollMs ?? (watchFiles ? 100 : 10),
      idlePollMs: options.idlePollMs ?? 1000,
      settleWindowMs: options.settleWindowMs ?? 20,
    };
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
    const subscription: Subscription = { listener, urgent: options.urgent ?? false, onClose: options.onClose };
    this.#subscriptions.add(subscription);
    this.#startWatching();
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
    const watcher = this.#watcher;
    this.#watcher = undefined;
    try {
      for (const subscription of open) subscription.onClose?.();
    } finally {
      await watcher?.close();
    }
  }

  #startWatching(): void {
    if (!this.#options.watch || this.#watcher) return;
    // SQLite creates its side files next to the resolved file, so watch where the link points.
    const resolved = fs.realpathSync(this.#dbFile);
    const directory = path.dirname(resolved);
    const prefix = path.basename(resolved);
    // Only the directory itself: its watch reports every write to the files in it. Watching the
    // files as well doubled the events and, alternating between two watches, defeated the
    // kernel's merging of repeated ones: about 50 events per commit instead of one or two.
    this.#watcher = watch(directory, {
      depth: 0,
      ignoreInitial: true,
      ignored: (candidate: string) => candidate !== directory,
    });
    // Raw events, not 'change': chokidar drops a file's change events for 50 ms after each one it
    // emits, so a commit that follows another within 50 ms would wait for the poll. Raw events are
    // unthrottled; the directory watcher reports every file, hence the prefix filter.
    this.#watcher.on('raw', (_event, changed: string | null) => {
      if (!changed || path.basename(changed).startsWith(prefix)) this.#onFileEvent();
    });
    this.#watcher.on('error', () => {
      // The poll keeps delivering; a broken watcher costs latency, not correctness.
    });
  }

  #onFileEvent(): void {
    if (this.#closed || this.#subscriptions.size === 0) return;
    if (this.#settling) {
      this.#eventDuringSettle = true;
      return;
    }
    this.#settle();
  }

  /**
   * A file event fires on the WAL write, before the commit is visible (fsync comes after), so
   * keep checking until data_version moves or the window closes; re-run once if more events came.
   */
  #settle(): void {
    this.#settling = true;
    this.#eventDuringSettle = false;
    const started = performance.now();
    const step = (): void => {
      if (this.#closed) return;
      if (this.#guarded(() => this.#checkDataVersion())) return this.#endSettle();
      const elapsed = performance.now() - started;
      if (elapsed >= this.#options.settleWindowMs) return this.#endSettle();
      if (elapsed < SPIN_MS) setImmediate(step);
      else setTimeout(step, 1).unref();
    };
    step();
  }

  #endSettle(): void {
    this.#settling = false;
    if (this.#eventDuringSettle) this.#settle();
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
    throw new SuperviseError(
      'schema-mismatch',
      `${this.#dbFile} changed schema under this process (version ${this.#openedAtVersion}, now ${now}): it was rolled back, or migrated by another bot-bottle build. Run \`bot-bottle db migrate\` on the host with the build this runs, then start this again.`,
    );
  }

  #drain(): void {
    if (this.#closed) return;
    for (;;) {
      const events = readEventsAfter(this.#db, this.#cursor, EVENT_BATCH);
      if (events.length === 0) return;
      const first = events[0] as ChangeEvent;
      const notifications: Notification[] = first.id > this.#cursor + 1 && this.#cursor > 0 ? [{ type: 'resync' }, ...events] : events;
      this.#cursor = (events.at(-1) as ChangeEvent).id;
      for (const subscription of [...this.#subscriptions]) deliver(subscription, notifications);
      if (events.length < EVENT_BATCH) return;
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
