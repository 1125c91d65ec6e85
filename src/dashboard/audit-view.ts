import { canonicalAuditEntry, chainHash, type AuditEntry, type AuditFilter, type AuditVerification } from '../audit/audit-store.js';
import { safeLine } from '../core/safe-text.js';
import { SuperviseError } from '../core/errors.js';
import { validateSlug } from '../core/validation.js';
import type { AnswerVerification } from '../queue/answer-verification.js';
import type { AuditEntryView, AuditRowView, VerifyView } from './page/api-types.js';
import { diffView, safeLinesOf } from './view-lines.js';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const LABEL = /^[a-z][a-z0-9-]{0,47}$/;

/**
 * The audit filters the page sends as query parameters, checked as `audit list` checks its flags:
 * anything malformed is refused with what to send instead, never passed to SQL as is.
 */
export function auditFilterFrom(query: Record<string, string | undefined>): AuditFilter {
  const filter: AuditFilter = { order: 'desc', limit: DEFAULT_LIMIT };
  const text = (name: string): string | undefined => {
    const value = query[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const bottle = text('bottle');
  if (bottle !== undefined) filter.slug = validateSlug(bottle);
  for (const name of ['component', 'kind', 'status', 'action'] as const) {
    const value = text(name);
    if (value === undefined) continue;
    if (!LABEL.test(value)) throw new SuperviseError('invalid-input', `the ${name} filter ${JSON.stringify(safeLine(value))} is not a valid ${name}: lowercase letters, digits and '-', starting with a letter.`);
    filter[name] = value;
  }
  for (const name of ['since', 'until'] as const) {
    const value = text(name);
    if (value === undefined) continue;
    const time = Date.parse(value);
    if (Number.isNaN(time)) throw new SuperviseError('invalid-input', `the ${name} filter ${JSON.stringify(safeLine(value))} is not a date: use an ISO date like 2026-11-22 or 2026-11-22T10:00Z.`);
    filter[name] = time;
  }
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw new SuperviseError('invalid-input', '"since" is not before "until": nothing could match. Swap or widen them.');
  }
  const limit = text('limit');
  if (limit !== undefined) {
    const number = Number(limit);
    if (!/^\d+$/.test(limit) || number < 1 || number > MAX_LIMIT) throw new SuperviseError('invalid-input', `the limit must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(safeLine(limit))}.`);
    filter.limit = number;
  }
  return filter;
}

/** Entries quote what bottles sent, and sidecars write entries of their own: every cell display-safe. */
export function auditRowView(entry: AuditEntry): AuditRowView {
  return {
    seq: entry.seq,
    ts: entry.ts,
    slug: safeLine(entry.slug),
    component: safeLine(entry.component),
    action: safeLine(entry.action),
    kind: safeLine(entry.kind ?? '-'),
    status: safeLine(entry.status ?? '-'),
    actor: safeLine(entry.actor),
    notes: safeLine(entry.notes.split('\n', 1)[0] ?? ''),
  };
}

export function auditEntryView(entry: AuditEntry): AuditEntryView {
  return {
    ...auditRowView(entry),
    proposalId: safeLine(entry.proposalId ?? '-'),
    notesLines: entry.notes === '' ? [] : safeLinesOf(entry.notes),
    diff: diffView(entry.diff),
    prevHash: safeLine(entry.prevHash),
    hash: safeLine(entry.hash),
    contentsMatchHash: chainHash(entry.prevHash, canonicalAuditEntry(entry)) === entry.hash,
  };
}

export function verifyView(chain: AuditVerification, answers: AnswerVerification): VerifyView {
  return {
    ok: chain.ok && answers.problems.length === 0,
    chain: chain.ok ? { ok: true, count: chain.head.count, head: chain.head.hash } : { ok: false, firstBadSeq: chain.firstBad.seq, reason: safeLine(chain.firstBad.reason), validCount: chain.validPrefix.count },
    answersChecked: answers.checked,
    answerProblems: answers.problems.map((problem) => ({ proposalId: safeLine(problem.proposalId), slug: safeLine(problem.slug), reason: safeLine(problem.reason) })),
  };
}
