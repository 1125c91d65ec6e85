// How a proposal's outcome is said: to an agent (the MCP tools' text) and to a shell (both propose
// commands: the stderr line, what stdout carries, the --json object and the exit code).
import { describe, expect, it } from 'vitest';
import { PROPOSE_EXIT } from '../src/core/exit-codes.js';
import type { ProposalRef, ProposalResult } from '../src/queue/proposal-flow.js';
import { describeForAgent, reportForShell, type NextSteps } from '../src/queue/proposal-result.js';

const ID = '0b7e5a3c-1d2f-4a5b-8c9d-0e1f2a3b4c5d';
const REF: ProposalRef = { proposalId: ID, slug: 'acme', kind: 'egress-allow', target: 'operator' };
const AT = Date.UTC(2026, 10, 22, 10, 0, 0);
const NEXT: NextSteps = { resume: (id) => `resume ${id}`, askAgain: 'change the justification' };

type Answered = Extract<ProposalResult, { earlier: boolean }>;
const answered = (overrides: Partial<Answered> = {}): Answered => ({
  ...REF,
  status: 'approved',
  notes: 'fine for acme',
  finalPayload: null,
  responder: 'operator',
  answeredAt: AT,
  earlier: false,
  ...overrides,
});
const pending: Extract<ProposalResult, { status: 'pending' }> = { ...REF, status: 'pending', createdAt: AT, expiresAt: AT + 86_400_000, waitedMs: 30_000 };
const expired: ProposalResult = { ...REF, status: 'expired', expiredAt: AT };
const cancelled: ProposalResult = { ...REF, status: 'cancelled' };

describe('describeForAgent', () => {
  it('says the decision and the notes, and when an earlier identical proposal was answered, how to ask again', () => {
    expect(describeForAgent(answered(), NEXT)).toBe(`The operator approved egress-allow proposal ${ID}. Notes: fine for acme`);
    expect(describeForAgent(answered({ status: 'rejected' }), NEXT)).toContain(`rejected egress-allow proposal ${ID}`);
    expect(describeForAgent(answered({ notes: '', earlier: true }), NEXT)).toBe(
      `The operator approved egress-allow proposal ${ID}. No notes were given. This identical proposal was already answered at 2026-11-22T10:00:00.000Z; to ask again, change the justification.`,
    );
  });

  it('tells a pending caller how long it waited and how to resume, and never to submit again', () => {
    const text = describeForAgent(pending, NEXT);
    expect(text).toContain('still pending with the operator after waiting 30 s');
    expect(text).toContain(`To keep waiting, resume ${ID}; do not submit it again.`);
  });

  it('never reports an expired or cancelled proposal as a decision', () => {
    expect(describeForAgent(expired, NEXT)).toBe(`egress-allow proposal ${ID} expired unanswered at 2026-11-22T10:00:00.000Z; the operator never decided it. Submit it again if it is still needed.`);
    expect(describeForAgent(cancelled, NEXT)).toContain('was cancelled before the operator answered it');
  });
});

describe('reportForShell', () => {
  it('answered: the notes on stdout, the decision on stderr, the exit code says approved or rejected', () => {
    expect(reportForShell(answered(), NEXT)).toEqual({
      summary: `Proposal ${ID} (egress-allow, bottle "acme") was approved by operator: fine for acme`,
      stdout: 'fine for acme\n',
      json: { ...REF, status: 'approved', notes: 'fine for acme', finalPayload: null, responder: 'operator', answeredAt: '2026-11-22T10:00:00.000Z' },
      exitCode: PROPOSE_EXIT.approved,
    });
    expect(reportForShell(answered({ status: 'modified', finalPayload: 'routes: []\n', notes: 'narrowed\n' }), NEXT)).toMatchObject({ stdout: 'narrowed\n', exitCode: PROPOSE_EXIT.approved });
    expect(reportForShell(answered({ status: 'rejected', notes: '' }), NEXT)).toMatchObject({
      summary: `Proposal ${ID} (egress-allow, bottle "acme") was rejected by operator.`,
      stdout: '',
      exitCode: PROPOSE_EXIT.rejected,
    });
    expect(reportForShell(answered({ earlier: true }), NEXT).summary).toBe(
      `Proposal ${ID} (egress-allow, bottle "acme") was approved by operator at 2026-11-22T10:00:00.000Z, before this request (an identical proposal; to ask again, change the justification): fine for acme`,
    );
  });

  it('pending: the id on stdout for the next call, and how to wait again', () => {
    expect(reportForShell(pending, NEXT)).toEqual({
      summary: `Proposal ${ID} (egress-allow, bottle "acme") is pending. Wait again with: resume ${ID}`,
      stdout: `${ID}\n`,
      json: { ...REF, status: 'pending', expiresAt: '2026-11-23T10:00:00.000Z' },
      exitCode: PROPOSE_EXIT.pending,
    });
    expect(reportForShell({ ...pending, expiresAt: null }, NEXT).json.expiresAt).toBeNull();
  });

  it('expired and cancelled: nothing on stdout, their own exit codes', () => {
    expect(reportForShell(expired, NEXT)).toEqual({ summary: `Proposal ${ID} expired unanswered; nobody decided it.`, stdout: '', json: { ...REF, status: 'expired' }, exitCode: PROPOSE_EXIT.expired });
    expect(reportForShell(cancelled, NEXT)).toEqual({
      summary: `Proposal ${ID} was cancelled before anyone answered it.`,
      stdout: '',
      json: { ...REF, status: 'cancelled' },
      exitCode: PROPOSE_EXIT.cancelled,
    });
  });
});
