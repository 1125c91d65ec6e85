import { SuperviseError } from '../../core/errors.js';
import type { KindDefinition } from '../../kinds/registry.js';
import type { Proposal, ProposalResponse, ResponseStatus } from '../../queue/proposal.js';
import type { QueueStore } from '../../queue/queue-store.js';
import { validateActor } from '../../core/validation.js';

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

/** The reason rules of DESIGN §4.1 step 3, checked before anything is written. */
export function reasonProblem(kind: KindDefinition, status: ResponseStatus, reason: string): string | undefined {
  if (reason.trim() !== '') return undefined;
  if (status === 'rejected') return 'a rejection needs a reason: say why, so the agent can adjust its request.';
  if (kind.reasonRequiredToApprove) return `approving a ${kind.name} proposal needs a reason: say why this is safe to allow.`;
  return undefined;
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

/** One line saying how a proposal that is no longer pending was settled, e.g. "approved by operator:bob". */
export function describeSettled(queue: QueueStore, proposal: Proposal): string {
  const current = queue.readProposal(proposal.slug, proposal.id) ?? proposal;
  switch (current.state) {
    case 'answered':
    case 'archived': {
      const response = queue.readResponse(proposal.slug, proposal.id);
      if (!response) return `answered elsewhere`;
      const notes = response.notes.trim() === '' ? '' : ` (reason: ${JSON.stringify(response.notes.trim())})`;
      return `answered elsewhere: ${response.status} by ${response.responder}${notes}`;
    }
    case 'expired':
      return `expired unanswered at ${new Date(current.updatedAt).toISOString()}`;
    case 'cancelled':
      return 'cancelled by its proposer';
    case 'pending':
      return 'still pending';
  }
}

/**
 * Answers as `responder`. Another operator (or an expiry) getting there first is an outcome, not a
 * failure: the caller shows how the proposal was settled instead.
 */
export async function answerProposal(queue: QueueStore, proposal: Proposal, decision: Decision, responder: string): Promise<AnswerResult> {
  const kind = queue.kinds.get(proposal.kind);
  if (decision.status === 'modified' && !kind.modifiable) {
    throw new SuperviseError('modify-not-allowed', `${kind.name} proposals cannot be modified, only approved (with a reason) or rejected.`);
  }
  const problem = reasonProblem(kind, decision.status, decision.reason);
  if (problem) throw new SuperviseError('reason-required', problem);
  try {
    const response = await queue.writeResponse(proposal.slug, proposal.id, {
      status: decision.status,
      responder,
      notes: decision.reason.trim(),
      ...(decision.status === 'modified' ? { finalPayload: decision.finalPayload } : {}),
    });
    return { outcome: 'answered', response };
  } catch (error) {
    if (error instanceof SuperviseError && error.code === 'conflict') return { outcome: 'elsewhere', description: describeSettled(queue, proposal) };
    throw error;
  }
}
