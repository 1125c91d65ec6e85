import { safeLine } from '../core/safe-text.js';
import { isSlug } from '../core/validation.js';
import type { SealVerdict } from '../keys/keyring.js';
import type { Proposal } from './proposal.js';
import { proposalSealTrusted } from './proposal-seals.js';
import type { QueueStore } from './queue-store.js';

/** How much of a justification a summary carries: enough to recognise the request, never the payload. */
export const SUMMARY_JUSTIFICATION_CHARS = 200;

/**
 * What the operator is told about a new proposal outside the TUI (a hook's stdin, a desktop
 * notification): who asks what, never the payload, and every string from the bottle made
 * display-safe on one line.
 */
export interface ProposalSummary {
  id: string;
  bottle: string;
  kind: string;
  origin: string;
  /** The start of the justification (up to 200 characters), display-safe, `…` when cut. */
  justification: string;
  createdAt: number;
  /** Whose seal the proposal carries: its bottle's key, or the host's for its own enqueues. */
  seal: Extract<SealVerdict, 'host' | 'bottle'>;
}

export function summarizeProposal(proposal: Proposal, seal: ProposalSummary['seal']): ProposalSummary {
  const characters = [...proposal.justification.replace(/\s+/g, ' ').trim()];
  const start = characters.slice(0, SUMMARY_JUSTIFICATION_CHARS).join('');
  return {
    id: proposal.id,
    bottle: safeLine(proposal.slug),
    kind: safeLine(proposal.kind),
    origin: safeLine(proposal.origin),
    justification: safeLine(characters.length > SUMMARY_JUSTIFICATION_CHARS ? `${start}…` : start),
    createdAt: proposal.createdAt,
    seal,
  };
}

/**
 * Calls `listener` once for each proposal that newly waits for the operator, as this process learns
 * of it (the terminal UI's bell, the notify hook). An event row or a doorbell is only the hint: a
 * bottle can write either, so each is checked against the proposal row itself, which must exist,
 * wait for the operator and carry its bottle's or the host's seal. With `existing`, the proposals
 * already waiting are reported first. Returns the unsubscribe function.
 */
export function watchNewProposals(queue: QueueStore, listener: (summary: ProposalSummary) => void, options: { existing?: boolean } = {}): () => void {
  const seen = new Set<string>();
  const consider = (proposal: Proposal | undefined): void => {
    if (proposal === undefined || seen.has(proposal.id) || proposal.state !== 'pending' || proposal.target !== 'operator') return;
    if (proposal.expiresAt !== null && proposal.expiresAt <= Date.now()) return;
    const seal = queue.proposalSeal(proposal);
    if (seal === 'forged' || !proposalSealTrusted(proposal.target, seal)) return;
    seen.add(proposal.id);
    listener(summarizeProposal(proposal, seal));
  };
  const rescan = (): void => {
    for (const proposal of queue.listPendingProposals({ target: 'operator' })) consider(proposal);
  };
  const unsubscribe = queue.subscribe({ target: 'operator', types: ['created'] }, (events) => {
    for (const event of events) {
      if (event.type === 'resync') rescan();
      // The event's fields are the writer's word: a slug that is not one reads as no proposal at all.
      else consider(isSlug(event.slug) ? queue.readProposal(event.slug, event.proposalId) : undefined);
    }
  });
  if (options.existing) rescan();
  return unsubscribe;
}
