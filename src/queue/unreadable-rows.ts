import { MAX_COLUMN_BYTES } from '../core/limits.js';
import { columnOverTerms, columnsWithin } from '../storage/column-sizes.js';

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

/** A column of an unanswerable row, or NULL where it is too big to load (each column the sweep needs is a few bytes in any honest row). */
export function boundedColumn(column: 'id' | 'slug' | 'kind' | 'target', bytes = 256): string {
  return `CASE WHEN octet_length(${column}) <= ${bytes} THEN ${column} END AS ${column}`;
}
