import { SuperviseError } from '../../core/errors.js';
import type { KindDefinition } from '../../kinds/kind.js';
import type { KindRegistry } from '../../kinds/registry.js';
import type { NewResponse, ResponseStatus } from '../../kinds/response.js';
import { sha256 } from '../../core/hash.js';
import type { Proposal, ProposalResponse, ReviewedProposal } from '../../queue/proposal.js';
import { responseSealTrusted } from '../../queue/proposal-seals.js';
import type { QueueStore } from '../../queue/queue-store.js';
import { validateActor } from '../../core/validation.js';
import { isoTime } from '../../core/time.js';

export type Decision =
  | { status: 'approved'; reason: string }
  | { status: 'rejected'; reason: string }
  | { status: 'modified'; reason: string; finalPayload: string };

export type AnswerResult = { outcome: 'answered'; response: ProposalResponse } | { outcome: 'elsewhere'; description: string };

/** Who the audit log names for answers given here: `operator:<login>` when the login is a valid actor. */
export function operatorName(env: NodeJS.ProcessEnv = process.env): string {
  const login = env.USER ?? env.LOGNAME;
  if (login) {
    try {
      return validateActor(`operator:${login}`, 'responder');
    } catch {
      // A login with characters the audit log does not take: fall back to the role alone.
    }
  }
  return 'operator';
}

/** Whether answering with `status` needs a reason, for prompts that say so before the operator types. */
export function reasonRequired(kind: KindDefinition | undefined, status: ResponseStatus): boolean {
  return status === 'rejected' || Boolean(kind?.reasonRequiredToApprove);
}

/**
 * Checks a decision before anything is written and returns the response it makes. An operator's
 * rejection goes back to an agent that has to adjust, so it needs a reason; everything else about
 * the answer is the proposal's kind's to decide.
 */
export function checkDecision(kinds: KindRegistry, proposal: Proposal, decision: Decision, responder: string): NewResponse {
  const notes = decision.reason.trim();
  if (decision.status === 'rejected' && notes === '') {
    throw new SuperviseError('reason-required', 'a rejection needs a reason: say why, so the agent can adjust its request.');
  }
  const response: NewResponse = { status: decision.status, responder, notes, ...(decision.status === 'modified' ? { finalPayload: decision.finalPayload } : {}) };
  kinds.checkResponse(proposal, response);
  return response;
}

/** Finds an operator proposal by full id or unique prefix, in any bottle. */
export function requireOperatorProposal(queue: QueueStore, idOrPrefix: string): Proposal {
  const proposal = queue.findProposal(idOrPrefix);
  if (!proposal) {
    throw new SuperviseError('not-found', `no proposal with id ${JSON.stringify(idOrPrefix)}. List pending proposals with: bot-bottle supervise --once`);
  }
  if (proposal.target !== 'operator') {
    throw new SuperviseError('invalid-input', `proposal ${proposal.id} (${proposal.kind}) is addressed to bottle "${proposal.slug}"'s sidecar, not to the operator; its sidecar answers it.`);
  }
  return proposal;
}

/** What the operator is shown of a proposal, which an answer given after showing it binds to. */
export function reviewOf(proposal: Proposal): ReviewedProposal {
  return { payloadSha256: sha256(proposal.payload), currentFileHash: proposal.currentFileHash };
}

/** One line saying how a proposal that is no longer pending was settled, e.g. "approved by operator:bob". */
export function describeSettled(queue: QueueStore, proposal: Proposal): string {
  const current = queue.readProposal(proposal.slug, proposal.id) ?? proposal;
  switch (current.state) {
    case 'answered':
    case 'archived': {
      const response = queue.readResponse(proposal.slug, proposal.id);
      if (!response) return `answered elsewhere`;
      if (!responseSealTrusted(current.target, queue.responseSeal(current, response))) {
        return `answered by a FORGED answer (it says ${response.status}, but it is not signed by the host); nothing was applied. Check it with bot-bottle audit verify`;
      }
      const notes = response.notes.trim() === '' ? '' : ` (reason: ${JSON.stringify(response.notes.trim())})`;
      return `answered elsewhere: ${response.status} by ${response.responder}${notes}`;
    }
    case 'expired':
      return `expired unanswered at ${isoTime(current.updatedAt)}`;
    case 'cancelled':
      return 'cancelled by its proposer';
    case 'pending':
      // Past its expiry but not yet swept: the refused answer's transaction rolled the sweep back.
      if (current.expiresAt !== null && current.expiresAt <= Date.now()) return `expired unanswered at ${isoTime(current.expiresAt)}`;
      return 'still pending';
  }
}

/**
 * Answers as `responder`, bound to what was `reviewed` (see `reviewOf`): a proposal changed since
 * is refused (`changed-since-review`), as is approving or modifying a forged one (`forged`).
 * Another operator (or an expiry) getting there first is an outcome, not a failure: the caller
 * shows how the proposal was settled instead. Only a rejection may go unbound.
 */
export async function answerProposal(
  queue: QueueStore,
  proposal: Proposal,
  decision: Decision,
  responder: string,
  reviewed: ReviewedProposal | undefined,
): Promise<AnswerResult> {
  const checked = checkDecision(queue.kinds, proposal, decision, responder);
  if (reviewed === undefined && decision.status !== 'rejected') {
    throw new SuperviseError('usage', `${decision.status === 'approved' ? 'approving' : 'modifying'} needs the hash of what was reviewed, so a proposal changed since is refused.`);
  }
  try {
    const response = await queue.writeResponse(proposal.slug, proposal.id, checked, reviewed === undefined ? {} : { reviewed });
    return { outcome: 'answered', response };
  } catch (error) {
    if (error instanceof SuperviseError && error.code === 'conflict') return { outcome: 'elsewhere', description: describeSettled(queue, proposal) };
    throw error;
  }
}
