import { BottleStore, type BottleSelf } from '../bottles/bottle-store.js';
import { BottleKeyring } from '../keys/keyring.js';
import { readBottleKey } from '../keys/key-files.js';
import type { BottleQueue } from '../queue/bottle-queue.js';
import type { FloodLimits } from '../queue/flood-control.js';
import { storeKinds } from '../kinds/store-kinds.js';
import { QueueStore } from '../queue/queue-store.js';
import type { SuperviseDatabase } from '../database.js';
import { brokerRequestKey } from './protocol.js';

/** What the broker does for one bottle: exactly what that bottle's sidecar could do on a mount. */
export interface BrokeredBottle {
  slug: string;
  requestKey: Buffer;
  /** A store sealed with the bottle's key and held to its limits, so it refuses what a bottle may not do. */
  queue: BottleQueue;
  self: BottleSelf;
}

/**
 * The broker's bottles, made on first use from the host's copy of each bottle key. A bottle that
 * was never prepared has no key and no view. Views share the broker's one connection and notifier.
 */
export class BrokeredBottles {
  readonly #database: SuperviseDatabase;
  readonly #keysDir: string | undefined;
  readonly #flood: FloodLimits;
  readonly #known = new Map<string, BrokeredBottle>();

  constructor(database: SuperviseDatabase, flood: FloodLimits, keysDir: string | undefined) {
    this.#database = database;
    this.#flood = flood;
    this.#keysDir = keysDir;
  }

  /** Bottle `slug` (already a valid slug), or undefined when the host has no key for it. */
  get(slug: string): BrokeredBottle | undefined {
    const known = this.#known.get(slug);
    if (known) return known;
    const bottleKey = this.#keysDir === undefined ? readBottleKey(slug) : readBottleKey(slug, this.#keysDir);
    if (bottleKey === undefined) return undefined;
    const { db, notifier, keyring } = this.#database;
    // The bottle's own keyring: the broker seals what it writes for the bottle (proposals, answers,
    // heartbeats) exactly as the bottle's sidecar would on a mount.
    const bottleKeyring = new BottleKeyring(slug, { bottleKey, hostPublicKey: keyring.publicKey });
    const store = new QueueStore(db, { notifier, keyring: bottleKeyring, kinds: this.#database.queue.kinds, attachKinds: storeKinds, flood: this.#flood });
    const self = new BottleStore(db, { keyring: bottleKeyring }).forSlug(slug);
    const bottle: BrokeredBottle = { slug, requestKey: brokerRequestKey(bottleKey), queue: store.forSlug(slug), self };
    this.#known.set(slug, bottle);
    return bottle;
  }
}
