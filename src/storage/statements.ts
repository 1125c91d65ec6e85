import type Database from 'better-sqlite3';
import type { Db } from './connection.js';

type Statement = Database.Statement<unknown[], unknown>;

const caches = new WeakMap<Db, Map<string, Statement>>();

/**
 * The prepared statement for `sql` on this connection, prepared once. Preparing costs about as
 * much as a small query, and the write paths run several per transaction while holding the lock.
 * Only for get/all/run: a statement being iterated is busy, so iterate() callers prepare their own.
 *
 * Prepared once is not enough on its own: SQLite plans some statements on the values bound to them
 * (a `LIMIT ?`, or `col = ?` on an index that also gives the `ORDER BY`) and marks such a statement
 * to be prepared again whenever those values change, and better-sqlite3 clears the bindings after
 * every run, so it is parsed and planned anew each time (about 11 µs, and a new row builder). Write
 * those values as `+?`: the plan is the same (the index is still used), and nothing is planned on
 * the value. `tests/statement-plans.test.ts` holds the hot statements to it.
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
