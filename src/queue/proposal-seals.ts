import type { SealVerdict } from '../keys/keyring.js';
import type { SealedProposalFields, SealedResponseFields } from '../keys/seals.js';
import type { Target } from '../core/target.js';
import type { Proposal, ProposalResponse } from './proposal.js';

/**
 * Which seals a row needs before anyone acts on it. A proposal to the operator may come from its
 * bottle (MAC) or from the host (the launcher's `propose`); a proposal to a sidecar only from the
 * host, since a bottle must not be able to give its own sidecar orders. An answer to the operator's
 * proposal counts only with the host's signature: no bottle can approve anything. A sidecar's
 * answer to a downward proposal carries its bottle's MAC (or the host's signature, when the host
 * answered in its place).
 */
export function proposalSealTrusted(target: Target, verdict: SealVerdict): boolean {
  return target === 'operator' ? verdict !== 'forged' : verdict === 'host';
}

export function responseSealTrusted(target: Target, verdict: SealVerdict): boolean {
  return target === 'operator' ? verdict === 'host' : verdict !== 'forged';
}

/** A proposal row's sealed fields, as written (the row, not what anyone was told about it). */
export function sealedProposalFields(proposal: Pick<Proposal, 'id' | 'slug' | 'kind' | 'origin' | 'target' | 'payload' | 'currentFileHash' | 'justification'>): SealedProposalFields {
  return {
    id: proposal.id,
    slug: proposal.slug,
    kind: proposal.kind,
    origin: proposal.origin,
    target: proposal.target,
    payload: proposal.payload,
    currentFileHash: proposal.currentFileHash,
    justification: proposal.justification,
  };
}

/** An answer's sealed fields: the answer itself and what it answers (the proposal's payload and current-file hash). */
export function sealedResponseFields(
  proposal: Pick<Proposal, 'id' | 'slug' | 'kind' | 'payload' | 'currentFileHash'>,
  response: Pick<ProposalResponse, 'status' | 'finalPayload' | 'notes' | 'responder'>,
): SealedResponseFields {
  return {
    proposalId: proposal.id,
    slug: proposal.slug,
    kind: proposal.kind,
    payload: proposal.payload,
    currentFileHash: proposal.currentFileHash,
    status: response.status,
    finalPayload: response.finalPayload,
    notes: response.notes,
    responder: response.responder,
  };
}
