import type { Target } from '../core/target.js';
import type { ResponseStatus } from '../kinds/response.js';
import { textColumn, textColumnOrNull } from '../storage/text-columns.js';

export type ProposalState = 'pending' | 'answered' | 'archived' | 'expired' | 'cancelled';

export interface Proposal {
  id: string;
  seq: number;
  slug: string;
  kind: string;
  origin: string;
  target: Target;
  payload: string;
  justification: string;
  currentFile: string | null;
  currentFileHash: string | null;
  idempotencyKey: string | null;
  state: ProposalState;
  createdAt: number;
  expiresAt: number | null;
  updatedAt: number;
  /** Its writer's seal (`mac:` from its bottle, `sig:` from the host); null when written without one. Check it with the store's `proposalSeal`. */
  seal: string | null;
}

/**
 * A pending proposal as a list shows it: everything but the payload and the current file (the
 * detail view reads those), with the payload's sha256, computed by this process from the stored
 * payload when the row was read, for its seal check.
 */
export interface ProposalSummary extends Pick<Proposal, 'id' | 'seq' | 'slug' | 'kind' | 'origin' | 'target' | 'justification' | 'currentFileHash' | 'createdAt' | 'expiresAt' | 'seal'> {
  payloadSha256: string;
}

export interface ProposalResponse {
  proposalId: string;
  status: ResponseStatus;
  notes: string;
  finalPayload: string | null;
  responder: string;
  createdAt: number;
  /** Its writer's seal; an operator's answer counts only when it is the host's signature (the store's `responseSeal`). */
  seal: string | null;
}

export interface NewProposal {
  kind: string;
  payload: string;
  /** Who asks: `agent`, `git-gate`, `egress`, `host`… */
  origin: string;
  justification?: string;
  /** Defaults to the kind's target. */
  target?: Target;
  /** The file this proposal replaces, when the proposer knows it; the operator sees the diff against it. */
  currentFile?: string;
  /** sha256 hex of the replaced file; derived from `currentFile` when that is given. */
  currentFileHash?: string;
  /** Unique per slug: enqueueing again with the same key returns the first proposal. */
  idempotencyKey?: string;
  /** Milliseconds until the proposal expires; `null` never expires. Default one day. */
  ttlMs?: number | null;
}

export type WaitOutcome =
  | { outcome: 'answered'; proposal: Proposal; response: ProposalResponse }
  | { outcome: 'pending'; proposalId: string; proposal: Proposal }
  | { outcome: 'expired'; proposal: Proposal }
  | { outcome: 'cancelled'; proposal: Proposal };

export interface WaitOptions {
  timeoutMs: number;
  /** Aborting resolves the wait as `pending`: the proposal stays queued for a later wait. */
  signal?: AbortSignal;
}

export interface ListPendingOptions {
  target?: Target;
  slug?: string;
  limit?: number;
}

export interface ProposalRow {
  seq: number;
  id: string;
  slug: string;
  kind: string;
  origin: string;
  target: Target;
  payload: string;
  justification: string;
  current_file: string | null;
  current_file_hash: string | null;
  idempotency_key: string | null;
  state: ProposalState;
  created_at: number;
  expires_at: number | null;
  updated_at: number;
  seal: string | null;
}

export interface ResponseRow {
  proposal_id: string;
  status: ResponseStatus;
  notes: string;
  final_payload: string | null;
  responder: string;
  created_at: number;
  seal: string | null;
}

export function proposalFromRow(row: ProposalRow): Proposal {
  return {
    id: textColumn(row.id),
    seq: row.seq,
    slug: textColumn(row.slug),
    kind: textColumn(row.kind),
    origin: textColumn(row.origin),
    target: row.target,
    payload: textColumn(row.payload),
    justification: textColumn(row.justification),
    currentFile: textColumnOrNull(row.current_file),
    currentFileHash: textColumnOrNull(row.current_file_hash),
    idempotencyKey: textColumnOrNull(row.idempotency_key),
    state: row.state,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    updatedAt: row.updated_at,
    seal: textColumnOrNull(row.seal),
  };
}

export function responseFromRow(row: ResponseRow): ProposalResponse {
  return {
    proposalId: textColumn(row.proposal_id),
    status: row.status,
    notes: textColumn(row.notes),
    finalPayload: textColumnOrNull(row.final_payload),
    responder: textColumn(row.responder),
    createdAt: row.created_at,
    seal: textColumnOrNull(row.seal),
  };
}

/**
 * What the operator was shown, carried with the answer: it is refused when the row no longer
 * matches, so a decision always binds what was reviewed.
 */
export interface ReviewedProposal {
  /** sha256 of the payload that was displayed (`supervise --once` prints it). */
  payloadSha256: string;
  /** The current-file hash the displayed diff was against (null: none); undefined leaves it unchecked. */
  currentFileHash?: string | null;
}
