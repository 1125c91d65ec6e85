/**
 * SQL tests of a row's values by size. A bottle writes the shared file with whatever SQLite it
 * likes, which stores a value of up to a gigabyte, where better-sqlite3 turns at most 2^29 − 24
 * bytes into a string: reading such a value fails the whole statement ("string or blob too big").
 * `octet_length` reads a value's size from the record header, never the value, so these tests let
 * a query pass over such rows without loading them.
 */

/** SQL, never NULL: each of `columns` holds at most `bytes` (NULL counts as empty). */
export function columnsWithin(columns: readonly string[], bytes: number): string {
  return `(${columns.map((column) => `coalesce(octet_length(${column}), 0) <= ${bytes}`).join(' AND ')})`;
}

/** SQL: the column's value where it holds at most `bytes`, else NULL; the value is never loaded when larger. */
export function valueWithin(column: string, bytes: number): string {
  return `CASE WHEN octet_length(${column}) <= ${bytes} THEN ${column} END`;
}

/** The terms of "some column holds more than `bytes`", each never NULL, to be joined with OR. */
export function columnOverTerms(columns: readonly string[], bytes: number): string[] {
  return columns.map((column) => `coalesce(octet_length(${column}), 0) > ${bytes}`);
}
