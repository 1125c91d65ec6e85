import { AuditStore, type AuditEntry } from '../audit/audit-store.js';
import { SuperviseError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { MAX_COLUMN_BYTES, MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { validateSlug, validateTextSize } from '../core/validation.js';
import type { Keyring, SealVerdict } from '../keys/keyring.js';
import { overviewOf, pendingByBottle, type BottleOverview } from './bottle-overview.js';
import type { SealedHeartbeatFields, SealedRegistrationFields } from '../keys/seals.js';
import { writeTransaction, type Db } from '../storage/connection.js';
import { columnsWithin } from '../storage/column-sizes.js';
import { cachedStatement } from '../storage/statements.js';
import type { SidecarBottle } from '../queue/sidecar-view.js';


/**
 * One bottle's row as stored: what its launcher registered and what its sidecar last published,
 * with both seals. Any bottle can write the row; `BottleStore.overview` says which parts verify.
 */
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
  /** The host's Ed25519 signature over the registration (`backend` … `stoppedAt`); null when none was written. */
  registrationSeal: string | null;
  /** The bottle's MAC over the heartbeat (`lastHeartbeat` … `liveRoutesHash`); null when none was written. */
  heartbeatSeal: string | null;
}

/** What a launcher tells the host about a bottle it starts. */
export interface BottleRegistration {
  /** The container engine or VM backend, e.g. `docker`, `podman`: 1–64 printable characters without spaces. */
  backend: string;
  /** The agent's image: 1–256 printable characters without spaces. */
  image: string;
}

/** What a sidecar publishes about itself, at start, every `HEARTBEAT_INTERVAL_MS` (bottle-overview.ts) and after it applies a routes file. */
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
  registration_seal: unknown;
  heartbeat_seal: unknown;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
/**
 * A bottles row every value of which can be read: any bottle can write any row with its own SQLite,
 * and one value too big to read failed every view of the bottles (storage/column-sizes.ts). Such a
 * row is passed over, and its bottle shows as one without a row.
 */
const READABLE_BOTTLE = columnsWithin(
  ['slug', 'backend', 'image', 'started_at', 'stopped_at', 'last_heartbeat', 'sidecar_version', 'schema_version', 'live_routes_hash', 'live_routes', 'registration_seal', 'heartbeat_seal'],
  MAX_COLUMN_BYTES,
);
const VERSION = /^[\x21-\x7e]{1,64}$/;
const IMAGE = /^[\x21-\x7e]{1,256}$/;
const LAUNCHER_ACTOR = 'launcher';
const BOTTLES_COMPONENT = 'bottles';
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
  readonly #keyring: Keyring | undefined;
  readonly #audit: AuditStore;

  /** `keyring` seals what this store writes: a bottle's keyring its heartbeats, the host's its registrations. */
  constructor(db: Db, options: { keyring?: Keyring } = {}) {
    this.#db = db;
    this.#keyring = options.keyring;
    this.#audit = new AuditStore(db);
  }

  /** The view a sidecar gets: it can publish its own heartbeat and record its own applies, nothing else. */
  forSlug(slug: string): BottleSelf {
    return new BottleSelf(this, this.#audit, validateSlug(slug));
  }

  /**
   * One upsert of the heartbeat's own columns, MACed with the bottle's key when this store has it
   * (a sidecar's). It never writes what the host registered: a new row has no registration at all.
   */
  recordHeartbeat(slug: string, heartbeat: Heartbeat, at: number = Date.now()): Promise<void> {
    validateSlug(slug);
    const row = heartbeatRow(heartbeat);
    const keyring = this.#keyring;
    if (keyring?.side === 'bottle' && keyring.slug !== slug) {
      throw new SuperviseError('forbidden', `this sidecar belongs to bottle "${keyring.slug}" and cannot publish a heartbeat for "${slug}".`);
    }
    const fields: SealedHeartbeatFields = { slug, at, sidecarVersion: row.sidecarVersion, schemaVersion: row.schemaVersion, liveRoutesHash: row.liveRoutesHash };
    const seal = keyring?.side === 'bottle' ? keyring.sealHeartbeat(fields) : null;
    return writeTransaction(this.#db, () => {
      cachedStatement(
        this.#db,
        `INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version, live_routes_hash, live_routes, heartbeat_seal)
         VALUES (@slug, @at, @sidecarVersion, @schemaVersion, @liveRoutesHash, @liveRoutes, @seal)
         ON CONFLICT (slug) DO UPDATE SET last_heartbeat = excluded.last_heartbeat,
           sidecar_version = excluded.sidecar_version, schema_version = excluded.schema_version,
           live_routes_hash = excluded.live_routes_hash, live_routes = excluded.live_routes, heartbeat_seal = excluded.heartbeat_seal`,
      ).run({ slug, at, ...row, seal });
    });
  }

  /**
   * The launcher's word that the bottle was started, signed with the host's key and audited
   * (`bottle-registered`). Registering again (a restart) replaces the registration and clears a
   * retirement. Throws `forbidden` unless this store holds the host's keyring.
   */
  register(slug: string, registration: BottleRegistration, at: number = Date.now()): Promise<void> {
    validateSlug(slug);
    const backend = checkedText(registration.backend, VERSION, 'backend', '1–64 printable characters without spaces, e.g. docker or podman');
    const image = checkedText(registration.image, IMAGE, 'image', '1–256 printable characters without spaces');
    return this.#writeRegistration({ slug, backend, image, startedAt: at, stoppedAt: null }, 'bottle-registered', `registered (${backend}, ${image})`);
  }

  /**
   * The launcher's word that the bottle was stopped: the registration signed again with `stoppedAt`,
   * and audited (`bottle-retired`). Returns false when it was already retired. Throws `not-found`
   * for a bottle the host never registered (or whose registration does not verify) and `forbidden`
   * without the host's keyring.
   */
  async retire(slug: string, at: number = Date.now()): Promise<boolean> {
    validateSlug(slug);
    this.#requireHostKeyring();
    const registered = this.#verifiedRegistration(slug);
    if (registered === undefined) {
      throw new SuperviseError('not-found', `bottle "${slug}" has no registration signed by this host, so there is nothing to retire. Register it first (registerBottle), or check the slug with \`bot-bottle bottles\`.`);
    }
    if (registered.stoppedAt !== null) return false;
    await this.#writeRegistration({ ...registered, stoppedAt: at }, 'bottle-retired', 'retired');
    return true;
  }

  /** The registration as the host signed it, or undefined when there is none or it does not verify. */
  #verifiedRegistration(slug: string): SealedRegistrationFields | undefined {
    const bottle = this.readBottle(slug);
    if (bottle === undefined) return undefined;
    const fields = registrationOf(bottle);
    return this.#requireHostKeyring().checkRegistration(fields, bottle.registrationSeal) === 'host' ? fields : undefined;
  }

  #writeRegistration(fields: SealedRegistrationFields, action: string, notes: string): Promise<void> {
    const seal = this.#requireHostKeyring().sealRegistration(fields);
    return writeTransaction(this.#db, () => {
      cachedStatement(
        this.#db,
        `INSERT INTO bottles (slug, backend, image, started_at, stopped_at, registration_seal)
         VALUES (@slug, @backend, @image, @startedAt, @stoppedAt, @seal)
         ON CONFLICT (slug) DO UPDATE SET backend = excluded.backend, image = excluded.image, started_at = excluded.started_at,
           stopped_at = excluded.stopped_at, registration_seal = excluded.registration_seal`,
      ).run({ ...fields, seal });
      this.#audit.appendWithinTransaction(fields.slug, {
        ts: fields.stoppedAt ?? fields.startedAt ?? Date.now(),
        component: BOTTLES_COMPONENT,
        action,
        actor: LAUNCHER_ACTOR,
        notes,
        detail: { backend: fields.backend, image: fields.image, startedAt: fields.startedAt, stoppedAt: fields.stoppedAt, sealSha256: sha256(seal) },
      });
    });
  }

  #requireHostKeyring(): Extract<Keyring, { side: 'host' }> {
    const keyring = this.#keyring;
    if (keyring?.side !== 'host') throw new SuperviseError('forbidden', 'only the host registers and retires bottles: open the database with openHostDatabase.');
    return keyring;
  }

  /** Whose seal the row's registration and heartbeat carry: `host` and `bottle` are the rightful ones. */
  sealsOf(bottle: Bottle): { registration: SealVerdict; heartbeat: SealVerdict } {
    const keyring = this.#requireHostKeyring();
    return {
      registration: keyring.checkRegistration(registrationOf(bottle), bottle.registrationSeal),
      heartbeat: keyring.checkHeartbeat(heartbeatOf(bottle), bottle.heartbeatSeal),
    };
  }

  readBottle(slug: string): Bottle | undefined {
    const row = cachedStatement(this.#db, `SELECT * FROM bottles WHERE slug = ? AND ${READABLE_BOTTLE}`).get(validateSlug(slug)) as BottleRow | undefined;
    return row ? bottleFromRow(row) : undefined;
  }

  listBottles(): Bottle[] {
    return (cachedStatement(this.#db, `SELECT * FROM bottles WHERE ${READABLE_BOTTLE} ORDER BY slug`).all() as BottleRow[]).map(bottleFromRow);
  }

  /**
   * Every bottle the host knows of, by slug: those with a row and those with proposals waiting but
   * no row, each with its liveness, whose seals verify, and its pending count. What `bot-bottle
   * bottles`, the terminal UI and the dashboard show. Needs the host's keyring.
   */
  overview(now: number = Date.now()): BottleOverview[] {
    const pending = pendingByBottle(this.#db, now);
    const rows = new Map(this.listBottles().map((bottle) => [bottle.slug, bottle]));
    const slugs = [...new Set([...rows.keys(), ...pending.keys()])].sort();
    return slugs.map((slug) => {
      const bottle = rows.get(slug);
      return overviewOf(slug, bottle, bottle === undefined ? undefined : this.sealsOf(bottle), pending.get(slug), now);
    });
  }
}

/** `BottleStore` bound to one bottle: what its sidecar is given. */
export class BottleSelf implements SidecarBottle {
  readonly #store: BottleStore;
  readonly #audit: AuditStore;
  readonly slug: string;

  constructor(store: BottleStore, audit: AuditStore, slug: string) {
    this.#store = store;
    this.#audit = audit;
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

function checkedText(value: unknown, pattern: RegExp, what: string, rule: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new SuperviseError('invalid-input', `${what} ${JSON.stringify(value)} is not valid: ${rule}.`);
  return value;
}

/** What a registration seal covers, read from the row (and so from whoever wrote it last). */
function registrationOf(bottle: Bottle): SealedRegistrationFields {
  return { slug: bottle.slug, backend: bottle.backend, image: bottle.image, startedAt: bottle.startedAt, stoppedAt: bottle.stoppedAt };
}

/** What a heartbeat seal covers; a row without a heartbeat has nothing to verify. */
function heartbeatOf(bottle: Bottle): SealedHeartbeatFields {
  return { slug: bottle.slug, at: bottle.lastHeartbeat ?? 0, sidecarVersion: bottle.sidecarVersion ?? '', schemaVersion: bottle.schemaVersion ?? 0, liveRoutesHash: bottle.liveRoutesHash };
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
    registrationSeal: text(row.registration_seal),
    heartbeatSeal: text(row.heartbeat_seal),
  };
}

/** Cuts at a character boundary so the notes stay within the audit limit. */
function truncateToBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  return `${bytes.subarray(0, limit - 3).toString('utf8').replace(/\uFFFD$/, '')}…`;
}
