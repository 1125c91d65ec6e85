import { SuperviseError, isSuperviseErrorCode } from '../src/core/errors.js';
import type { Target } from '../src/core/target.js';
import { BROKER_API_PREFIX, MAX_POLL_MS, brokerErrorBody, brokerRequestKey, signRequest, type BrokerOperation, type BrokerRequest } from '../src/broker/protocol.js';
import type { Heartbeat, RoutesApplyRecord } from '../src/bottles/bottle-store.js';
import type { BottleKeyring, SealVerdict } from '../src/keys/keyring.js';
import { KindRegistry } from '../src/kinds/registry.js';
import type { NewResponse } from '../src/kinds/response.js';
import type { ChangeEvent, ChangeType } from '../src/notify/events.js';
import type { Notification } from '../src/notify/notifier.js';
import type { ListPendingOptions, NewProposal, Proposal, ProposalResponse, WaitOptions, WaitOutcome } from '../src/queue/proposal.js';
import { sealedProposalFields, sealedResponseFields } from '../src/queue/proposal-seals.js';
import type { SidecarBottle, SidecarQueue } from '../src/queue/sidecar-view.js';

/** A short request that takes longer than this has lost its broker. */
const REQUEST_TIMEOUT_MS = 30_000;
/** A long poll's answer may come this long after the poll's own limit. */
const POLL_GRACE_MS = 10_000;
/** Between attempts to reach a broker that is down or restarting. */
const RETRY_DELAYS_MS = [100, 250, 500, 1000, 2000];
/** Proposals this client saw lately, so a wait cut short by an abort can still say what is pending. */
const KNOWN_PROPOSALS = 256;

interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A failure that another attempt may not have: the broker is down, restarting or cut off. */
function isTransient(error: unknown): boolean {
  return error instanceof SuperviseError && error.code === 'broker-unreachable';
}

/**
 * One bottle's signed requests to the host broker. Every request carries a fresh signature (see
 * src/broker/protocol.ts); the bottle key itself never leaves the sidecar.
 */
export class BrokerConnection {
  readonly url: string;
  readonly slug: string;
  readonly #requestKey: Buffer;

  constructor(url: string, slug: string, bottleKey: Buffer) {
    this.url = url.replace(/\/+$/, '');
    this.slug = slug;
    this.#requestKey = brokerRequestKey(bottleKey);
  }

  async call<Op extends BrokerOperation>(operation: Op, request: BrokerRequest<Op>, options: CallOptions = {}): Promise<unknown> {
    const path = `${BROKER_API_PREFIX}${operation}`;
    const body = Buffer.from(JSON.stringify(request), 'utf8');
    // One controller per call, unhooked from the caller's signal afterwards: a long-lived signal
    // (the change follower's) must not collect a listener per request.
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, options.timeoutMs ?? REQUEST_TIMEOUT_MS);
    const onAbort = (): void => abort.abort();
    if (options.signal?.aborted) abort.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#send(path, body, abort.signal, () => timedOut);
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  async #send(path: string, body: Buffer, signal: AbortSignal, timedOut: () => boolean): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signRequest(this.#requestKey, this.slug, 'POST', path, body) },
        body,
        signal,
      });
    } catch (error) {
      throw this.#unreachable(error, timedOut());
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch (error) {
      throw this.#unreachable(error, timedOut());
    }
    if (response.ok) return json;
    const refused = brokerErrorBody.safeParse(json);
    if (!refused.success) throw new SuperviseError('broker-unreachable', `the broker at ${this.url} answered HTTP ${response.status} without an error this sidecar understands; check that SUPERVISE_BROKER_URL names a bot-bottle broker.`);
    const { code, message, state } = refused.data.error;
    if (code === 'unauthorized') {
      throw new SuperviseError('unauthorized', `the broker at ${this.url} refused this sidecar's requests for bottle ${this.slug}: ${message} Mount this bottle's own key directory (prepareSupervise(slug) returns it).`);
    }
    throw new SuperviseError(isSuperviseErrorCode(code) ? code : 'broker-unreachable', message, state === undefined ? {} : { state });
  }

  #unreachable(error: unknown, timedOut: boolean): SuperviseError {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error));
    return new SuperviseError(
      'broker-unreachable',
      `cannot reach the host broker at ${this.url} (${timedOut ? 'timed out' : cause}): start it on the host (bot-bottle broker) and check SUPERVISE_BROKER_URL and the bottle's network.`,
      { cause: error },
    );
  }

  /** Calls again while the broker is unreachable, until `deadline` or the signal; other refusals are final. */
  async retrying<Op extends BrokerOperation>(operation: Op, request: BrokerRequest<Op>, deadline: number, options: CallOptions = {}): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call(operation, request, options);
      } catch (error) {
        const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!;
        if (!isTransient(error) || options.signal?.aborted || Date.now() + delay >= deadline) throw error;
        await sleep(delay, options.signal);
      }
    }
  }
}

