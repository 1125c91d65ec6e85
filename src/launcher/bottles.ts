import { openHostDatabase, type SuperviseDatabase } from '../database.js';
import type { BottleRegistration } from '../bottles/bottle-store.js';

export interface BottleRecordOptions {
  /** A database this process already has open; otherwise the host database is opened and closed. */
  database?: SuperviseDatabase;
}

async function withDatabase<T>(options: BottleRecordOptions, run: (database: SuperviseDatabase) => Promise<T>): Promise<T> {
  const database = options.database ?? (await openHostDatabase({ watch: false }));
  try {
    return await run(database);
  } finally {
    if (!options.database) await database.close();
  }
}

/**
 * Records that the launcher started bottle `slug` (its backend and image), signed with the host's
 * key and audited. Call it when the bottle starts, again on a restart. What the sidecar's heartbeat
 * writes never changes it, and `bot-bottle bottles` shows a registration the host did not sign as forged.
 */
export function registerBottle(slug: string, registration: BottleRegistration & BottleRecordOptions): Promise<void> {
  const { database, ...fields } = registration;
  return withDatabase(database === undefined ? {} : { database }, (db) => db.bottles.register(slug, fields));
}

/** Records that the launcher stopped bottle `slug`: it shows as gone whatever its sidecar still claims. False when it already was retired. */
export function retireBottle(slug: string, options: BottleRecordOptions = {}): Promise<boolean> {
  return withDatabase(options, (db) => db.bottles.retire(slug));
}
