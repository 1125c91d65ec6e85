import { SuperviseError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { Target } from '../core/target.js';
import type { SidecarQueue } from './sidecar-view.js';
import type { NewProposal, Proposal, ProposalResponse } from './proposal.js';
import { responseSealTrusted } from './proposal-seals.js';

/** Which proposal a result is about. */
export interface ProposalRef {
  proposalId: string;
  slug: string;
  kind: string;
  target: Target;
}

/**
 * How one proposal ended for whoever asked (the agent, git-gate, the egress DLP addon, the host's
 * `propose`, the launcher). Only an answered proposal has been archived: its waiter consumed it.
 */
export type ProposalResult =
  | (ProposalRef & {
      status: ProposalResponse['status'];
      notes: string;
      /** The answerer's version of the file, with `modified`. */
      finalPayload: string | null;
      responder: string;
      answeredAt: number;
      /** True when this call found an identical earlier proposal already decided, instead of asking anew. */
      earlier: boolean;
    })
  | (ProposalRef & { status: 'pending'; createdAt: number; expiresAt: number | null; waitedMs: number })
  | (ProposalRef & { status: 'expired'; expiredAt: number })
  | (ProposalRef & { status: 'cancelled' });

export interface WaitSettings {
  timeoutMs: number;
  /** Aborting ends the wait with `pending`; the proposal stays queued (shutdown, a cancelled call, Ctrl-C). */
  signal?: AbortSignal;
  /** Called once the proposal is committed (or an identical one found), before the wait starts. */
  onQueued?: (proposal: Proposal) => void;
}

/**
 * How a repeated request finds the proposal it repeats, so it joins that one instead of queueing
 * a duplicate.
 */
export type Idempotency =
  /** The caller's own key, used as given: it always means that one proposal, whatever became of it. */
  | { key: string }
  /**
   * A key derived from the request (see `idempotencyBase`). Expired and cancelled proposals keep
   * their key, so asking again moves on to the key's next generation. An identical proposal whose
   * answer was already consumed is either reported as the earlier answer (`report`: a bottle
   * repeating itself learns it was decided) or asked anew (`ask-again`: the launcher applying the
   * same routes again means it, and the earlier answer may be stale).
   */
  | { base: string; earlierAnswer: 'report' | 'ask-again' };

export type ProposalRequest = Omit<NewProposal, 'idempotencyKey'> & {
  /** Without it every request is a new proposal. */
  idempotency?: Idempotency;
};

/** What a resumed wait must be waiting on; anything else is refused before waiting. */
export interface ResumeExpectation {
  kind?: string;
  target?: Target;
}

/**
 * A bottle could otherwise flood the operator with a proposal that keeps expiring; past this many
 * generations of one derived key the caller is told to change something. The launcher's
 * `ask-again` requests are trusted and not counted.
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

/** Enqueues (or joins the identical proposal), waits for the answer, and archives it once read. */
export async function askAndWait(queue: SidecarQueue, request: ProposalRequest, wait: WaitSettings): Promise<ProposalResult> {
  const started = Date.now();
  const proposal = await enqueue(queue, request);
  return awaitDecision(queue, proposal, wait, proposal.createdAt < started);
}

async function enqueue(queue: SidecarQueue, request: ProposalRequest): Promise<Proposal> {
  const { idempotency, ...proposal } = request;
  if (idempotency === undefined) return queue.writeProposal(proposal);
  if ('key' in idempotency) return queue.writeProposal({ ...proposal, idempotencyKey: idempotency.key });
  for (let generation = 1; ; generation++) {
    const written = await queue.writeProposal({ ...proposal, idempotencyKey: generation === 1 ? idempotency.base : `${idempotency.base}:${generation}` });
    if (!settledBeyondUse(written, idempotency.earlierAnswer)) return written;
    if (idempotency.earlierAnswer === 'report' && generation >= MAX_KEY_GENERATIONS) {
      throw new SuperviseError(
        'conflict',
        `this exact proposal was already made ${MAX_KEY_GENERATIONS} times and each expired or was cancelled; change the justification to ask again.`,
        { state: written.state },
      );
    }
  }
}

/** True when the proposal under this key can no longer give the request its answer. */
function settledBeyondUse(proposal: Proposal, earlierAnswer: 'report' | 'ask-again'): boolean {
  if (proposal.state === 'expired' || proposal.state === 'cancelled') return true;
  // An answer not yet archived is nobody's yet: a retry after a lost wait collects it.
  return earlierAnswer === 'ask-again' && proposal.state === 'archived';
}

/** Resumes waiting on a proposal made earlier for this bottle; never enqueues anything. */
export async function resumeWait(queue: SidecarQueue, proposalId: string, wait: WaitSettings, expected: ResumeExpectation = {}): Promise<ProposalResult> {
  const proposal = await queue.readProposal(proposalId);
  if (!proposal) {
    throw new SuperviseError('not-found', `no proposal ${JSON.stringify(proposalId)} for bottle "${queue.slug}". Use the id a pending result gave, or ask again.`);
  }
  if (expected.kind !== undefined && proposal.kind !== expected.kind) {
    throw new SuperviseError('invalid-input', `proposal ${proposalId} is a ${proposal.kind} proposal, not ${expected.kind}; resume it the way it was made (the same tool or kind).`);
  }
  if (expected.target !== undefined && proposal.target !== expected.target) {
    throw new SuperviseError('invalid-input', `proposal ${proposalId} (${proposal.kind}) is answered by the ${proposal.target}, not the ${expected.target}; there is nothing to wait for here.`);
  }
  return awaitDecision(queue, proposal, wait, false);
}

async function awaitDecision(queue: SidecarQueue, proposal: Proposal, wait: WaitSettings, joined: boolean): Promise<ProposalResult> {
  wait.onQueued?.(proposal);
  const ref: ProposalRef = { proposalId: proposal.id, slug: proposal.slug, kind: proposal.kind, target: proposal.target };
  const waitStarted = Date.now();
  const outcome = await queue.waitForResponse(proposal.id, { timeoutMs: wait.timeoutMs, ...(wait.signal ? { signal: wait.signal } : {}) });
  switch (outcome.outcome) {
    case 'answered': {
      const { response } = outcome;
      await assertAnsweredByRightful(queue, outcome.proposal, response);
      // The waiter is the consumer, so it archives; a second consumer of the same answer finds it done.
      await queue.archiveProposal(proposal.id);
      return {
        ...ref,
        status: response.status,
        notes: response.notes,
        finalPayload: response.finalPayload,
        responder: response.responder,
        answeredAt: response.createdAt,
        earlier: joined && proposal.state !== 'pending',
      };
    }
    case 'pending':
      return { ...ref, status: 'pending', createdAt: proposal.createdAt, expiresAt: outcome.proposal.expiresAt, waitedMs: Date.now() - waitStarted };
    case 'expired':
      return { ...ref, status: 'expired', expiredAt: outcome.proposal.updatedAt };
    case 'cancelled':
      return { ...ref, status: 'cancelled' };
  }
}

/**
 * Nothing is acted on unless its answerer's seal verifies: the host's signature for an operator's
 * answer, so no bottle (this one or another, through raw SQL) can approve anything. A forged answer
 * is audited and reported as an error, never as a decision, and stays unarchived as evidence.
 */
async function assertAnsweredByRightful(queue: SidecarQueue, proposal: Proposal, response: ProposalResponse): Promise<void> {
  if (responseSealTrusted(proposal.target, queue.responseSeal(proposal, response))) return;
  await queue.auditForged(proposal, 'response');
  const rightful = proposal.target === 'operator' ? "the host's signature" : "its bottle's or the host's seal";
  throw new SuperviseError(
    'forged',
    `the answer to proposal ${proposal.id} (${proposal.kind}) is FORGED: it says ${JSON.stringify(response.status)} but does not carry ${rightful}, so something with raw access to the database wrote or changed it. Nothing was applied; it is recorded in the audit log (action forged-row). Tell the operator, and ask again once they have looked at it.`,
    { state: proposal.state },
  );
}