type Listener = { filter: { target?: Target; types?: ChangeType[] }; listener: (events: Notification[]) => void };

/**
 * The bottle's queue through the host broker: the same view as `BottleQueue` on the mount. The
 * broker seals what it writes with this bottle's key and holds it to the bottle's limits; this
 * side checks the seals of what it reads itself, so an answer it acts on still needs the host's
 * signature whatever the network in between did.
 */
export class BrokerQueue implements SidecarQueue {
  readonly slug: string;
  readonly kinds = KindRegistry.withBuiltins();
  readonly #connection: BrokerConnection;
  readonly #keyring: BottleKeyring;
  readonly #log: (line: string) => void;
  readonly #known = new Map<string, Proposal>();
  readonly #listeners = new Set<Listener>();
  #changes: AbortController | undefined;

  constructor(connection: BrokerConnection, keyring: BottleKeyring, log: (line: string) => void) {
    this.slug = connection.slug;
    this.#connection = connection;
    this.#keyring = keyring;
    this.#log = log;
  }

  /** With an idempotency key a lost answer (the broker died after its commit) is asked for again and finds the same proposal. */
  async writeProposal(input: NewProposal): Promise<Proposal> {
    const written = input.idempotencyKey === undefined ? this.#connection.call('propose', input) : this.#connection.retrying('propose', input, Date.now() + REQUEST_TIMEOUT_MS);
    return this.#remember((await written) as Proposal);
  }

