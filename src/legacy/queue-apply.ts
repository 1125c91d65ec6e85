import type { ProposalState } from '../queue/proposal.js';
import type { Parsed, ParsedGroup } from './queue-groups.js';
import type { QueueFile } from './queue-scan.js';
import { proposalIdFor, type LegacyProposal, type LegacyResponse } from './shapes.js';
import type { Outcome, UnitKind } from './summary.js';
import type { ImportTarget } from './target.js';

function sameResponse(a: LegacyResponse, b: LegacyResponse): boolean {
  return a.status === b.status && a.notes === b.notes && a.finalPayload === b.finalPayload;
}

/**
 * Decides what becomes of each file of one proposal's group and writes it to `target`, inside the
 * batch's transaction: what is new is imported, what an earlier run took is recognized, and what
 * contradicts the database or its own group is malformed, with the reason.
 */
export function applyGroup(target: ImportTarget, parsed: ParsedGroup, knownKinds: ReadonlySet<string>): Outcome[] {
  const outcomes: Outcome[] = [];
  const bad = (unit: UnitKind, file: QueueFile, reason: string): void => void outcomes.push({ unit, result: 'malformed', path: file.rel, reason });
  const inProcessed = parsed.group.files.some((f) => f.processed);

  const proposals = parsed.proposals.filter((p) => p.value !== undefined) as Array<Required<Parsed<LegacyProposal>>>;
  for (const p of parsed.proposals) if (p.value === undefined) bad('proposals', p.file, p.reason ?? 'malformed');
  const validResponses = parsed.responses.filter((r) => r.value !== undefined) as Array<Required<Parsed<LegacyResponse>>>;
  for (const r of parsed.responses) if (r.value === undefined) bad('responses', r.file, r.reason ?? 'malformed');

  let primary = proposals[0];
  let insertedNow = false;
  for (const copy of proposals.slice(1)) {
    if (copy.value.id === primary?.value.id) outcomes.push({ unit: 'proposals', result: 'alreadyPresent', path: copy.file.rel });
    else bad('proposals', copy.file, `it shares its file name with ${primary?.file.rel} but has another id (${copy.value.legacyId})`);
  }
  if (primary) {
    const existing = target.proposal(primary.value.id);
    if (existing && existing.slug !== primary.value.slug) {
      bad('proposals', primary.file, `its id ${primary.value.id} already belongs to a proposal of bottle "${existing.slug}"`);
      primary = undefined;
    } else if (existing) {
      outcomes.push({ unit: 'proposals', result: 'alreadyPresent', path: primary.file.rel });
    } else {
      // Without an answer it is pending again, unless it was archived unanswered or its kind no longer exists.
      const state: ProposalState = validResponses.length > 0 || (!inProcessed && knownKinds.has(primary.value.kind)) ? 'pending' : 'expired';
      target.insertProposal(primary.value, state, { key: `proposal:${primary.value.id}`, kind: 'proposal', path: primary.file.rel });
      outcomes.push({ unit: 'proposals', result: 'imported', path: primary.file.rel });
      insertedNow = true;
    }
  }

  const [answer, ...copies] = validResponses;
  if (!answer) return outcomes;
  const proposalId = primary?.value.id ?? proposalIdFor(parsed.group.slug, parsed.group.stem);
  for (const copy of copies) {
    if (sameResponse(copy.value, answer.value)) outcomes.push({ unit: 'responses', result: 'alreadyPresent', path: copy.file.rel });
    else bad('responses', copy.file, `a second, different response to the same proposal (only ${answer.file.rel} was taken)`);
  }
  const named = answer.value.legacyProposalId;
  const facts = target.proposal(proposalId);
  if (named !== null && proposalIdFor(parsed.group.slug, named) !== proposalId) {
    bad('responses', answer.file, `it answers proposal ${named}, not the proposal its file name belongs to (${parsed.group.stem})`);
  } else if (!facts || facts.slug !== parsed.group.slug) {
    bad('responses', answer.file, `no proposal for this response: expected ${parsed.group.stem}.json beside it or in processed/`);
  } else if (target.hasResponse(parsed.group.slug, proposalId)) {
    outcomes.push({ unit: 'responses', result: 'alreadyPresent', path: answer.file.rel });
  } else if (facts.state !== 'pending') {
    bad('responses', answer.file, `its proposal is ${facts.state} in the database, so this answer was not imported`);
  } else {
    target.answer({ id: proposalId, slug: parsed.group.slug }, answer.value, inProcessed ? 'archived' : 'answered', !insertedNow, { key: `response:${proposalId}`, kind: 'response', path: answer.file.rel });
    outcomes.push({ unit: 'responses', result: 'imported', path: answer.file.rel });
  }
  return outcomes;
}
