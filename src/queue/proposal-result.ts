import { PROPOSE_EXIT } from '../core/exit-codes.js';
import { isoTime } from '../core/time.js';
import type { ProposalResult } from './proposal-flow.js';

/** What the caller can do next, in the terms of the command or tool it used. */
export interface NextSteps {
  /** How to keep waiting on a pending proposal, e.g. `call egress-allow again with {"proposal_id": "…"}`. */
  resume: (proposalId: string) => string;
  /** What to change to ask anew instead of being given an identical earlier proposal's answer. */
  askAgain: string;
}

/** One paragraph for an agent (the MCP tools' text): what was decided and what to do next. */
export function describeForAgent(result: ProposalResult, next: NextSteps): string {
  const id = result.proposalId;
  switch (result.status) {
    case 'approved':
    case 'modified':
    case 'rejected': {
      const verb = result.status === 'approved' ? 'approved' : result.status === 'modified' ? 'approved a modified version of' : 'rejected';
      const when = result.earlier ? ` This identical proposal was already answered at ${isoTime(result.answeredAt)}; to ask again, ${next.askAgain}.` : '';
      const notes = result.notes.trim() === '' ? ' No notes were given.' : ` Notes: ${result.notes}`;
      return `The operator ${verb} ${result.kind} proposal ${id}.${notes}${when}`;
    }
    case 'pending':
      return (
        `No decision yet: ${result.kind} proposal ${id} is still pending with the operator after waiting ${Math.round(result.waitedMs / 1000)} s. ` +
        `It stays queued and the operator can still answer it. To keep waiting, ${next.resume(id)}; do not submit it again.`
      );
    case 'expired':
      return `${result.kind} proposal ${id} expired unanswered at ${isoTime(result.expiredAt)}; the operator never decided it. Submit it again if it is still needed.`;
    case 'cancelled':
      return `${result.kind} proposal ${id} was cancelled before the operator answered it. Submit it again if it is still needed.`;
  }
}

/** What a `propose` command prints for a result, and the exit code that says the outcome. */
export interface ShellReport {
  /** For people, on stderr. */
  summary: string;
  /** For scripts, on stdout: the notes once answered, the id while pending, nothing otherwise. */
  stdout: string;
  /** The `--json` object. */
  json: Record<string, unknown>;
  exitCode: number;
}

const EXIT_FOR_STATUS: Record<ProposalResult['status'], number> = {
  approved: PROPOSE_EXIT.approved,
  modified: PROPOSE_EXIT.approved,
  rejected: PROPOSE_EXIT.rejected,
  pending: PROPOSE_EXIT.pending,
  expired: PROPOSE_EXIT.expired,
  cancelled: PROPOSE_EXIT.cancelled,
};

/** Both `propose` commands (the host's and the sidecar's) report through this, so scripts read them alike. */
export function reportForShell(result: ProposalResult, next: NextSteps): ShellReport {
  const { proposalId: id, slug, kind, target } = result;
  const ref = { proposalId: id, slug, kind, target };
  const named = `Proposal ${id} (${kind}, bottle "${slug}")`;
  const exitCode = EXIT_FOR_STATUS[result.status];
  switch (result.status) {
    case 'approved':
    case 'modified':
    case 'rejected': {
      const when = result.earlier ? ` at ${isoTime(result.answeredAt)}, before this request (an identical proposal; to ask again, ${next.askAgain})` : '';
      return {
        summary: `${named} was ${result.status} by ${result.responder}${when}${result.notes ? `: ${result.notes}` : '.'}`,
        stdout: result.notes === '' ? '' : `${result.notes.replace(/\n$/, '')}\n`,
        json: { ...ref, status: result.status, notes: result.notes, finalPayload: result.finalPayload, responder: result.responder, answeredAt: isoTime(result.answeredAt) },
        exitCode,
      };
    }
    case 'pending':
      return {
        summary: `${named} is pending. Wait again with: ${next.resume(id)}`,
        stdout: `${id}\n`,
        json: { ...ref, status: 'pending', expiresAt: result.expiresAt === null ? null : isoTime(result.expiresAt) },
        exitCode,
      };
    case 'expired':
      return { summary: `Proposal ${id} expired unanswered; nobody decided it.`, stdout: '', json: { ...ref, status: 'expired' }, exitCode };
    case 'cancelled':
      return { summary: `Proposal ${id} was cancelled before anyone answered it.`, stdout: '', json: { ...ref, status: 'cancelled' }, exitCode };
  }
}
