import type { Target } from '../core/target.js';
import type { SealVerdict } from '../keys/keyring.js';
import type { KindRegistry } from '../kinds/registry.js';
import type { NewResponse } from '../kinds/response.js';
import type { ChangeType } from '../notify/events.js';
import type { Notification } from '../notify/notifier.js';
import type { Heartbeat, RoutesApplyRecord } from '../bottles/bottle-store.js';
import type { ListPendingOptions, NewProposal, Proposal, ProposalResponse, WaitOptions, WaitOutcome } from './proposal.js';

/** A read answered in this process (the mounted database) or over the network (the host broker). */
export type Awaitable<T> = T | Promise<T>;

/**
 * What the sidecar's tools, its `propose` command and its downward handlers use of one bottle's
 * queue. Two things provide it: `BottleQueue` over the mounted database, and the host broker's
 * client (`BrokerQueue`) where the database is behind a VM boundary; callers cannot tell which.
 */
export interface SidecarQueue {
  readonly slug: string;
  readonly kinds: KindRegistry;
  writeProposal(input: NewProposal): Promise<Proposal>;
  readProposal(id: string): Awaitable<Proposal | undefined>;
  listPendingProposals(options?: Omit<ListPendingOptions, 'slug'>): Awaitable<Proposal[]>;
  writeResponse(id: string, input: NewResponse): Promise<ProposalResponse>;
  waitForResponse(id: string, options: WaitOptions): Promise<WaitOutcome>;
  archiveProposal(id: string): Promise<boolean>;
  subscribe(filter: { target?: Target; types?: ChangeType[] }, listener: (events: Notification[]) => void): () => void;
  proposalSeal(proposal: Proposal): SealVerdict;
  responseSeal(proposal: Proposal, response: ProposalResponse): SealVerdict;
  auditForged(proposal: Proposal, row: 'proposal' | 'response'): Promise<boolean>;
}

/** What a sidecar writes about itself: its heartbeat and the audit entries of routes it applied. */
export interface SidecarBottle {
  readonly slug: string;
  recordHeartbeat(heartbeat: Heartbeat): Promise<void>;
  recordRoutesApply(record: RoutesApplyRecord): Promise<unknown>;
}
