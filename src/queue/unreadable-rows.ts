import { MAX_COLUMN_BYTES } from '../core/limits.js';
import type { Db } from '../storage/connection.js';
import { columnOverTerms, columnsWithin, valueWithin } from '../storage/column-sizes.js';
import { cachedStatement } from '../storage/statements.js';

/**
 * The proposal rows no reader may load (storage/column-sizes.ts says why): one value too big made
 * every read of its row fail, and with it the operator's list and every write's expiry sweep.
 */

/** Every column of `proposals` but the rowid `seq`: even `target` and `state`, whose CHECKs a raw writer can switch off (`PRAGMA ignore_check_constraints`). */
const PROPOSAL_COLUMNS = ['id', 'slug', 'kind', 'origin', 'target', 'payload', 'justification', 'current_file', 'current_file_hash', 'idempotency_key', 'state', 'created_at', 'expires_at', 'updated_at', 'seal'] as const;

const OVERSIZED_TERMS = columnOverTerms(PROPOSAL_COLUMNS, MAX_COLUMN_BYTES);

/** SQL, never NULL: the proposal row holds a column larger than any writer of the plane stores. Every read of whole rows leaves these out. */
export const OVERSIZED_PROPOSAL = `(${OVERSIZED_TERMS.join(' OR ')})`;

/** `OVERSIZED_PROPOSAL` for a query that joins `proposals AS alias` to a table with columns of the same names. */
export function oversizedProposalAs(alias: string): string {
  return `(${columnOverTerms(PROPOSAL_COLUMNS.map((column) => `${alias}.${column}`), MAX_COLUMN_BYTES).join(' OR ')})`;
}

const RESPONSE_COLUMNS = ['proposal_id', 'status', 'notes', 'final_payload', 'responder', 'created_at', 'seal'] as const;

/**
 * SQL, never NULL: the `responses` row (as `alias`, if given) holds no value too big to read; true
 * where a LEFT JOIN found none. A bottle writes answers to its sidecar's proposals, and may write
 * any row with raw SQL.
 */
export function readableResponse(alias?: string): string {
  return columnsWithin(alias === undefined ? RESPONSE_COLUMNS : RESPONSE_COLUMNS.map((column) => `${alias}.${column}`), MAX_COLUMN_BYTES);
}

/**
 * SQL: a row no lookup finds (its id or slug is a blob) or no reader loads (oversized), which the
 * sweep closes. The very expression of the partial index `proposals_pending_unanswerable`'s WHERE
 * (migration 0011), which a query must repeat term for term for SQLite to use that index.
 */
export const UNANSWERABLE_PROPOSAL = `(typeof(id) != 'text' OR typeof(slug) != 'text' OR ${OVERSIZED_TERMS.join(' OR ')})`;

/**
 * SQL, never NULL: these columns of the row are small enough to read. For a query that reads only
 * them, and may run on a schema older than the columns `OVERSIZED_PROPOSAL` names (`db status`).
 */
export function readableColumns(...columns: Array<(typeof PROPOSAL_COLUMNS)[number]>): string {
  return columnsWithin(columns, MAX_COLUMN_BYTES);
}

type NamingColumn = 'id' | 'slug' | 'kind' | 'target';

/**
 * A column that names a proposal (`p.id` in a join), selected under its own name, or NULL where it
 * is too big to load: each is a few bytes in any honest row.
 */
export function boundedColumn(column: NamingColumn | `${string}.${NamingColumn}`, bytes = 256): string {
  return `${valueWithin(column, bytes)} AS ${column.split('.').at(-1) as string}`;
}

/**
 * Deletes the proposal row `seq`, which reads only its indexed values: false, and the row stays,
 * where one of those is too big to read (nothing reads such a row; whoever deletes tries again).
 */
export function deleteProposalRow(db: Db, seq: number): boolean {
  try {
    cachedStatement(db, 'DELETE FROM proposals WHERE seq = ?').run(seq);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_TOOBIG') return false;
    throw error;
  }
}
