import type { Db } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';

export type SourceKind = 'proposal' | 'response' | 'audit';

/** One thing taken from the legacy tree: a queue file, or a line of an audit log. */
export interface Source {
  /** `proposal:<id>`, `response:<id>` or `audit:<sha256 of the line>`: the same source gives the same key on every run. */
  key: string;
  kind: SourceKind;
  /** Relative to the import root, so an imported row can be traced back to its file. */
  path: string;
}

/**
 * The `legacy_imports` table: what earlier runs already took, so a second (or interrupted) run
 * skips it. The audit log is append-only and hash-chained, so this memory cannot live in it. Rows
 * of one run carry that run's stamp, so the run can count what it recorded.
 */
export class ImportLedger {
  readonly #db: Db;
  readonly #runStamp: number;

  constructor(db: Db, runStamp: number) {
    this.#db = db;
    this.#runStamp = runStamp;
  }

  has(key: string): boolean {
    return cachedStatement(this.#db, 'SELECT 1 FROM legacy_imports WHERE source_key = ?').get(key) !== undefined;
  }

  /** Inside the batch's write transaction, beside the row the source became. */
  record(source: Source, became: { proposalId: string | null; auditSeq: number | null }): void {
    cachedStatement(
      this.#db,
      'INSERT INTO legacy_imports (source_key, source_kind, source_path, proposal_id, audit_seq, imported_at) VALUES (@key, @kind, @path, @proposalId, @auditSeq, @importedAt)',
    ).run({ key: source.key, kind: source.kind, path: source.path, ...became, importedAt: this.#runStamp });
  }

  recordedThisRun(): Record<SourceKind, number> {
    const counts = { proposal: 0, response: 0, audit: 0 };
    const rows = cachedStatement(this.#db, 'SELECT source_kind AS kind, count(*) AS n FROM legacy_imports WHERE imported_at = ? GROUP BY source_kind').all(this.#runStamp) as Array<{ kind: SourceKind; n: number }>;
    for (const row of rows) counts[row.kind] = row.n;
    return counts;
  }
}
