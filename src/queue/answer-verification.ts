import { PROGRESS_EVERY } from '../audit/audit-store.js';
import { sha256 } from '../core/hash.js';
import type { Keyring } from '../keys/keyring.js';
import type { Db } from '../storage/connection.js';
import { MAX_COLUMN_BYTES } from '../core/limits.js';
import { cachedStatement } from '../storage/statements.js';
import { textColumn } from '../storage/text-columns.js';
import { proposalFromRow, responseFromRow, type Proposal, type ProposalResponse, type ProposalRow, type ResponseRow } from './proposal.js';
import { responseSealTrusted, sealedResponseFields } from './proposal-seals.js';
import { boundedColumn, oversizedProposalAs, readableResponse } from './unreadable-rows.js';

/** One recorded answer that does not check out. */
export interface AnswerProblem {
  proposalId: string;
  slug: string;
  reason: string;
}

export interface AnswerVerification {
  /** Answers looked at: every response row, and every answered or archived proposal. */
  checked: number;
  /** Answers recorded before seals existed: no signature to check, but their decision entries match. */
  unsealed: number;
  problems: AnswerProblem[];
}

export interface VerifyAnswersOptions {
  /** Answers carried over by the legacy import have no decision entry of their own; they still need the host's signature. */
  isImported?: (proposalId: string) => boolean;
  /** Hears every PROGRESS_EVERY answers how many were checked out of how many there are. */
  onProgress?: (checked: number, total: number) => void;
}

interface DecisionRow {
  seq: number;
  slug: string;
  status: string | null;
  notes: string;
  actor: string;
  detail: string | null;
}

type AnswerRow = ProposalRow & { [K in keyof ResponseRow as `r_${K}`]: ResponseRow[K] | null };

/**
 * Checks every recorded answer against the two things that make it the rightful one: the decision
 * entry the answering transaction wrote (same status, responder, notes, and the same proposed and
 * final payload hashes) and the answerer's seal (the host's signature for an operator's answer, the
 * bottle's MAC or the host's signature for a sidecar's). A flipped, inserted or swapped answer
 * fails one or the other.
 *
 * Answers older than seals have none. They are accepted only when their decision entry is older
 * than the first entry that carries detail: from then on every decision is written with both, so
 * an unsealed answer with a detail-less entry appended later is a forgery, not history.
 */
export function verifyAnswers(db: Db, keyring: Keyring, options: VerifyAnswersOptions = {}): AnswerVerification {
  const sealsSince = (cachedStatement(db, 'SELECT min(seq) FROM audit_entries WHERE detail IS NOT NULL', { pluck: true }).get() as number | null) ?? Number.POSITIVE_INFINITY;
  const result: AnswerVerification = { checked: 0, unsealed: 0, problems: [] };
  const recorded = `FROM proposals p LEFT JOIN responses r ON r.proposal_id = p.id WHERE (p.state IN ('answered', 'archived') OR r.proposal_id IS NOT NULL)`;
  const unreadable = `NOT ${readableResponse('r')} OR ${oversizedProposalAs('p')}`;
  const answers = `${recorded} AND NOT (${unreadable})`;
  const { onProgress } = options;
  const total = onProgress ? (db.prepare(`SELECT count(*) ${answers}`).pluck().get() as number) : 0;
  const rows = db
    .prepare(
      `SELECT p.*, r.proposal_id AS r_proposal_id, r.status AS r_status, r.notes AS r_notes, r.final_payload AS r_final_payload,
              r.responder AS r_responder, r.created_at AS r_created_at, r.seal AS r_seal
       ${answers}
       ORDER BY p.seq`,
    )
    .iterate() as IterableIterator<AnswerRow>;
  for (const row of rows) {
    result.checked += 1;
    if (onProgress && result.checked % PROGRESS_EVERY === 0) onProgress(result.checked, total);
    const proposal = proposalFromRow(row);
    const problem = checkAnswer(db, keyring, proposal, responseOf(row), sealsSince, options.isImported?.(proposal.id) ?? false);
    if (problem === 'unsealed') result.unsealed += 1;
    else if (problem !== undefined) result.problems.push({ proposalId: proposal.id, slug: proposal.slug, reason: problem });
  }
  // Passed over above: only their small columns are read, to name them.
  const passedOver = db
    .prepare(`SELECT ${boundedColumn('p.id')}, ${boundedColumn('p.slug')} ${recorded} AND (${unreadable}) ORDER BY p.seq`)
    .all() as Array<{ id: string | null; slug: string | null }>;
  for (const row of passedOver) {
    result.checked += 1;
    result.problems.push({
      proposalId: row.id === null ? '(an id too big to read)' : textColumn(row.id),
      slug: row.slug === null ? '(a slug too big to read)' : textColumn(row.slug),
      reason: `the proposal or its answer holds a value over ${MAX_COLUMN_BYTES} bytes, more than any writer of the plane stores: written with raw SQL`,
    });
  }
  return result;
}

