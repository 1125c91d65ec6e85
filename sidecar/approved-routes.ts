import { LIVE_ROUTES_KINDS } from '../src/bottles/staleness.js';
import type { SidecarQueue } from '../src/queue/sidecar-view.js';
import type { Proposal } from '../src/queue/proposal.js';
import type { ProposalResult } from '../src/queue/proposal-flow.js';
import { conflictList, type ApplyOutcome, type ApprovedRoutes, type LiveRoutesFile } from './live-routes.js';

/** What a proposal was made against, as the apply rule needs it. */
export function baseOf(proposal: Pick<Proposal, 'currentFileHash' | 'currentFile'>): ApprovedRoutes['base'] {
  return proposal.currentFileHash === null ? undefined : { hash: proposal.currentFileHash, text: proposal.currentFile };
}

/**
 * Applies an approved (or modified) routes proposal to the live file this sidecar manages.
 * Undefined when there is nothing to apply: another answer or kind, or no live file configured.
 */
export async function applyIfApproved(result: ProposalResult, queue: SidecarQueue, live: LiveRoutesFile | undefined, signal?: AbortSignal): Promise<ApplyOutcome | undefined> {
  if (!live || (result.status !== 'approved' && result.status !== 'modified') || !LIVE_ROUTES_KINDS.has(result.kind)) return undefined;
  const proposal = await queue.readProposal(result.proposalId);
  if (!proposal) return { outcome: 'failed', reason: `proposal ${result.proposalId} is no longer in the database, so what it was proposed against is unknown; nothing was applied.` };
  const approved = result.status === 'modified' && result.finalPayload !== null ? result.finalPayload : proposal.payload;
  try {
    return await live.apply({ proposalId: proposal.id, kind: proposal.kind, base: baseOf(proposal), approved }, signal);
  } catch (error) {
    if (!signal?.aborted) throw error;
    // The answer stays in the database: asking again by id collects it and applies it then.
    return { outcome: 'failed', reason: `the sidecar shut down while applying it, so the live file was left as it was. Ask again with proposal_id ${proposal.id} to apply it.` };
  }
}

/** How an apply ended, for whoever asked: one sentence, and the fields a script or an agent reads. */
export interface AppliedReport {
  /** Appended to the decision's own description. */
  sentence: string;
  /** `stale` replaces the answer's status: nothing the operator approved was applied. */
  stale: boolean;
  /** The live file now, when it is not the file that was approved (a merge). */
  mergedFile: string | undefined;
  error: string | undefined;
}

export function reportApplied(outcome: ApplyOutcome): AppliedReport {
  const none = { stale: false, mergedFile: undefined, error: undefined };
  switch (outcome.outcome) {
    case 'replaced':
      return { ...none, sentence: `It is now the live routes file (sha256=${outcome.applied.sha256}${outcome.applied.reloaded ? ', proxy reloaded' : ''}).` };
    case 'already-live':
      return { ...none, sentence: `The live routes file already holds it (sha256=${outcome.sha256}); nothing was written.` };
    case 'merged':
      return {
        ...none,
        mergedFile: outcome.yaml,
        sentence:
          `The live routes file had changed since the proposal was made, so the approved change was merged into it route by route (nothing conflicted) ` +
          `and the merged file applied (sha256=${outcome.applied.sha256}). The merged file is what is live now.`,
      };
    case 'stale':
      return {
        ...none,
        stale: true,
        sentence:
          `Stale: propose again. ${capitalised(outcome.reason)}; nothing was applied.${conflictList(outcome.conflicts)} ` +
          'Read the live routes (list-egress-routes) and propose the change against them.',
      };
    case 'failed':
      return { ...none, error: outcome.reason, sentence: `But it could not be applied: ${outcome.reason} The live routes file is unchanged.` };
  }
}

/** The downward `egress-routes-apply` answer: approved with what was applied, or rejected with why not. */
export function downwardAnswerFor(outcome: ApplyOutcome): { status: 'approved' | 'rejected'; notes: string } {
  switch (outcome.outcome) {
    case 'replaced':
    case 'merged': {
      const { applied } = outcome;
      const reload = applied.reloaded ? `reloaded with \`${applied.reloaded}\`` : 'no reload command configured';
      const merged = outcome.outcome === 'merged' ? 'the live file had changed since this was proposed; merged the change into it route by route and ' : '';
      return { status: 'approved', notes: `${merged}applied ${applied.routeCount} route(s) to ${applied.file}; sha256=${applied.sha256}; ${reload}.` };
    }
    case 'already-live':
      return { status: 'approved', notes: `${outcome.file} already holds this change; sha256=${outcome.sha256}; nothing was written.` };
    case 'stale':
      return { status: 'rejected', notes: `stale: propose again. ${outcome.reason}; nothing was applied.${conflictList(outcome.conflicts)}` };
    case 'failed':
      return { status: 'rejected', notes: outcome.reason };
  }
}

function capitalised(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
