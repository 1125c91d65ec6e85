import { watchNewProposals, type ProposalSummary } from '../queue/new-proposals.js';
import type { QueueStore } from '../queue/queue-store.js';
import type { NotifyClaims } from './claims.js';
import type { DesktopNotifier } from './desktop.js';
import { runHook, type HookResult } from './hook.js';
import type { NotifySettings } from './settings.js';
import { isoTime } from '../core/time.js';

/** What a hook reads on stdin: the summary, never the payload. */
export interface HookInput {
  event: 'proposal' | 'test';
  id: string;
  bottle: string;
  kind: string;
  origin: string;
  justification: string;
  /** ISO 8601. */
  createdAt: string;
  /** This bottle's proposals not told since the previous notification, because of the rate limit. */
  suppressedBefore: number;
}

/** What happened to one new proposal in this watcher. */
export interface AlertRecord {
  summary: ProposalSummary;
  outcome: 'fired' | 'suppressed' | 'taken';
  hook: HookResult | undefined;
  desktop: HookResult | undefined;
}

export function hookInput(summary: ProposalSummary, suppressedBefore: number, event: HookInput['event'] = 'proposal'): HookInput {
  const { id, bottle, kind, origin, justification } = summary;
  return { event, id, bottle, kind, origin, justification, createdAt: isoTime(summary.createdAt), suppressedBefore };
}

/** Runs the hook and the desktop notification for one summary, as configured. */
export async function tellOperator(input: HookInput, settings: NotifySettings, desktop: DesktopNotifier | undefined): Promise<Pick<AlertRecord, 'hook' | 'desktop'>> {
  const more = input.suppressedBefore > 0 ? ` (+${input.suppressedBefore} more from this bottle)` : '';
  const [hook, shown] = await Promise.all([
    settings.hook === undefined ? undefined : runHook(settings.hook, input, settings.hookTimeoutSeconds * 1000),
    settings.desktop && desktop !== undefined ? desktop.show(`bot-bottle: ${input.kind} from ${input.bottle}${more}`, input.justification || '(no justification)') : undefined,
  ]);
  return { hook, desktop: shown };
}

/**
 * Tells the operator of each new proposal once across every watcher on the host: each one the
 * queue reports (checked against its row and seal, see watchNewProposals) is claimed in the host's
 * claims file, and only the watcher whose claim fires runs the hook and the desktop notification.
 * Proposals are handled one at a time, in the order they were learnt of.
 */
export class ProposalAlerter {
  readonly #settings: NotifySettings;
  readonly #claims: NotifyClaims;
  readonly #desktop: DesktopNotifier | undefined;
  readonly #onAlert: (record: AlertRecord) => void;
  readonly #onError: (error: unknown, summary: ProposalSummary) => void;
  #chain: Promise<void> = Promise.resolve();
  #unsubscribe: (() => void) | undefined;

  constructor(options: {
    settings: NotifySettings;
    claims: NotifyClaims;
    desktop: DesktopNotifier | undefined;
    onAlert: (record: AlertRecord) => void;
    /** A claim that could not be written (a busy or full disk): reported, and the next proposal is still handled. */
    onError: (error: unknown, summary: ProposalSummary) => void;
  }) {
    this.#settings = options.settings;
    this.#claims = options.claims;
    this.#desktop = options.desktop;
    this.#onAlert = options.onAlert;
    this.#onError = options.onError;
  }

  /** Starts with the proposals already waiting (each still told once), then every new one. */
  start(queue: QueueStore): void {
    this.#unsubscribe = watchNewProposals(queue, (summary) => {
      this.#chain = this.#chain.then(() => this.#handle(summary)).catch((error: unknown) => this.#onError(error, summary));
    }, { existing: true });
  }

  /** Stops watching and waits for the hook runs in progress. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    await this.#chain;
  }

  async #handle(summary: ProposalSummary): Promise<void> {
    const claim = await this.#claims.claim(summary.id, summary.bottle, this.#settings.perBottlePerMinute);
    if (claim.outcome !== 'fired') {
      this.#onAlert({ summary, outcome: claim.outcome, hook: undefined, desktop: undefined });
      return;
    }
    const told = await tellOperator(hookInput(summary, claim.suppressedBefore), this.#settings, this.#desktop);
    this.#onAlert({ summary, outcome: 'fired', ...told });
  }
}
