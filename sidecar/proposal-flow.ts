import { SuperviseError } from '../src/core/errors.js';
import { sha256 } from '../src/core/hash.js';
import { type BottleQueue } from '../src/queue/bottle-queue.js';
import type { ResponseStatus } from '../src/kinds/response.js';
import { type NewProposal, type Proposal, type WaitOutcome } from '../src/queue/proposal.js';

/** How one upward proposal ended for its caller (the agent, git-gate, the egress DLP addon). */
export type ProposalResult =
  | {
      status: ResponseStatus;
      proposalId: string;
      kind: string;
      notes: string;
      /** The operator's version of the file, with `modified`. */
      finalPayload: string | null;
      responder: string;
      answeredAt: number;
      /** True when this call found an identical earlier proposal already decided, instead of asking anew. */
      earlier: boolean;
    }
  | { status: 'pending'; proposalId: string; kind: string; createdAt: number }
  | { status: 'expired'; proposalId: string; kind: string; expiredAt: number }
  | { status: 'cancelled'; proposalId: string; kind: string };

export interface WaitSettings {
  timeoutMs: number;
  /** Aborting ends the wait with `pending`; the proposal stays queued (shutdown, a cancelled call). */
  signal?: AbortSignal;
  /** Called once the proposal is committed (or an identical one found), before the wait starts. */
  onQueued?: (proposal: Proposal) => void;
}

/**
 * Expired and cancelled proposals keep their idempotency key, so asking the same thing again
 * moves to the next generation of the key. Past this many the caller is told to change something.
 */
const MAX_KEY_GENERATIONS = 50;

/**
 * The key an identical request maps to: same kind, payload and justification against the same
 * current file. A retried or repeated call therefore joins the pending proposal (or learns its
 * answer) instead of queueing a duplicate.
 */
export function idempotencyBase(origin: string, input: Pick<NewProposal, 'kind' | 'payload' | 'justification' | 'currentFileHash'>): string {
  return `${origin}:${sha256(JSON.stringify([input.kind, input.currentFileHash ?? null, input.payload, input.justification ?? '']))}`;
}

/** Enqueues (or joins the identical live proposal), waits for the answer, and archives it. */
export async function submitAndWait(queue: BottleQueue, input: NewProposal & { idempotencyBase: string }, wait: WaitSettings): Promise<ProposalResult> {
  const started = Date.now();
  const { idempotencyBase: base, ...proposal } = input;
  for (let generation = 1; generation <= MAX_KEY_GENERATIONS; generation++) {
    const written = await queue.writeProposal({ ...proposal, idempotencyKey: generation === 1 ? base : `${base}:${generation}` });
    if (written.state === 'expired' || written.state === 'cancelled') continue;
    return awaitDecision(queue, written, wait, written.createdAt < started);
  }
  throw new SuperviseError(
    'conflict',
    `this exact proposal was already made ${MAX_KEY_GENERATIONS} times and each expired or was cancelled; change the justification to ask again.`,
  );
}

/** Resumes waiting on a proposal made earlier by this bottle; never enqueues anything. */
export async function resumeWait(queue: BottleQueue, proposalId: string, wait: WaitSettings, expectedKind?: string): Promise<ProposalResult> {
  const proposal = queue.readProposal(proposalId);
  if (!proposal) {
    throw new SuperviseError('not-found', `no proposal ${JSON.stringify(proposalId)} for bottle "${queue.slug}". Use the proposal_id a pending result gave you, or submit the proposal again.`);
  }
  if (expectedKind !== undefined && proposal.kind !== expectedKind) {
    throw new SuperviseError('invalid-input', `proposal ${proposalId} is a ${proposal.kind} proposal, not ${expectedKind}; resume it with the tool or kind that made it.`);
  }
  if (proposal.target !== 'operator') {
    throw new SuperviseError('invalid-input', `proposal ${proposalId} is addressed to this sidecar (${proposal.kind}), not to the operator; there is nothing to wait for here.`);
  }
  return awaitDecision(queue, proposal, wait, false);
}

async function awaitDecision(queue: BottleQueue, proposal: Proposal, wait: WaitSettings, joined: boolean): Promise<ProposalResult> {
  wait.onQueued?.(proposal);
  const outcome: WaitOutcome = await queue.waitForResponse(proposal.id, { timeoutMs: wait.timeoutMs, ...(wait.signal ? { signal: wait.signal } : {}) });
  switch (outcome.outcome) {
    case 'answered': {
      // The consumer archives (DESIGN §3.3); a second consumer of the same answer finds it done.
      await queue.archiveProposal(proposal.id);
      const { response } = outcome;
      return {
        status: response.status,
        proposalId: proposal.id,
        kind: proposal.kind,
        notes: response.notes,
        finalPayload: response.finalPayload,
        responder: response.responder,
        answeredAt: response.createdAt,
        earlier: joined && proposal.state !== 'pending',
      };
    }
    case 'pending':
      return { status: 'pending', proposalId: proposal.id, kind: proposal.kind, createdAt: proposal.createdAt };
    case 'expired':
      return { status: 'expired', proposalId: proposal.id, kind: proposal.kind, expiredAt: outcome.proposal.updatedAt };
    case 'cancelled':
      return { status: 'cancelled', proposalId: proposal.id, kind: proposal.kind };
  }
}