  async readProposal(id: string): Promise<Proposal | undefined> {
    const { proposal } = (await this.#connection.retrying('read', { id }, Date.now() + REQUEST_TIMEOUT_MS)) as { proposal: Proposal | null };
    return proposal === null ? undefined : this.#remember(proposal);
  }

  async listPendingProposals(options: Omit<ListPendingOptions, 'slug'> = {}): Promise<Proposal[]> {
    const request = { ...(options.target !== undefined ? { target: options.target } : {}), ...(options.limit !== undefined ? { limit: options.limit } : {}) };
    const { proposals } = (await this.#connection.retrying('list-pending', request, Date.now() + REQUEST_TIMEOUT_MS)) as { proposals: Proposal[] };
    return proposals;
  }

  async writeResponse(id: string, input: NewResponse): Promise<ProposalResponse> {
    return (await this.#connection.call('respond', { id, ...input })) as ProposalResponse;
  }

  /**
   * Long polls until the outcome or the deadline. A broker that goes away (restarted, killed) is
   * called again until the deadline; reached without it, the wait ends `pending` like any other,
   * and waiting again resumes: nothing of the proposal lives in the broker's memory.
   */
  async waitForResponse(id: string, options: WaitOptions): Promise<WaitOutcome> {
    const deadline = Date.now() + Math.max(0, options.timeoutMs);
    const signal = options.signal;
    for (;;) {
      const slice = Math.min(Math.max(0, deadline - Date.now()), MAX_POLL_MS);
      let outcome: WaitOutcome;
      try {
        outcome = (await this.#connection.retrying('wait', { id, timeoutMs: slice }, deadline, {
          timeoutMs: slice + POLL_GRACE_MS,
          ...(signal ? { signal } : {}),
        })) as WaitOutcome;
      } catch (error) {
        const known = this.#known.get(id);
        if (known === undefined || !(signal?.aborted || isTransient(error))) throw error;
        return { outcome: 'pending', proposalId: id, proposal: known };
      }
      this.#remember(outcome.proposal);
      if (outcome.outcome !== 'pending' || Date.now() >= deadline || signal?.aborted) return outcome;
    }
  }

  async archiveProposal(id: string): Promise<boolean> {
    const { archived } = (await this.#connection.retrying('archive', { id }, Date.now() + REQUEST_TIMEOUT_MS)) as { archived: boolean };
    return archived;
  }

  /** Listens through one long poll of the bottle's change events, started with the first listener. */
  subscribe(filter: { target?: Target; types?: ChangeType[] }, listener: (events: Notification[]) => void): () => void {
    const entry = { filter, listener };
    this.#listeners.add(entry);
    if (this.#changes === undefined) {
      const changes = new AbortController();
      this.#changes = changes;
      void this.#followChanges(changes.signal);
    }
    return () => {
      this.#listeners.delete(entry);
      if (this.#listeners.size === 0) {
        this.#changes?.abort();
        this.#changes = undefined;
      }
    };
  }

  async #followChanges(signal: AbortSignal): Promise<void> {
    let cursor: number | null = null;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const answer = (await this.#connection.call('changes', { cursor, timeoutMs: MAX_POLL_MS }, { signal, timeoutMs: MAX_POLL_MS + POLL_GRACE_MS })) as {
          cursor: number;
          events: ChangeEvent[];
          resync: boolean;
        };
        if (failures > 0) this.#log(`broker reachable again at ${this.#connection.url}`);
        failures = 0;
        // The first answer (no cursor yet) is a resync too: whatever happened before is read from the tables.
        if (answer.resync) this.#deliver([{ type: 'resync' }]);
        else this.#deliver(answer.events);
        cursor = answer.cursor;
      } catch (error) {
        if (signal.aborted) return;
        if (failures === 0) this.#log(error instanceof Error ? error.message : String(error));
        failures++;
        await sleep(RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)]!, signal);
      }
    }
  }

  #deliver(events: Notification[]): void {
    for (const { filter, listener } of this.#listeners) {
      const matching = events.filter(
        (event) => event.type === 'resync' || ((filter.target === undefined || event.target === filter.target) && (filter.types === undefined || filter.types.includes(event.type))),
      );
      if (matching.length > 0) listener(matching);
    }
  }

  proposalSeal(proposal: Proposal): SealVerdict {
    return this.#keyring.checkProposal(sealedProposalFields(proposal), proposal.seal);
  }

  responseSeal(proposal: Proposal, response: ProposalResponse): SealVerdict {
    return this.#keyring.checkResponse(sealedResponseFields(proposal, response), response.seal);
  }

  async auditForged(proposal: Proposal, row: 'proposal' | 'response'): Promise<boolean> {
    const { recorded } = (await this.#connection.call('audit-forged', { id: proposal.id, row })) as { recorded: boolean };
    return recorded;
  }

  /** Stops following changes; calls in flight end on their own deadlines. */
  close(): void {
    this.#listeners.clear();
    this.#changes?.abort();
    this.#changes = undefined;
  }

  #remember(proposal: Proposal): Proposal {
    if (proposal.slug !== this.slug) throw new SuperviseError('forbidden', `the broker returned a proposal of bottle "${proposal.slug}" to bottle "${this.slug}"; check SUPERVISE_BROKER_URL.`);
    this.#known.delete(proposal.id);
    this.#known.set(proposal.id, proposal);
    if (this.#known.size > KNOWN_PROPOSALS) this.#known.delete(this.#known.keys().next().value as string);
    return proposal;
  }
}

/** The bottle's heartbeat and routes records through the broker. */
export class BrokerBottle implements SidecarBottle {
  readonly slug: string;
  readonly #connection: BrokerConnection;

  constructor(connection: BrokerConnection) {
    this.slug = connection.slug;
    this.#connection = connection;
  }

  async recordHeartbeat(heartbeat: Heartbeat): Promise<void> {
    const live = heartbeat.liveRoutes;
    await this.#connection.call('heartbeat', {
      sidecarVersion: heartbeat.sidecarVersion,
      schemaVersion: heartbeat.schemaVersion,
      ...(live !== undefined ? { liveRoutes: { hash: live.hash, ...(live.text !== undefined ? { text: live.text } : {}) } } : {}),
    });
  }

  async recordRoutesApply(record: RoutesApplyRecord): Promise<unknown> {
    return this.#connection.call('routes-applied', record);
  }
}