function responseOf(row: AnswerRow): ProposalResponse | undefined {
  if (row.r_proposal_id === null) return undefined;
  return responseFromRow({
    proposal_id: row.r_proposal_id,
    status: row.r_status as ResponseRow['status'],
    notes: row.r_notes ?? '',
    final_payload: row.r_final_payload,
    responder: row.r_responder ?? '',
    created_at: row.r_created_at ?? 0,
    seal: row.r_seal,
  });
}

/** Why the answer does not check out; `unsealed` for an answer that predates seals; undefined when it is sound. */
function checkAnswer(db: Db, keyring: Keyring, proposal: Proposal, response: ProposalResponse | undefined, sealsSince: number, imported: boolean): string | 'unsealed' | undefined {
  if (response === undefined) return `the proposal is ${proposal.state} but has no response row`;
  if (proposal.state !== 'answered' && proposal.state !== 'archived' && !imported) {
    return `a ${response.status} response exists for a proposal that is ${proposal.state}: something wrote it outside an answer`;
  }
  const sealed = response.seal !== null;
  const trusted = sealed && responseSealTrusted(proposal.target, keyring.checkResponse(sealedResponseFields(proposal, response), response.seal));
  const rightful = proposal.target === 'operator' ? "the host's signature" : "its bottle's or the host's seal";
  if (imported) return trusted ? undefined : `the imported answer does not carry ${rightful}`;
  const decisions = cachedStatement(db, `SELECT seq, slug, status, notes, actor, detail FROM audit_entries WHERE proposal_id = +? AND action = 'proposal-decision' ORDER BY seq`).all(
    proposal.id,
  ) as DecisionRow[];
  const decision = decisions.find((entry) => matchesDecision(entry, proposal, response));
  if (!decision) {
    return decisions.length === 0
      ? `the ${response.status} answer by ${response.responder} has no decision entry in the audit log`
      : `the ${response.status} answer by ${response.responder} does not match its decision entry (${decisions.map((d) => `${d.status ?? '?'} by ${d.actor}`).join(', ')})`;
  }
  if (trusted) return undefined;
  if (!sealed && decision.detail === null && decision.seq < sealsSince) return 'unsealed';
  return sealed ? `the ${response.status} answer's seal does not verify as ${rightful}: it was forged or altered` : `the ${response.status} answer carries no seal, but was recorded after seals were in use`;
}

function matchesDecision(entry: DecisionRow, proposal: Proposal, response: ProposalResponse): boolean {
  if (entry.slug !== proposal.slug || entry.status !== response.status || entry.actor !== response.responder || entry.notes !== response.notes) return false;
  if (entry.detail === null) return true;
  let detail: { proposedSha256?: unknown; finalSha256?: unknown };
  try {
    detail = JSON.parse(entry.detail) as typeof detail;
  } catch {
    return false;
  }
  return detail.proposedSha256 === sha256(proposal.payload) && detail.finalSha256 === sha256(response.finalPayload ?? proposal.payload);
}
