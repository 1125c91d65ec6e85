import { AuditStore } from '../audit/audit-store.js';
import { DEFAULT_PROPOSAL_TTL_MS } from '../core/limits.js';
import type { ProposalState } from '../queue/proposal.js';
import { openHostKeyring } from '../keys/keyring.js';
import { QueueStore } from '../queue/queue-store.js';
import { writeTransaction, type Db } from '../storage/connection.js';
import { sameAuditEntry } from './audit-logs.js';
import { ImportLedger, type Source, type SourceKind } from './ledger.js';
import type { LegacyAuditLine, LegacyProposal, LegacyResponse } from './shapes.js';
import type { Outcome } from './summary.js';
import type { ImportTarget, ProposalFacts } from './target.js';

/** Writes through the stores, each row with its `legacy_imports` record, one transaction per batch. */
export class DatabaseTarget implements ImportTarget {
  readonly #db: Db;
  readonly #queue: QueueStore;
  readonly #audit: AuditStore;
  readonly #ledger: ImportLedger;

  constructor(db: Db, runStamp: number) {
    this.#db = db;
    // Imported rows are signed by the host key: the host vouches for what it imports.
    this.#queue = new QueueStore(db, { keyring: openHostKeyring() });
    this.#audit = new AuditStore(db);
    this.#ledger = new ImportLedger(db, runStamp);
  }

  proposal(id: string): ProposalFacts | undefined {
    const proposal = this.#queue.findProposal(id);
    return proposal && { slug: proposal.slug, state: proposal.state };
  }

  hasResponse(slug: string, id: string): boolean {
    return this.#queue.readResponse(slug, id) !== undefined;
  }

  hasSource(key: string): boolean {
    return this.#ledger.has(key);
  }

  hasAuditEntry(line: LegacyAuditLine): boolean {
    return this.#audit.readAuditEntries({ slug: line.slug, since: line.ts, until: line.ts + 1 }).some((entry) => sameAuditEntry(entry, line));
  }

  insertProposal(proposal: LegacyProposal, state: ProposalState, source: Source): void {
    this.#queue.insertImportedWithinTransaction({ ...proposal, expiresAt: proposal.createdAt + DEFAULT_PROPOSAL_TTL_MS }, state);
    this.#ledger.record(source, { proposalId: proposal.id, auditSeq: null });
  }

  answer(proposal: { id: string; slug: string }, response: LegacyResponse, state: 'answered' | 'archived', wasVisible: boolean, source: Source): void {
    this.#queue.answerImportedWithinTransaction(proposal, response, state, { announce: wasVisible });
    this.#ledger.record(source, { proposalId: proposal.id, auditSeq: null });
  }

  appendAudit(line: LegacyAuditLine, source: Source): void {
    const entry = this.#audit.appendWithinTransaction(line.slug, line);
    this.#ledger.record(source, { proposalId: line.proposalId, auditSeq: entry.seq });
  }

  async batch(fn: () => Outcome[]): Promise<Outcome[]> {
    const outcomes = await writeTransaction(this.#db, fn);
    this.#queue.announceCommitted();
    return outcomes;
  }

  writtenBySource(): Record<SourceKind, number> {
    return this.#ledger.recordedThisRun();
  }
}
