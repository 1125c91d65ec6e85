import type { ProposalResult } from './proposal-flow.js';

/** How the caller resumes a pending proposal: the MCP tool call or the CLI flags to use. */
export type ResumeHint = (proposalId: string) => string;

const iso = (ms: number): string => new Date(ms).toISOString();

/** One human-readable paragraph for a proposal's outcome, shared by the MCP tools and `propose`. */
export function describeResult(result: ProposalResult, waitedMs: number, resumeHint: ResumeHint): string {
  const id = result.proposalId;
  switch (result.status) {
    case 'approved':
    case 'modified':
    case 'rejected': {
      const verb = result.status === 'approved' ? 'approved' : result.status === 'modified' ? 'approved a modified version of' : 'rejected';
      const when = result.earlier ? ` This identical proposal was already answered at ${iso(result.answeredAt)}; to ask again, change the justification (say what changed).` : '';
      const notes = result.notes.trim() === '' ? ' No notes were given.' : ` Notes: ${result.notes}`;
      return `The operator ${verb} ${result.kind} proposal ${id}.${notes}${when}`;
    }
    case 'pending':
      return (
        `No decision yet: ${result.kind} proposal ${id} is still pending with the operator after waiting ${Math.round(waitedMs / 1000)} s. ` +
        `It stays queued and the operator can still answer it. To keep waiting, ${resumeHint(id)}; do not submit it again.`
      );
    case 'expired':
      return `${result.kind} proposal ${id} expired unanswered at ${iso(result.expiredAt)}; the operator never decided it. Submit it again if it is still needed.`;
    case 'cancelled':
      return `${result.kind} proposal ${id} was cancelled before the operator answered it. Submit it again if it is still needed.`;
  }
}
