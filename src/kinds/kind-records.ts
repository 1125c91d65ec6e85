/**
 * The `kinds` table: the kinds launchers registered, so every host process can enforce them.
 * Every sidecar can write this table, so a record counts only when the host's signature over its
 * name, version and definition verifies, and only its newest version counts: an altered or forged
 * newest record makes the kind untrusted rather than letting an older version (perhaps a wider one)
 * stand in for it.
 */
import { SuperviseError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { MAX_KIND_DEFINITION_BYTES } from '../core/limits.js';
import type { Keyring } from '../keys/keyring.js';
import { writeTransaction, type Db } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';
import { textColumnOrNull } from '../storage/text-columns.js';
import { isBuiltinKind } from './builtin-rules.js';
import { kindFromDefinition, readDefinitionText } from './declared-kind.js';
import type { KindDefinition } from './kind.js';

/** A recorded kind the host's seal vouches for, or why the newest record of that name is not trusted. */
export type RecordLookup = { kind: KindDefinition } | { refused: SuperviseError };

/** Where a registry finds the kinds it does not hold itself. */
export interface RecordedKinds {
  lookup(name: string): RecordLookup | undefined;
}

/** A launcher kind to record: its name and canonical definition text (see declared-kind.ts). */
export interface KindToRecord {
  name: string;
  definition: string;
}

interface NewestRow {
  version: number;
  seal: string | null;
  bytes: number;
  /** NULL when the row is over the size limit: it is never read into memory. */
  definition: string | null;
}

/** Enough for every kind a host has; a bottle inventing kind names only churns it. */
const CACHE_LIMIT = 256;

export class KindRecords implements RecordedKinds {
  readonly #db: Db;
  readonly #keyring: Keyring;
  readonly #cache = new Map<string, { key: string; lookup: RecordLookup }>();

  constructor(db: Db, keyring: Keyring) {
    this.#db = db;
    this.#keyring = keyring;
  }

  lookup(name: string): RecordLookup | undefined {
    if (isBuiltinKind(name)) return undefined;
    const row = this.#newest(name);
    if (row === undefined) return undefined;
    const key = `${row.version}\n${row.seal ?? ''}\n${row.definition === null ? `${row.bytes} bytes` : sha256(row.definition)}`;
    const cached = this.#cache.get(name);
    if (cached?.key === key) return cached.lookup;
    const lookup = this.#trust(name, row);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(name, { key, lookup });
    return lookup;
  }

  #trust(name: string, row: NewestRow): RecordLookup {
    const which = `kind "${name}": its newest record in the database (version ${row.version})`;
    const untrusted = `It is not trusted, so its proposals can only be rejected; open the database from the launcher that registers "${name}" to record it again.`;
    if (row.definition === null) {
      return { refused: new SuperviseError('forged', `${which} is ${row.bytes} bytes, over the ${MAX_KIND_DEFINITION_BYTES}-byte limit no launcher exceeds, so it was not read. ${untrusted}`) };
    }
    if (!this.#keyring.kindSealedByHost({ name, version: row.version, definition: row.definition }, row.seal)) {
      return {
        refused: new SuperviseError(
          'forged',
          `${which} is ${row.seal === null ? 'unsealed' : 'not sealed by this host'}: something with raw access to the database wrote or changed it. ${untrusted}`,
        ),
      };
    }
    const unusable = (fault: string): RecordLookup => ({ refused: new SuperviseError('forged', `${which} is sealed by the host but cannot be used: ${fault}. ${untrusted}`) });
    const read = readDefinitionText(row.definition);
    if ('fault' in read) return unusable(read.fault);
    if (read.definition.name !== name) return unusable(`it describes kind "${read.definition.name}"`);
    try {
      return { kind: Object.freeze(kindFromDefinition(read.definition, row.definition)) };
    } catch (error) {
      return unusable(`its schema does not compile (${(error as Error).message})`);
    }
  }

  /** The newest record of `name`, its text columns read as text whatever a bottle bound there (text-columns.ts). */
  #newest(name: string): NewestRow | undefined {
    const row = cachedStatement(
      this.#db,
      `SELECT version, seal, length(CAST(definition AS BLOB)) AS bytes,
              CASE WHEN length(CAST(definition AS BLOB)) <= ${MAX_KIND_DEFINITION_BYTES} THEN definition END AS definition
       FROM kinds WHERE name = +? ORDER BY version DESC LIMIT 1`,
    ).get(name) as NewestRow | undefined;
    return row && { ...row, seal: textColumnOrNull(row.seal), definition: textColumnOrNull(row.definition) };
  }

  /**
   * Records `kind` as its newest version unless the newest trusted record already says exactly
   * this, inside the caller's open write transaction. Returns the version now in force. Host only.
   */
  recordWithinTransaction(kind: KindToRecord): number {
    if (!this.#db.inTransaction) throw new Error('recordWithinTransaction needs an open write transaction');
    const keyring = this.#keyring;
    if (keyring.side !== 'host') throw new SuperviseError('forbidden', `only the host records kinds; kind "${kind.name}" must be registered by the launcher.`);
    const newest = this.#newest(kind.name);
    if (newest !== undefined && newest.definition === kind.definition && keyring.kindSealedByHost({ name: kind.name, version: newest.version, definition: kind.definition }, newest.seal)) {
      return newest.version;
    }
    if (newest !== undefined && !Number.isSafeInteger(newest.version + 1)) {
      throw new SuperviseError('forged', `kind "${kind.name}": the database holds version ${newest.version} of it, which no launcher recorded; something with raw access to the database wrote it. Restore the database from a backup.`);
    }
    const version = (newest?.version ?? 0) + 1;
    cachedStatement(this.#db, 'INSERT INTO kinds (name, version, definition, seal, recorded_at) VALUES (?, ?, ?, ?, ?)').run(
      kind.name,
      version,
      kind.definition,
      keyring.sealKind({ name: kind.name, version, definition: kind.definition }),
      Date.now(),
    );
    return version;
  }

  /** Records every kind in one transaction (see `recordWithinTransaction`). */
  async record(kinds: readonly KindToRecord[]): Promise<void> {
    if (kinds.length === 0) return;
    await writeTransaction(this.#db, () => {
      for (const kind of kinds) this.recordWithinTransaction(kind);
    });
  }
}
