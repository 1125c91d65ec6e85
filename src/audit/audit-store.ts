import { createHash } from 'node:crypto';
import { writeTransaction, type Db } from '../storage/connection.js';
import { SuperviseError } from '../core/errors.js';
import { MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { columnsWithin, valueWithin } from '../storage/column-sizes.js';
import { cachedStatement } from '../storage/statements.js';
import { columnsOf } from '../storage/tables.js';
import { isAuditLabel, validateActor, validateSlug, validateTextSize } from '../core/validation.js';
import { textColumn, textColumnOrNull } from '../storage/text-columns.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditEntryInput {
  component: string;
  action: string;
  actor: string;
  proposalId?: string | null;
  kind?: string | null;
  status?: string | null;
  notes?: string;
  diff?: string;
  /** Structured facts a reader or `audit verify` checks (a decision's hashes and diffs); stored as JSON. */
  detail?: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch; defaults to now. */
  ts?: number;
}

export interface AuditEntry {
  seq: number;
  ts: number;
  slug: string;
  component: string;
  action: string;
  proposalId: string | null;
  kind: string | null;
  status: string | null;
  notes: string;
  actor: string;
  diff: string;
  /** JSON text, exactly as hashed; null for entries without detail (every entry older than the column). */
  detail: string | null;
  prevHash: string;
  hash: string;
}

export interface AuditFilter {
  slug?: string;
  component?: string;
  action?: string;
  status?: string;
  kind?: string;
  proposalId?: string;
  /** Inclusive lower bound, ms since the epoch. */
  since?: number;
  /** Exclusive upper bound, ms since the epoch. */
  until?: number;
  limit?: number;
  /** `desc` lists the newest first, as a reviewer usually wants. */
  order?: 'asc' | 'desc';
}

/** The columns that hold labels from a small vocabulary, which `audit list|export` filter on. */
export type AuditLabelField = 'status' | 'action' | 'component' | 'kind';

export interface AuditHead {
  hash: string;
  count: number;
}

export type AuditVerification =
  | { ok: true; head: AuditHead }
  | { ok: false; firstBad: { seq: number; reason: string }; validPrefix: AuditHead };

interface AuditRow {
  seq: number;
  ts: number;
  slug: string;
  component: string;
  action: string;
  proposal_id: string | null;
  kind: string | null;
  status: string | null;
  notes: string;
  actor: string;
  diff: string;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

/** A modify's detail holds two diffs of files up to the payload limit, plus a few hashes. */
const MAX_DETAIL_BYTES = 4 * MAX_PAYLOAD_BYTES + 4096;
/**
 * The columns of an entry whose size reads test: no writer of the log stores more in one value than
 * a detail, and a bottle appending a longer one with its own SQLite made every read of the entry
 * fail (storage/column-sizes.ts), the chain's head among them, and so every decision. Reads pass
 * over such an entry; `verify` names it as the break. `detail` came with migration 0005, and a dry
 * run of the legacy import reads databases older than that.
 */
const ENTRY_COLUMNS = ['ts', 'slug', 'component', 'action', 'proposal_id', 'kind', 'status', 'notes', 'actor', 'diff', 'detail', 'prev_hash', 'hash'];
/** A hash is 64 hex digits; a longer one is not read, only chained onto by name. */
const HASH_BYTES = 64;

/**
 * The serialization the hash chain is computed over: a JSON array in a fixed field order, so
 * every implementation that reads the table can recompute it. `seq` is inside, so moving an
 * entry changes its hash.
 *
 *   ["bot-bottle-audit-v1", seq, ts, slug, component, action, proposal_id, kind, status, notes,
 *    actor, diff]                 when detail is NULL
 *   [... the same twelve ..., detail]   when detail is not NULL (its JSON text, as a string)
 *
 * `detail` came later: leaving it out when NULL keeps every entry written before it verifying
 * unchanged, and the array's length says which form an entry uses, so no value of one form can
 * pass for the other.
 */
export function canonicalAuditEntry(entry: Omit<AuditEntry, 'hash' | 'prevHash'>): string {
  const fields: unknown[] = [
    'bot-bottle-audit-v1',
    entry.seq,
    entry.ts,
    entry.slug,
    entry.component,
    entry.action,
    entry.proposalId,
    entry.kind,
    entry.status,
    entry.notes,
    entry.actor,
    entry.diff,
  ];
  // An exported record read back without the field means the same as NULL.
  if (entry.detail !== null && entry.detail !== undefined) fields.push(entry.detail);
  return JSON.stringify(fields);
}

export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonical).digest('hex');
}

