import type { ProposalState } from '../queue/proposal.js';
import type { Source, SourceKind } from './ledger.js';
import type { LegacyAuditLine, LegacyProposal, LegacyResponse } from './shapes.js';
import type { Outcome } from './summary.js';

export interface ProposalFacts {
  slug: string;
  state: ProposalState;
}

/** Where imported rows go: the database, or (dry run) a record of what would have gone there. */
export interface ImportTarget {
  proposal(id: string): ProposalFacts | undefined;
  hasResponse(slug: string, id: string): boolean;
  hasSource(key: string): boolean;
  /** An entry with exactly this line's fields is in the log: the line was imported by a run whose ledger is gone. */
  hasAuditEntry(line: LegacyAuditLine): boolean;
  insertProposal(proposal: LegacyProposal, state: ProposalState, source: Source): void;
  /** `wasVisible`: the proposal was pending before this run, so a running `supervise` may show it. */
  answer(proposal: { id: string; slug: string }, response: LegacyResponse, state: 'answered' | 'archived', wasVisible: boolean, source: Source): void;
  appendAudit(line: LegacyAuditLine, source: Source): void;
  /** Runs one batch's decisions and writes together: a transaction, so an interrupted run leaves whole batches. */
  batch(fn: () => Outcome[]): Promise<Outcome[]>;
  /** Rows of `legacy_imports` this run wrote, per kind (dry run: what it would have written). */
  writtenBySource(): Record<SourceKind, number>;
}
