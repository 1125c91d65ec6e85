import type { Db } from './connection.js';

/** For readers that may meet a database older than this build (inspection, a dry run): a missing table holds no rows. */
export function tableExists(db: Db, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
}

/** The columns `table` has (none if it is missing): for the same readers, where a column came with a later migration. */
export function columnsOf(db: Db, table: string): Set<string> {
  return new Set((db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]));
}
