import type { Keyring } from '../keys/keyring.js';
import type { Db } from '../storage/connection.js';
import { KindRecords } from './kind-records.js';
import { KindRegistry } from './registry.js';

/** The kinds a store answers with, and the records it writes a launcher's kinds to (with a keyring only). */
export interface StoreKinds {
  registry: KindRegistry;
  records: KindRecords | undefined;
}

/**
 * What a queue store on `db` answers with: `kinds` (default: the built-ins) and, with a keyring,
 * every kind recorded in the database. This module loads the payload formats (zod, YAML, diff,
 * the JSON Schema compiler); a store imports it only when it first needs them (QueueStore.loadKinds),
 * or an opener that must hand out a ready store imports it and passes it as `attachKinds`.
 */
export function storeKinds(db: Db, keyring: Keyring | undefined, kinds: KindRegistry = KindRegistry.withBuiltins()): StoreKinds {
  const records = keyring ? new KindRecords(db, keyring) : undefined;
  return { registry: records ? kinds.backedBy(records) : kinds, records };
}
