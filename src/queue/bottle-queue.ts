import type { ChangeType } from '../notify/events.js';
import type { Notification } from '../notify/notifier.js';
import type { KindRegistry } from '../kinds/registry.js';
import type { NewResponse } from '../kinds/response.js';
import type { Target } from '../core/target.js';
import type { ListPendingOptions, NewProposal, Proposal, ProposalResponse, WaitOptions, WaitOutcome } from './proposal.js';
import type { QueueStore } from './queue-store.js';

/** QueueStore bound to one bottle: the only surface a sidecar is given. */
export class BottleQueue {
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

  get kinds(): KindRegistry {
    return this.#store.kinds;
  }
}