/** An entry as stored; its text columns read as text whatever a raw writer put there (text-columns.ts). */
function fromRow(row: AuditRow): AuditEntry {
  return {
    seq: row.seq,
    ts: row.ts,
    slug: textColumn(row.slug),
    component: textColumn(row.component),
    action: textColumn(row.action),
    proposalId: textColumnOrNull(row.proposal_id),
    kind: textColumnOrNull(row.kind),
    status: textColumnOrNull(row.status),
    notes: textColumn(row.notes),
    actor: textColumn(row.actor),
    diff: textColumn(row.diff),
    detail: textColumnOrNull(row.detail),
    prevHash: textColumn(row.prev_hash),
    hash: textColumn(row.hash),
  };
}

/**
 * The newest entry's hash and the number of entries (the newest seq): what `audit verify` prints for
 * keeping outside the database, and what the next entry chains onto. An empty log's head is the
 * genesis hash with count 0.
 */
export function readAuditHead(db: Db): AuditHead {
  const row = cachedStatement(db, `SELECT seq, ${valueWithin('hash', HASH_BYTES)} AS hash FROM audit_entries ORDER BY seq DESC LIMIT 1`).get() as
    | { seq: number; hash: string | null }
    | undefined;
  if (!row) return { hash: GENESIS_HASH, count: 0 };
  // An entry only raw SQL writes; the chain is broken there whatever the next entry names.
  return { hash: row.hash === null ? `unreadable hash of entry ${row.seq}` : textColumn(row.hash), count: row.seq };
}

/**
 * The append-only, hash-chained audit log: an entry's hash covers the one before it, so editing,
 * deleting or reordering entries breaks the chain where it happened. Takes a connection; owns none.
 */
export class AuditStore {
  readonly #db: Db;
  #readableEntry: string | undefined;

  constructor(db: Db) {
    this.#db = db;
  }

