import { SuperviseError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { validateTextSize } from '../core/validation.js';
import type { SealVerdict } from '../keys/keyring.js';
import type { KindDefinition } from '../kinds/kind.js';
import type { NewProposal, Proposal, ProposalRow, ReviewedProposal } from './proposal.js';

/* The checks a proposal and an answer to it pass before the store writes them, and what a decision records. */

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function checkCurrentFile(input: NewProposal): string | null {
  if (input.currentFile !== undefined) {
    validateTextSize(input.currentFile, MAX_PAYLOAD_BYTES, 'current file');
    const hash = sha256(input.currentFile);
    if (input.currentFileHash !== undefined && input.currentFileHash !== hash) {
      throw new SuperviseError('invalid-input', 'currentFileHash does not match the sha256 of currentFile; send one or make them agree.');
    }
    return hash;
  }
  if (input.currentFileHash !== undefined && !SHA256_HEX.test(input.currentFileHash)) {
    throw new SuperviseError('invalid-input', 'currentFileHash must be 64 lowercase hex characters (sha256).');
  }
  return input.currentFileHash ?? null;
}

/** A retried enqueue must be the same request; reusing a key for something else is a caller bug. */
export function sameRequest(existing: ProposalRow, attempt: Omit<ProposalRow, 'seq' | 'state'>): ProposalRow {
  if (existing.kind !== attempt.kind || existing.payload !== attempt.payload || existing.justification !== attempt.justification) {
    throw new SuperviseError(
      'conflict',
      `idempotency key ${JSON.stringify(attempt.idempotency_key)} was already used for a different ${existing.kind} proposal (${existing.id}) in bottle "${existing.slug}". Use a new key for a new proposal.`,
      { state: existing.state },
    );
  }
  return existing;
}

export function checkReviewed(reviewed: ReviewedProposal): ReviewedProposal {
  if (!SHA256_HEX.test(reviewed.payloadSha256)) {
    throw new SuperviseError('usage', `the reviewed payload hash ${JSON.stringify(reviewed.payloadSha256)} is not a sha256: give the 64 hex characters \`bot-bottle supervise --once\` printed.`);
  }
  if (reviewed.currentFileHash !== undefined && reviewed.currentFileHash !== null && !SHA256_HEX.test(reviewed.currentFileHash)) {
    throw new SuperviseError('usage', `the reviewed current-file hash ${JSON.stringify(reviewed.currentFileHash)} is not a sha256.`);
  }
  return { ...reviewed, payloadSha256: reviewed.payloadSha256.toLowerCase() };
}

/** The row as it is now against what the operator was shown; compared inside the answering transaction. */
export function assertAsReviewed(current: Proposal, reviewed: ReviewedProposal): void {
  const now = sha256(current.payload);
  const changed: string[] = [];
  if (now !== reviewed.payloadSha256) changed.push(`its payload's sha256 is now ${now}, not the reviewed ${reviewed.payloadSha256}`);
  if (reviewed.currentFileHash !== undefined && current.currentFileHash !== reviewed.currentFileHash) {
    changed.push(`the file it replaces is now ${current.currentFileHash ?? 'none'}, not the reviewed ${reviewed.currentFileHash ?? 'none'}`);
  }
  if (changed.length > 0) {
    throw new SuperviseError(
      'changed-since-review',
      `proposal ${current.id} (${current.kind}, bottle "${current.slug}") changed since it was reviewed: ${changed.join('; ')}. Nothing was written; review it again (bot-bottle supervise) before answering.`,
      { state: current.state },
    );
  }
}

/** The current file is stored beside its hash; if they disagree, the diff the operator saw was not against the file the proposal names. */
export function assertConsistentCurrentFile(current: Proposal): void {
  if (current.currentFile !== null && current.currentFileHash !== null && sha256(current.currentFile) !== current.currentFileHash) {
    throw new SuperviseError(
      'changed-since-review',
      `proposal ${current.id} (${current.kind}, bottle "${current.slug}") shows a current file whose sha256 is not the current_file_hash it names: the row was altered. Nothing was written; reject it and ask its bottle to propose again.`,
      { state: current.state },
    );
  }
}

export function forgedProposalError(current: Proposal): SuperviseError {
  return new SuperviseError(
    'forged',
    `proposal ${current.id} (${current.kind}, bottle "${current.slug}") is FORGED: its seal does not verify, so neither its bottle nor the host wrote it as it stands. It cannot be approved or modified; reject it. The forgery is recorded in the audit log (action forged-row).`,
    { state: current.state },
  );
}

/**
 * What a decision entry records beyond its diff (current → final): the hashes of what was proposed,
 * what was decided and the file it replaces, whose seal the proposal carried, what the operator
 * bound the answer to, and on a modify both halves of the change, so the agent's request is never
 * lost from the log. `audit verify` matches answers against it.
 */
export function decisionDetail(
  kind: KindDefinition,
  proposal: Proposal,
  finalPayload: string | null,
  proposalSeal: SealVerdict,
  reviewed: ReviewedProposal | undefined,
): Record<string, unknown> {
  return {
    proposedSha256: sha256(proposal.payload),
    finalSha256: sha256(finalPayload ?? proposal.payload),
    currentFileHash: proposal.currentFileHash,
    proposalSeal,
    reviewedSha256: reviewed?.payloadSha256 ?? null,
    // Which recorded definition of a launcher's kind the answer was checked against.
    ...(kind.definitionSha256 !== undefined ? { kindDefinitionSha256: kind.definitionSha256 } : {}),
    ...(finalPayload !== null
      ? { currentToProposedDiff: kind.diff(proposal.currentFile ?? '', proposal.payload), proposedToFinalDiff: kind.diff(proposal.payload, finalPayload) }
      : {}),
  };
}
