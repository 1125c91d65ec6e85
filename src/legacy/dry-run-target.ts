import { AuditStore } from '../audit/audit-store.js';
import type { ProposalState } from '../queue/proposal.js';
import type { Db } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';
import { tableExists } from '../storage/tables.js';
import { textColumn } from '../storage/text-columns.js';
import { readableColumns } from '../queue/unreadable-rows.js';
import { sameAuditEntry } from './audit-logs.js';
import { ImportLedger, type Source, type SourceKind } from './ledger.js';
import type { LegacyAuditLine, LegacyProposal, LegacyResponse } from './shapes.js';
import type { Outcome } from './summary.js';
import type { ImportTarget, ProposalFacts } from './target.js';

/**
 * Answers from the database when there is one, overlaid with what this run would have written.
 * The database may be older than this build (a dry run migrates nothing): a table it lacks holds nothing.
 */
export class DryRunTarget implements ImportTarget {
  /** The database's proposals and responses tables, when it has them. */
  readonly #queueDb: Db | undefined;
  readonly #audit: AuditStore | undefined;
  readonly #ledger: ImportLedger | undefined;
  readonly #proposals = new Map<string, ProposalFacts>();
  readonly #responses = new Set<string>();
  readonly #sources = new Map<string, SourceKind>();
  /** Lines this run would have appended, by slug and time, as the log's index finds them. */
  readonly #auditLines = new Map<string, LegacyAuditLine[]>();

  constructor(db: Db | undefined) {
    this.#queueDb = db && tableExists(db, 'proposals') ? db : undefined;
    this.#audit = db && tableExists(db, 'audit_entries') ? new AuditStore(db) : undefined;
    this.#ledger = db && tableExists(db, 'legacy_imports') ? new ImportLedger(db, 0) : undefined;
  }

  proposal(id: string): ProposalFacts | undefined {
    const overlaid = this.#proposals.get(id);
    if (overlaid) return overlaid;
    // Only the columns it needs: the database may be older than this build, without every column a whole row has now.
    const stored = this.#queueDb && (cachedStatement(this.#queueDb, `SELECT slug, state FROM proposals WHERE id = ? AND ${readableColumns('slug')}`).get(id) as { slug: string; state: ProposalState } | undefined);
    return stored && { slug: textColumn(stored.slug), state: stored.state };
  }

  hasResponse(slug: string, id: string): boolean {
    return this.#responses.has(id) || (this.#queueDb !== undefined && cachedStatement(this.#queueDb, 'SELECT 1 FROM responses r JOIN proposals p ON p.id = r.proposal_id WHERE r.proposal_id = ? AND p.slug = ?').get(id, slug) !== undefined);
  }

  hasSource(key: string): boolean {
    return this.#sources.has(key) || (this.#ledger?.has(key) ?? false);
  }

  hasAuditEntry(line: LegacyAuditLine): boolean {
    const stored = this.#audit?.readAuditEntries({ slug: line.slug, since: line.ts, until: line.ts + 1 }) ?? [];
    const written = (this.#auditLines.get(`${line.slug}\0${line.ts}`) ?? []).map((earlier) => ({ ...earlier, detail: null }));
    return [...stored, ...written].some((entry) => sameAuditEntry(entry, line));
  }

  insertProposal(proposal: LegacyProposal, state: ProposalState, source: Source): void {
    this.#proposals.set(proposal.id, { slug: proposal.slug, state });
    this.#sources.set(source.key, source.kind);
  }

  answer(proposal: { id: string; slug: string }, _response: LegacyResponse, state: 'answered' | 'archived', _wasVisible: boolean, source: Source): void {
    this.#responses.add(proposal.id);
    this.#proposals.set(proposal.id, { slug: proposal.slug, state });
    this.#sources.set(source.key, source.kind);
  }

  appendAudit(line: LegacyAuditLine, source: Source): void {
    const key = `${line.slug}\0${line.ts}`;
    this.#auditLines.set(key, [...(this.#auditLines.get(key) ?? []), line]);
    this.#sources.set(source.key, source.kind);
  }

  async batch(fn: () => Outcome[]): Promise<Outcome[]> {
    return fn();
  }

  writtenBySource(): Record<SourceKind, number> {
    const counts = { proposal: 0, response: 0, audit: 0 };
    for (const kind of this.#sources.values()) counts[kind] += 1;
    return counts;
  }
}
