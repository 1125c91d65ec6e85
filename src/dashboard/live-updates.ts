import { randomBytes } from 'node:crypto';
import type { ChangeNotifier, Notification } from '../notify/notifier.js';
import { EVENT_CHANGED, EVENT_PENDING } from './page/api-types.js';

/** One open event stream: how to send it an event (with the list version it carries), and how to end it. */
export interface LiveClient {
  send(event: string, data: string, id?: string): Promise<void>;
  end(): void;
}

/** Pages open one stream each; more than this from one operator is a leak or an attack, not a need. */
const MAX_LIVE_CLIENTS = 32;

/**
 * Fans the notifier's change batches out to every open page: one subscription for the whole
 * server, the pending list read once per batch (however many pages are open, and however many
 * events the batch holds), then the same text written to each stream. No poll: the notifier wakes
 * on the writers' doorbells.
 *
 * Every list carries a version: this process's random epoch and how many change batches it had
 * seen before the list was read. A page that already holds a list (it read `/api/pending` on
 * load, or got one over an earlier stream) joins with that version, and the list is sent again
 * only when a batch arrived since: the first load reads the list once, not once for the page and
 * again for its stream, and nothing committed in between is missed. A version from another
 * process (the dashboard restarted) never matches.
 */
export class LiveUpdates {
  readonly #clients = new Set<LiveClient>();
  readonly #snapshot: () => string;
  readonly #unsubscribe: () => void;
  readonly #epoch = randomBytes(6).toString('hex');
  #batches = 0;
  #scheduled = false;

  constructor(notifier: ChangeNotifier, snapshot: () => string) {
    this.#snapshot = snapshot;
    this.#unsubscribe = notifier.subscribe((events) => this.#changed(events));
  }

  /**
   * The version a list read now carries. Read it before the list: a batch arriving after the read
   * then makes the page's version old, and it is sent the list again.
   */
  version(): string {
    return `${this.#epoch}.${this.#batches}`;
  }

  /**
   * Adds a page. Unless it holds the list of the current version (`have`), it gets the current
   * list at once, so nothing committed before it joined is missed. Undefined when full.
   */
  join(client: LiveClient, have?: string): (() => void) | undefined {
    if (this.#clients.size >= MAX_LIVE_CLIENTS) return undefined;
    this.#clients.add(client);
    if (have !== this.version()) {
      const version = this.version();
      void client.send(EVENT_PENDING, this.#snapshot(), version).catch(() => this.#drop(client));
    }
    return () => this.#clients.delete(client);
  }

  close(): void {
    this.#unsubscribe();
    for (const client of [...this.#clients]) this.#drop(client);
  }

  #drop(client: LiveClient): void {
    this.#clients.delete(client);
    client.end();
  }

  #changed(_events: Notification[]): void {
    // Counted even with no page open: a list read before this batch must not pass as current.
    this.#batches += 1;
    if (this.#scheduled || this.#clients.size === 0) return;
    this.#scheduled = true;
    // Batches delivered in the same turn (a poke and a ring) are read once.
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#clients.size === 0) return;
      const version = this.version();
      const pending = this.#snapshot();
      for (const client of [...this.#clients]) {
        void client.send(EVENT_PENDING, pending, version).catch(() => this.#drop(client));
        void client.send(EVENT_CHANGED, '{}').catch(() => this.#drop(client));
      }
    });
  }
}
