import { isSuperviseError } from '../src/core/errors.js';
import { KIND_EGRESS_ROUTES_APPLY } from '../src/kinds/builtin-rules.js';
import type { SidecarQueue } from '../src/queue/sidecar-view.js';
import type { Proposal } from '../src/queue/proposal.js';
import { baseOf, downwardAnswerFor } from './approved-routes.js';
import type { LiveRoutesFile } from './live-routes.js';
import type { Log } from './log-line.js';

export interface DownwardAnswer {
  status: 'approved' | 'rejected';
  notes: string;
}

/** Runs one downward proposal inside the bottle. Must not answer itself; the dispatcher does. */
export type DownwardHandler = (proposal: Proposal, signal: AbortSignal) => Promise<DownwardAnswer>;


const RESPONDER = 'sidecar';
/** Responses carry notes of at most 8 KiB; error text is cut well below that. */
const MAX_NOTES_CHARS = 4000;

export function routesApplyHandler(live: LiveRoutesFile | undefined): DownwardHandler {
  return async (proposal, signal) => {
    if (!live) {
      return { status: 'rejected', notes: 'this sidecar has no live routes file configured (SUPERVISE_ROUTES_FILE is unset), so it cannot apply routes. Start it with SUPERVISE_ROUTES_FILE set.' };
    }
    return downwardAnswerFor(await live.apply({ proposalId: proposal.id, kind: proposal.kind, base: baseOf(proposal), approved: proposal.payload }, signal));
  };
}

export function builtinDownwardHandlers(live: LiveRoutesFile | undefined): Map<string, DownwardHandler> {
  return new Map([[KIND_EGRESS_ROUTES_APPLY, routesApplyHandler(live)]]);
}

/**
 * The downward flow: the launcher cannot reach into a bottle, so it proposes and this dispatcher
 * answers the proposals addressed to this bottle's sidecar, one at a time, oldest first, including
 * those already waiting when it starts. A proposal whose handler is interrupted by shutdown stays
 * pending and is handled on the next start.
 */
export class DownwardDispatcher {
  readonly #queue: SidecarQueue;
  readonly #handlers: ReadonlyMap<string, DownwardHandler>;
  readonly #log: Log;
  readonly #abort = new AbortController();
  /** Proposals that cannot be answered by this build (an unknown kind); not retried in a loop. */
  readonly #skipped = new Set<string>();
  #unsubscribe: (() => void) | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(queue: SidecarQueue, handlers: ReadonlyMap<string, DownwardHandler>, log: Log) {
    this.#queue = queue;
    this.#handlers = handlers;
    this.#log = log;
  }

  start(): void {
    this.#unsubscribe = this.#queue.subscribe({ target: 'sidecar', types: ['created'] }, () => this.#kick());
    this.#kick();
  }

  /** Resolves once nothing is running; an interrupted handler leaves its proposal pending. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#abort.abort();
    await this.#running;
  }

  /** Resolves when every proposal pending now has been handled (tests, start-up). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  #kick(): void {
    if (this.#abort.signal.aborted) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain()
      .catch((error: unknown) => this.#log(`downward: ${error instanceof Error ? error.message : String(error)}`, 'error'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  async #drain(): Promise<void> {
    for (;;) {
      const next = (await this.#queue.listPendingProposals({ target: 'sidecar' })).find((p) => !this.#skipped.has(p.id));
      if (!next || this.#abort.signal.aborted) return;
      await this.#handle(next);
    }
  }

  async #handle(proposal: Proposal): Promise<void> {
    // Only the host gives a sidecar orders; anything else in its queue was forged with raw SQL.
    if (this.#queue.proposalSeal(proposal) !== 'host') {
      this.#skipped.add(proposal.id);
      await this.#queue.auditForged(proposal, 'proposal');
      this.#log(`downward: proposal ${proposal.id} (${proposal.kind}) is not signed by the host; not applied, left pending and recorded in the audit log as forged.`, 'warn');
      return;
    }
    const handler = this.#handlers.get(proposal.kind);
    let answer: DownwardAnswer;
    if (!handler) {
      if (!this.#queue.kinds.find(proposal.kind)) {
        this.#skipped.add(proposal.id);
        this.#log(`downward: proposal ${proposal.id} has kind "${proposal.kind}", unknown to this sidecar build; left pending for a sidecar that knows it.`, 'warn');
        return;
      }
      answer = { status: 'rejected', notes: `this sidecar has no handler for ${proposal.kind} proposals; upgrade the sidecar image.` };
    } else {
      try {
        answer = await handler(proposal, this.#abort.signal);
      } catch (error) {
        if (this.#abort.signal.aborted) return;
        answer = { status: 'rejected', notes: `the ${proposal.kind} handler failed: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
    try {
      await this.#queue.writeResponse(proposal.id, { status: answer.status, notes: answer.notes.slice(0, MAX_NOTES_CHARS), responder: RESPONDER });
      this.#log(`downward: ${proposal.kind} ${proposal.id} ${answer.status}`);
    } catch (error) {
      // Expired or cancelled while the handler ran: nobody waits for this answer any more. Or its
      // row was altered meanwhile (forged): the answer is refused, the forgery already audited.
      if (!isSuperviseError(error) || (error.code !== 'conflict' && error.code !== 'forged')) throw error;
      this.#skipped.add(proposal.id);
      this.#log(`downward: ${proposal.kind} ${proposal.id} could not be answered: ${error.message}`, 'error');
    }
  }
}
