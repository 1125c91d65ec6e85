import { AuditStore, type AuditEntry } from '../audit/audit-store.js';
import { SuperviseError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { validateSlug, validateTextSize } from '../core/validation.js';
import { writeTransaction, type Db } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';
import type { SidecarBottle } from '../queue/sidecar-view.js';

/** One bottle as the host knows it: what its launcher registered and what its sidecar last published. */
export interface Bottle {
  slug: string;
  backend: string | null;
  image: string | null;
  startedAt: number | null;
  stoppedAt: number | null;
  lastHeartbeat: number | null;
  sidecarVersion: string | null;
  schemaVersion: number | null;
  /** sha256 of the live routes file; null when the sidecar published none (or a malformed one). */
  liveRoutesHash: string | null;
  /** The live routes file's text, only when it is known and hashes to `liveRoutesHash`. */
  liveRoutes: string | null;
}

/** What a sidecar publishes about itself, at start, every `HEARTBEAT_INTERVAL_MS` and after it applies a routes file. */
export interface Heartbeat {
  sidecarVersion: string;
  schemaVersion: number;
  /** The live routes file as the sidecar read it; undefined when it has none it can read. */
  liveRoutes: { hash: string; text: string | undefined } | undefined;
}

/** A sidecar's record of what it did with an approved routes file: merged into a changed live file, or refused as stale. */
export interface RoutesApplyRecord {
  proposalId: string;
  kind: string;
  action: 'routes-merged' | 'routes-stale' | 'routes-apply-failed';
  /** `merged`, `stale` or `failed`: the outcome, for `audit list --status`. */
  status: 'merged' | 'stale' | 'failed';
  notes: string;
  /** The live file → what was written (merged), or nothing. */
  diff?: string;
}

interface BottleRow {
  slug: unknown;
  backend: unknown;
  image: unknown;
  started_at: unknown;
  stopped_at: unknown;
  last_heartbeat: unknown;
  sidecar_version: unknown;
  schema_version: unknown;
  live_routes_hash: unknown;
  live_routes: unknown;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const VERSION = /^[\x21-\x7e]{1,64}$/;
/** Who writes a sidecar's own audit entries; it never answers for the operator. */
const SIDECAR_ACTOR = 'sidecar';
const ROUTES_COMPONENT = 'egress';

/**
 * The bottles table. Its rows come from sidecars, which face a hostile agent and can write the
 * shared file with raw SQL, so every column is checked on the way out: a malformed value reads
 * as unknown, and a live file that does not hash to its published hash is dropped.
 */
export class BottleStore {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  /** The view a sidecar gets: it can publish its own heartbeat and record its own applies, nothing else. */
  forSlug(slug: string): BottleSelf {
    return new BottleSelf(this.#db, validateSlug(slug));
  }

  /** One upsert; creating the row marks the bottle started. */
  recordHeartbeat(slug: string, heartbeat: Heartbeat, at: number = Date.now()): Promise<void> {
    validateSlug(slug);
    const row = heartbeatRow(heartbeat);
    return writeTransaction(this.#db, () => {
      cachedStatement(
        this.#db,
        `INSERT INTO bottles (slug, started_at, last_heartbeat, sidecar_version, schema_version, live_routes_hash, live_routes)
         VALUES (@slug, @at, @at, @sidecarVersion, @schemaVersion, @liveRoutesHash, @liveRoutes)
         ON CONFLICT (slug) DO UPDATE SET last_heartbeat = excluded.last_heartbeat, stopped_at = NULL,
           sidecar_version = excluded.sidecar_version, schema_version = excluded.schema_version,
           live_routes_hash = excluded.live_routes_hash, live_routes = excluded.live_routes`,
      ).run({ slug, at, ...row });
    });
  }

  readBottle(slug: string): Bottle | undefined {
    const row = cachedStatement(this.#db, 'SELECT * FROM bottles WHERE slug = ?').get(validateSlug(slug)) as BottleRow | undefined;
    return row ? bottleFromRow(row) : undefined;
  }

  listBottles(): Bottle[] {
    return (cachedStatement(this.#db, 'SELECT * FROM bottles ORDER BY slug').all() as BottleRow[]).map(bottleFromRow);
  }
}

/** `BottleStore` bound to one bottle: what its sidecar is given. */
export class BottleSelf implements SidecarBottle {
  readonly #store: BottleStore;
  readonly #audit: AuditStore;
  readonly slug: string;

  constructor(db: Db, slug: string) {
    this.#store = new BottleStore(db);
    this.#audit = new AuditStore(db);
    this.slug = slug;
  }

  recordHeartbeat(heartbeat: Heartbeat): Promise<void> {
    return this.#store.recordHeartbeat(this.slug, heartbeat);
  }

  /** An audit entry of this bottle's, as the sidecar: the operator's decision has its own entry already. */
  recordRoutesApply(record: RoutesApplyRecord): Promise<AuditEntry> {
    return this.#audit.writeAuditEntry(this.slug, {
      component: ROUTES_COMPONENT,
      action: record.action,
      actor: SIDECAR_ACTOR,
      proposalId: record.proposalId,
      kind: record.kind,
      status: record.status,
      notes: truncateToBytes(record.notes, MAX_NOTES_BYTES),
      ...(record.diff !== undefined ? { diff: record.diff } : {}),
    });
  }
}

function heartbeatRow(heartbeat: Heartbeat): { sidecarVersion: string; schemaVersion: number; liveRoutesHash: string | null; liveRoutes: string | null } {
  if (!VERSION.test(heartbeat.sidecarVersion)) {
    throw new SuperviseError('invalid-input', `sidecar version ${JSON.stringify(heartbeat.sidecarVersion)} is not valid: 1–64 printable characters without spaces.`);
  }
  if (!Number.isSafeInteger(heartbeat.schemaVersion) || heartbeat.schemaVersion < 0) {
    throw new SuperviseError('invalid-input', `schema version must be a whole number, got ${String(heartbeat.schemaVersion)}.`);
  }
  const live = heartbeat.liveRoutes;
  if (live !== undefined && !SHA256_HEX.test(live.hash)) throw new SuperviseError('invalid-input', 'the live routes hash must be 64 lowercase hex characters (sha256).');
  if (live?.text !== undefined) {
    validateTextSize(live.text, MAX_PAYLOAD_BYTES, 'the live routes file');
    if (sha256(live.text) !== live.hash) throw new SuperviseError('invalid-input', 'the live routes file does not match its hash; read them from the same file contents.');
  }
  return { sidecarVersion: heartbeat.sidecarVersion, schemaVersion: heartbeat.schemaVersion, liveRoutesHash: live?.hash ?? null, liveRoutes: live?.text ?? null };
}

function bottleFromRow(row: BottleRow): Bottle {
  const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);
  const time = (value: unknown): number | null => (typeof value === 'number' && Number.isSafeInteger(value) ? value : null);
  const hash = typeof row.live_routes_hash === 'string' && SHA256_HEX.test(row.live_routes_hash) ? row.live_routes_hash : null;
  const live = text(row.live_routes);
  return {
    slug: String(row.slug),
    backend: text(row.backend),
    image: text(row.image),
    startedAt: time(row.started_at),
    stoppedAt: time(row.stopped_at),
    lastHeartbeat: time(row.last_heartbeat),
    sidecarVersion: typeof row.sidecar_version === 'string' && VERSION.test(row.sidecar_version) ? row.sidecar_version : null,
    schemaVersion: time(row.schema_version),
    liveRoutesHash: hash,
    liveRoutes: hash !== null && live !== null && Buffer.byteLength(live, 'utf8') <= MAX_PAYLOAD_BYTES && sha256(live) === hash ? live : null,
  };
}

/** Cuts at a character boundary so the notes stay within the audit limit. */
function truncateToBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  return `${bytes.subarray(0, limit - 3).toString('utf8').replace(/\uFFFD$/, '')}…`;
}
