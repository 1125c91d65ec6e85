import type { ProposalResult } from '../src/queue/proposal-flow.js';
import type { AppliedReport } from './approved-routes.js';

export const OUTCOME_STATUSES = ['approved', 'modified', 'rejected', 'pending', 'expired', 'cancelled', 'stale'] as const;

/**
 * What a proposal came to, for a program: the route tools' `structuredContent` and
 * `bot-bottle-sidecar propose --json` are this one object, so an agent and a script read the same.
 */
export interface ProposalOutcome {
  status: (typeof OUTCOME_STATUSES)[number];
  notes: string;
  proposal_id: string;
  /** Only when the operator modified the proposal: the file as approved. */
  final_routes_yaml?: string;
  /** Only when the approved change was merged into a live file that had changed: the file now live. */
  merged_routes_yaml?: string;
  /** Only when the approved file could not be applied: why (the live file is unchanged). */
  apply_error?: string;
}

export function proposalOutcome(result: ProposalResult, applied: AppliedReport | undefined): ProposalOutcome {
  const outcome: ProposalOutcome = { status: applied?.stale ? 'stale' : result.status, notes: 'notes' in result ? result.notes : '', proposal_id: result.proposalId };
  if (applied?.error !== undefined) outcome.apply_error = applied.error;
  if (result.status === 'modified' && result.finalPayload !== null) outcome.final_routes_yaml = result.finalPayload;
  if (applied?.mergedFile !== undefined) outcome.merged_routes_yaml = applied.mergedFile;
  return outcome;
}
