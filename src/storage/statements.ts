import type Database from 'better-sqlite3';
import type { Db } from './connection.js';

type Statement = Database.Statement<unknown[], unknown>;

const caches = new WeakMap<Db, Map<string, Statement>>();

/**
 * The prepared statement for `sql` on this connection, prepared once. Preparing costs about as
 * much as a small query, and the write paths run several per transaction while holding the lock.
 * Only for get/all/run: a statement being iterated is busy, so iterate() callers prepare their own.
 */
export function cachedStatement(db: Db, sql: string, options: { pluck?: boolean } = {}): Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  const key = options.pluck ? `pluck:${sql}` : sql;
  let statement = cache.get(key);
  if (!statement) {
    statement = db.prepare(sql);
    if (options.pluck) statement.pluck();
    cache.set(key, statement);
  }
  return statement;
}