  /** SQL: every value of the entry is small enough to read; made on first use, once the table is there. */
  #readable(): string {
    if (this.#readableEntry !== undefined) return this.#readableEntry;
    const present = columnsOf(this.#db, 'audit_entries');
    const readable = columnsWithin(ENTRY_COLUMNS.filter((column) => present.has(column)), MAX_DETAIL_BYTES);
    if (present.size > 0) this.#readableEntry = readable;
    return readable;
  }

  /** Appends one entry in its own transaction. */
  writeAuditEntry(slug: string, entry: AuditEntryInput): Promise<AuditEntry> {
    const checked = this.#checkInput(slug, entry);
    return writeTransaction(this.#db, () => this.#append(validateSlug(slug), checked));
  }

  /**
   * Appends inside the caller's open write transaction, so a decision and its audit entry
   * commit together. Throws if no transaction is open.
   */
  appendWithinTransaction(slug: string, entry: AuditEntryInput): AuditEntry {
    if (!this.#db.inTransaction) throw new Error('appendWithinTransaction needs an open write transaction');
    return this.#append(slug, this.#checkInput(slug, entry));
  }

  #checkInput(slug: string, entry: AuditEntryInput): AuditEntryInput {
    validateSlug(slug);
    for (const [name, value] of [['component', entry.component], ['action', entry.action]] as const) {
      if (!isAuditLabel(value)) {
        throw new SuperviseError('invalid-input', `audit ${name} ${JSON.stringify(value)} is not valid: use lowercase letters, digits and '-' (e.g. "egress", "operator-edit").`);
      }
    }
    validateActor(entry.actor, 'audit actor');
    validateTextSize(entry.notes ?? '', MAX_NOTES_BYTES, 'audit notes');
    validateTextSize(entry.diff ?? '', 2 * MAX_PAYLOAD_BYTES, 'audit diff');
    if (entry.detail !== undefined) validateTextSize(JSON.stringify(entry.detail), MAX_DETAIL_BYTES, 'audit detail');
    return entry;
  }

  #append(slug: string, entry: AuditEntryInput): AuditEntry {
    const last = readAuditHead(this.#db);
    const body = {
      seq: last.count + 1,
      ts: entry.ts ?? Date.now(),
      slug,
      component: entry.component,
      action: entry.action,
      proposalId: entry.proposalId ?? null,
      kind: entry.kind ?? null,
      status: entry.status ?? null,
      notes: entry.notes ?? '',
      actor: entry.actor,
      diff: entry.diff ?? '',
      detail: entry.detail === undefined ? null : JSON.stringify(entry.detail),
    };
    const prevHash = last.hash;
    const hash = chainHash(prevHash, canonicalAuditEntry(body));
    cachedStatement(
      this.#db,
      `INSERT INTO audit_entries (seq, ts, slug, component, action, proposal_id, kind, status, notes, actor, diff, detail, prev_hash, hash)
       VALUES (@seq, @ts, @slug, @component, @action, @proposalId, @kind, @status, @notes, @actor, @diff, @detail, @prevHash, @hash)`,
    ).run({ ...body, prevHash, hash });
    return { ...body, prevHash, hash };
  }

  readAuditEntries(filter: AuditFilter = {}): AuditEntry[] {
    const { sql, params } = buildQuery(filter, this.#readable());
    return (this.#db.prepare(sql).all(params) as AuditRow[]).map(fromRow);
  }

  /**
   * Streams entries in chain order (or newest first) without loading the log into memory. While
   * it runs (the connection can run nothing else meanwhile) SQLite's page cache is cut to
   * STREAM_CACHE_KIB, and put back when the stream ends or is abandoned through return().
   */
  *iterateAuditEntries(filter: AuditFilter = {}): IterableIterator<AuditEntry> {
    const { sql, params } = buildQuery(filter, this.#readable());
    const statement = this.#db.prepare(sql);
    const restore = narrowPageCache(this.#db, STREAM_CACHE_KIB);
    try {
      for (const row of statement.iterate(params) as IterableIterator<AuditRow>) yield fromRow(row);
    } finally {
      restore();
    }
  }

  readAuditEntry(seq: number): AuditEntry | undefined {
    const row = this.#db.prepare(`SELECT * FROM audit_entries WHERE seq = ? AND ${this.#readable()}`).get(seq) as AuditRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  head(): AuditHead {
    return readAuditHead(this.#db);
  }

  /** Every value `field` has in the log, sorted: what a filter on it can match. Reads the whole table. */
  valuesOf(field: AuditLabelField): string[] {
    const values = this.#db.prepare(`SELECT DISTINCT ${field} FROM audit_entries WHERE ${field} IS NOT NULL ORDER BY ${field}`).pluck().all() as string[];
    return [...new Set(values.map(textColumn))];
  }

  /**
   * Recomputes the whole chain and names the first entry that was edited, deleted or moved.
   * `onProgress` hears every PROGRESS_EVERY entries how many were checked out of how many there are.
   */
  verify(options: { onProgress?: (checked: number, total: number) => void } = {}): AuditVerification {
    let expectedPrev = GENESIS_HASH;
    let expectedSeq = 1;
    const { onProgress } = options;
    const total = onProgress ? this.head().count : 0;
    const rows = this.#db.prepare(`SELECT * FROM audit_entries WHERE ${this.#readable()} ORDER BY seq`).iterate() as IterableIterator<AuditRow>;
    const broken = (seq: number, reason: string): AuditVerification => ({ ok: false, firstBad: { seq, reason }, validPrefix: { hash: expectedPrev, count: expectedSeq - 1 } });
    for (const row of rows) {
      if (onProgress && expectedSeq % PROGRESS_EVERY === 0) onProgress(expectedSeq, total);
      const entry = fromRow(row);
      const passedOver = entry.seq === expectedSeq ? undefined : this.#unreadable(expectedSeq);
      const reason = passedOver ?? explainBadEntry(entry, expectedSeq, expectedPrev);
      if (reason) {
        rows.return?.();
        return broken(passedOver ? expectedSeq : entry.seq, reason);
      }
      expectedPrev = entry.hash;
      expectedSeq += 1;
    }
    const beyond = this.#unreadable(expectedSeq);
    return beyond ? broken(expectedSeq, beyond) : { ok: true, head: { hash: expectedPrev, count: expectedSeq - 1 } };
  }

  /** Why entry `seq` was passed over, when it exists but holds a value too big to read. */
  #unreadable(seq: number): string | undefined {
    const exists = cachedStatement(this.#db, `SELECT 1 FROM audit_entries WHERE seq = ? AND NOT ${this.#readable()}`).get(seq) !== undefined;
    return exists ? `it holds a value too big to read (over ${MAX_DETAIL_BYTES} bytes, more than any writer of the log stores): it was appended with raw SQL` : undefined;
  }
}

/** How often a long check reports progress: often enough for a bar to move, rarely enough to cost nothing. */
export const PROGRESS_EVERY = 1000;

/**
 * SQLite's page cache while entries are streamed, in KiB. A stream reads each table page once, so
 * better-sqlite3's default of 16 MB only fills with pages that are never read again: 19 MB of an
 * export's memory over a long log. 1 MB still holds the B-tree's upper pages and the index pages
 * a filtered stream comes back to.
 */
const STREAM_CACHE_KIB = 1024;

/** Cuts the connection's page cache to at most `kib` and returns what puts the setting back. */
function narrowPageCache(db: Db, kib: number): () => void {
  const setting = db.pragma('cache_size', { simple: true }) as number;
  // Negative: a size in KiB; positive: a number of pages.
  const currentKiB = setting < 0 ? -setting : (setting * (db.pragma('page_size', { simple: true }) as number)) / 1024;
  if (currentKiB <= kib) return () => undefined;
  db.pragma(`cache_size = ${-kib}`);
  return () => db.pragma(`cache_size = ${setting}`);
}

function explainBadEntry(entry: AuditEntry, expectedSeq: number, expectedPrev: string): string | undefined {
  if (entry.seq !== expectedSeq) {
    return `expected entry ${expectedSeq} here but found entry ${entry.seq}: entries ${expectedSeq}–${entry.seq - 1} were deleted`;
  }
  if (entry.prevHash !== expectedPrev) {
    return `its prev_hash does not match the hash of entry ${expectedSeq - 1}: an entry before it was deleted, replaced or reordered`;
  }
  if (chainHash(entry.prevHash, canonicalAuditEntry(entry)) !== entry.hash) {
    return 'its contents do not match its hash: the entry was edited';
  }
  return undefined;
}

function buildQuery(filter: AuditFilter, readable: string): { sql: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  const equal = { slug: 'slug', component: 'component', action: 'action', status: 'status', kind: 'kind', proposalId: 'proposal_id' } as const;
  for (const [key, column] of Object.entries(equal) as Array<[keyof typeof equal, string]>) {
    if (filter[key] !== undefined) {
      where.push(`${column} = @${key}`);
      params[key] = filter[key];
    }
  }
  if (filter.since !== undefined) {
    where.push('ts >= @since');
    params.since = filter.since;
  }
  if (filter.until !== undefined) {
    where.push('ts < @until');
    params.until = filter.until;
  }
  where.unshift(readable);
  let sql = `SELECT * FROM audit_entries WHERE ${where.join(' AND ')} ORDER BY seq ${filter.order === 'desc' ? 'DESC' : 'ASC'}`;
  if (filter.limit !== undefined) {
    if (!Number.isInteger(filter.limit) || filter.limit < 1) {
      throw new SuperviseError('invalid-input', `limit must be a positive whole number, got ${String(filter.limit)}.`);
    }
    sql += ' LIMIT @limit';
    params.limit = filter.limit;
  }
  return { sql, params };
}
