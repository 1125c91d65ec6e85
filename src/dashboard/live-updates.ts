import type { ChangeNotifier, Notification } from '../notify/notifier.js';
import { EVENT_CHANGED, EVENT_PENDING } from './page/api-types.js';

/** One open event stream: how to send it an event, and how to end it. */
export interface LiveClient {
  send(event: string, data: string): Promise<void>;
  end(): void;
}

/** Pages open one stream each; more than this from one operator is a leak or an attack, not a need. */
const MAX_LIVE_CLIENTS = 32;

/**
 * Fans the notifier's change batches out to every open page: one subscription for the whole
 * server, the pending list read once per batch (however many pages are open, and however many
 * events the batch holds), then the same text written to each stream. No poll: the notifier wakes
 * on the writers' doorbells.
 */
export class LiveUpdates {
  readonly #clients = new Set<LiveClient>();
  readonly #snapshot: () => string;
  readonly #unsubscribe: () => void;
  #scheduled = false;

  constructor(notifier: ChangeNotifier, snapshot: () => string) {
    this.#snapshot = snapshot;
    this.#unsubscribe = notifier.subscribe((events) => this.#changed(events));
  }

  /** Adds a page; it gets the current list at once, so nothing committed before it joined is missed. Undefined when full. */
  join(client: LiveClient): (() => void) | undefined {
    if (this.#clients.size >= MAX_LIVE_CLIENTS) return undefined;
    this.#clients.add(client);
    void client.send(EVENT_PENDING, this.#snapshot()).catch(() => this.#drop(client));
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
    if (this.#scheduled || this.#clients.size === 0) return;
    this.#scheduled = true;
    // Batches delivered in the same turn (a poke and a ring) are read once.
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#clients.size === 0) return;
      const pending = this.#snapshot();
      for (const client of [...this.#clients]) {
        void client.send(EVENT_PENDING, pending).catch(() => this.#drop(client));
        void client.send(EVENT_CHANGED, '{}').catch(() => this.#drop(client));
      }
    });
  }
}
