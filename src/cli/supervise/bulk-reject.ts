import { isSuperviseError } from '../../core/errors.js';
import type { Proposal } from '../../queue/proposal.js';
import type { QueueStore } from '../../queue/queue-store.js';
import { answerProposal, checkDecision, reviewOf } from './actions.js';

/** What rejecting several proposals with one reason did, proposal by proposal. */
export interface BulkRejectOutcome {
  rejected: Proposal[];
  /** Settled by someone or something else first (another operator, an expiry, a cancellation). */
  elsewhere: Proposal[];
  /** Changed since it was listed, or refused for another reason: left pending, to be looked at. */
  refused: Array<{ proposal: Proposal; reason: string }>;
}

/**
 * Rejects each proposal as the single `r` does: its own transaction, its host-signed answer and
 * its audit entry, bound to the payload as it was listed, so one changed since is refused rather
 * than rejected unseen. One refusal does not stop the others. The reason is checked once, before
 * anything is written.
 */
export async function rejectAll(queue: QueueStore, proposals: readonly Proposal[], reason: string, responder: string): Promise<BulkRejectOutcome> {
  const [first] = proposals;
  if (first) checkDecision(queue.kinds, first, { status: 'rejected', reason }, responder);
  const outcome: BulkRejectOutcome = { rejected: [], elsewhere: [], refused: [] };
  for (const proposal of proposals) {
    try {
      const result = await answerProposal(queue, proposal, { status: 'rejected', reason }, responder, reviewOf(proposal));
      if (result.outcome === 'answered') outcome.rejected.push(proposal);
      else outcome.elsewhere.push(proposal);
    } catch (error) {
      if (!isSuperviseError(error)) throw error;
      outcome.refused.push({ proposal, reason: error.message });
    }
  }
  return outcome;
}
