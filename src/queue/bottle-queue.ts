import type { ChangeType } from '../notify/events.js';
import type { Notification } from '../notify/notifier.js';
import type { KindRegistry } from '../kinds/registry.js';
import type { NewResponse } from '../kinds/response.js';
import type { Target } from '../core/target.js';
import type { SealVerdict } from '../keys/keyring.js';
import type { ListPendingOptions, NewProposal, Proposal, ProposalResponse, WaitOptions, WaitOutcome } from './proposal.js';
import type { QueueStore } from './queue-store.js';
import type { SidecarQueue } from './sidecar-view.js';

/**
 * QueueStore bound to one bottle: the only surface a sidecar is given. Opened bottle-side, the
 * store underneath also refuses what only the host may do (see bottle-side.ts); the host's own
 * view (the launcher's) keeps the host's rights.
 */
export class BottleQueue implements SidecarQueue {
  readonly #store: QueueStore;
  readonly slug: string;

  constructor(store: QueueStore, slug: string) {
    this.#store = store;
    this.slug = slug;
  }

  writeProposal(input: NewProposal): Promise<Proposal> {
    return this.#store.writeProposal(this.slug, input);
  }

  readProposal(id: string): Proposal | undefined {
    return this.#store.readProposal(this.slug, id);
  }

  listPendingProposals(options: Omit<ListPendingOptions, 'slug'> = {}): Proposal[] {
    return this.#store.listPendingProposals({ ...options, slug: this.slug });
  }

  writeResponse(id: string, input: NewResponse): Promise<ProposalResponse> {
    return this.#store.writeResponse(this.slug, id, input);
  }

  readResponse(id: string): ProposalResponse | undefined {
    return this.#store.readResponse(this.slug, id);
  }

  waitForResponse(id: string, options: WaitOptions): Promise<WaitOutcome> {
    return this.#store.waitForResponse(this.slug, id, options);
  }

  archiveProposal(id: string): Promise<boolean> {
    return this.#store.archiveProposal(this.slug, id);
  }

  cancelProposal(id: string, cancel: { actor: string; reason: string }): Promise<boolean> {
    return this.#store.cancelProposal(this.slug, id, cancel);
  }

  subscribe(filter: { target?: Target; types?: ChangeType[] }, listener: (events: Notification[]) => void): () => void {
    return this.#store.subscribe({ ...filter, slug: this.slug }, listener);
  }

  /** Whose seal the proposal carries; the downward dispatcher acts only on the host's. */
  proposalSeal(proposal: Proposal): SealVerdict {
    return this.#store.proposalSeal(proposal);
  }

  /** Whose seal the answer carries; a waiter acts on an operator's answer only when it is the host's. */
  responseSeal(proposal: Proposal, response: ProposalResponse): SealVerdict {
    return this.#store.responseSeal(proposal, response);
  }

  /** Records a row that failed its seal check in the audit log, once. */
  auditForged(proposal: Proposal, row: 'proposal' | 'response'): Promise<boolean> {
    this.#assertMine(proposal);
    return this.#store.auditForged(proposal, row);
  }

  #assertMine(proposal: Proposal): void {
    if (proposal.slug !== this.slug) throw new Error(`proposal ${proposal.id} belongs to bottle "${proposal.slug}", not to this view's "${this.slug}"`);
  }

  get kinds(): KindRegistry {
    return this.#store.kinds;
  }

  /** Loads the kinds where the opener left them for first use (QueueStore.loadKinds); resolves to `kinds`. */
  loadKinds(): Promise<KindRegistry> {
    return this.#store.loadKinds();
  }
}
