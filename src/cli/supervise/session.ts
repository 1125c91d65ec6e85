import { isSuperviseError } from '../../core/errors.js';
import type { SealVerdict } from '../../keys/keyring.js';
import type { KindDefinition } from '../../kinds/kind.js';
import type { KindRegistry } from '../../kinds/registry.js';
import type { Proposal } from '../../queue/proposal.js';
import type { QueueStore } from '../../queue/queue-store.js';
import { answerProposal, checkDecision, describeSettled, reviewOf, type Decision } from './actions.js';
import type { BottleOverview } from '../../bottles/bottle-overview.js';
import { overviewOfPending, summarizeBottles } from './bottles-model.js';
import { rejectAll, type BulkRejectOutcome } from './bulk-reject.js';
import { applyFilter, narrows, NO_FILTER, type ListFilter } from './list-filter.js';
import { SHORT_ID_LENGTH, listPending } from './list-model.js';

/** A key press, independent of the terminal library, so the session can be driven by anything. */
export interface KeyPress {
  input: string;
  name?: 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end' | 'return' | 'escape' | 'backspace' | 'interrupt';
}

export type PromptAction = 'approve' | 'modify' | 'reject';

export type View =
  | { name: 'list' }
  | { name: 'detail' }
  /** The key help, over the list or a proposal, which it returns to as they were. */
  | { name: 'help'; back: 'list' | 'detail'; backScroll: number }
  /** Typing a search: the list follows each key; Esc goes back to the search it had `before`. */
  | { name: 'search'; text: string; before: string }
  /** Every bottle known, alive, stale or gone, with its pending count; `selected` counts in `bottleSummaries()`. */
  | { name: 'bottles'; selected: number }
  /** One reason for every marked proposal, each rejected on its own. */
  | { name: 'bulk-reject'; text: string; error?: string }
  | { name: 'prompt'; action: PromptAction; text: string; finalPayload?: string; error?: string }
  | { name: 'invalid-edit'; edited: string; error: string };

export interface StatusLine {
  tone: 'ok' | 'info' | 'error';
  text: string;
}

export interface SessionState {
  /** Everything pending for the operator, bottles in turns. */
  proposals: Proposal[];
  filter: ListFilter;
  /** What the list shows: `proposals` through `filter`. `selected` counts in it. */
  shown: Proposal[];
  /** The host's overview of the bottles as last read (on every refresh): liveness and seals, from `BottleStore.overview`. */
  bottles: BottleOverview[];
  /** Ids marked for a bulk rejection; only pending ones stay marked. */
  marked: ReadonlySet<string>;
  /** Whose seal each listed proposal carries, by id; `forged` ones can only be rejected. */
  seals: Readonly<Record<string, SealVerdict>>;
  selected: number;
  view: View;
  /** The proposal the detail view shows; kept when it leaves the pending list. */
  open: Proposal | undefined;
  /** Set when the open proposal was settled by someone or something else. */
  settledElsewhere: string | undefined;
  scroll: number;
  status: StatusLine | undefined;
  busy: boolean;
  now: number;
  answeredCount: number;
}

export interface SessionOptions {
  responder: string;
  /** Hands the text to the operator's editor (suspending the UI) and resolves with what was saved. */
  edit: (text: string) => Promise<string>;
  /** Called once when the operator quits. */
  onQuit: () => void;
  /** Quit by itself once this proposal is settled (the demo's `--interactive`). */
  untilSettled?: string;
  /** Open with the cursor on this proposal instead of the first one listed (the demo's own proposal). */
  focus?: string;
  /**
   * The host's overview of the bottles (`BottleStore.overview`), the one owner of liveness and seals;
   * without it the bottles view knows only the bottles with pending proposals, each as the overview
   * shows a bottle without a row.
   */
  bottleOverview?: (now: number) => BottleOverview[];
  /** Lines a page key moves in the detail view. */
  pageSize?: () => number;
}

/**
 * The triage session behind the TUI: the pending list, what is open, prompts and answers. It
 * knows nothing of the terminal: the UI renders `state` and forwards key presses.
 */
export class SuperviseSession {
  readonly #queue: QueueStore;
  readonly #options: SessionOptions;
  readonly #listeners = new Set<() => void>();
  readonly #answeredHere = new Set<string>();
  /** Forged proposals already recorded in the audit log by this session. */
  readonly #auditedForged = new Set<string>();
  #state: SessionState;
  #quit = false;

  constructor(queue: QueueStore, options: SessionOptions) {
    this.#queue = queue;
    this.#options = options;
    const proposals = listPending(queue);
    const now = Date.now();
    this.#state = {
      proposals,
      filter: NO_FILTER,
      shown: proposals,
      marked: new Set(),
      bottles: this.#readBottles(proposals, now),
      seals: this.#sealsOf(proposals),
      selected: Math.max(0, proposals.findIndex((p) => p.id === options.focus)),
      view: { name: 'list' },
      open: undefined,
      settledElsewhere: undefined,
      scroll: 0,
      status: undefined,
      busy: false,
      now,
      answeredCount: 0,
    };
  }

  get state(): SessionState {
    return this.#state;
  }

  get responder(): string {
    return this.#options.responder;
  }

  get kinds(): KindRegistry {
    return this.#queue.kinds;
  }

  kindOf(proposal: Proposal): KindDefinition | undefined {
    return this.#queue.kinds.find(proposal.kind);
  }

  /** Whose seal a proposal carries; the detail view says so first when it is forged. */
  sealOf(proposal: Proposal): SealVerdict {
    return this.#queue.proposalSeal(proposal);
  }

  /** The verdict on each proposal, recording each forged one in the audit log the first time it is seen. */
  #sealsOf(proposals: Proposal[]): Record<string, SealVerdict> {
    const seals: Record<string, SealVerdict> = {};
    for (const proposal of proposals) {
      const seal = this.sealOf(proposal);
      seals[proposal.id] = seal;
      if (seal === 'forged' && !this.#auditedForged.has(proposal.id)) {
        this.#auditedForged.add(proposal.id);
        this.#queue.auditForged(proposal, 'proposal').catch((error: unknown) => this.#set({ status: { tone: 'error', text: `could not record a forged proposal in the audit log: ${messageOf(error)}` } }));
      }
    }
    return seals;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(patch: Partial<SessionState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of this.#listeners) listener();
  }

  /** Re-reads the pending list (on every change notification) and notices answers given elsewhere. */
  refresh(): void {
    const proposals = listPending(this.#queue);
    const pending = new Set(proposals.map((p) => p.id));
    const marked = new Set([...this.#state.marked].filter((id) => pending.has(id)));
    const now = Date.now();
    const bottles = this.#readBottles(proposals, now);
    const patch: Partial<SessionState> = { ...this.#listed(proposals, this.#state.filter), marked, bottles, seals: this.#sealsOf(proposals), now };
    const open = this.#state.open;
    if (open && this.#state.settledElsewhere === undefined && !this.#answeredHere.has(open.id) && !proposals.some((p) => p.id === open.id)) {
      const description = describeSettled(this.#queue, open);
      patch.settledElsewhere = description;
      if (this.#state.view.name !== 'list') patch.view = { name: 'detail' };
      patch.status = { tone: 'info', text: `${shortLabel(open)}: ${description}` };
    }
    this.#set(patch);
    if (this.#options.untilSettled !== undefined && !proposals.some((p) => p.id === this.#options.untilSettled)) this.quit();
  }

  /** The list through `filter`, the cursor staying on the proposal it was on while that is shown. */
  #listed(proposals: Proposal[], filter: ListFilter): Pick<SessionState, 'proposals' | 'filter' | 'shown' | 'selected'> {
    const shown = applyFilter(proposals, filter);
    const selectedId = this.#state.shown[this.#state.selected]?.id;
    const keptIndex = selectedId === undefined ? -1 : shown.findIndex((p) => p.id === selectedId);
    const selected = keptIndex >= 0 ? keptIndex : Math.min(this.#state.selected, Math.max(0, shown.length - 1));
    return { proposals, filter, shown, selected };
  }

  #filterBy(change: Partial<ListFilter>): void {
    this.#set(this.#listed(this.#state.proposals, { ...this.#state.filter, ...change }));
  }

  tick(): void {
    this.#set({ now: Date.now() });
  }

  quit(): void {
    if (this.#quit) return;
    this.#quit = true;
    this.#options.onQuit();
  }

  handleKey(key: KeyPress): void {
    if (key.name === 'interrupt') return this.quit();
    if (this.#state.busy) return;
    const view = this.#state.view;
    if (key.input === '?' && key.name === undefined && (view.name === 'list' || view.name === 'detail')) {
      return this.#set({ view: { name: 'help', back: view.name, backScroll: this.#state.scroll }, scroll: 0 });
    }
    switch (view.name) {
      case 'list':
        return this.#listKey(key);
      case 'detail':
        return this.#detailKey(key);
      case 'help':
        return this.#helpKey(key, view);
      case 'search':
        return this.#searchKey(key, view);
      case 'bulk-reject':
        return this.#bulkRejectKey(key, view);
      case 'bottles':
        return this.#bottlesKey(key, view);
      case 'prompt':
        return this.#promptKey(key, view);
      case 'invalid-edit':
        return this.#invalidEditKey(key, view);
    }
  }

  #listKey(key: KeyPress): void {
    const count = this.#state.shown.length;
    const move = (to: number): void => this.#set({ selected: Math.max(0, Math.min(count - 1, to)) });
    if (key.name === 'up' || key.input === 'k') return move(this.#state.selected - 1);
    if (key.name === 'down' || key.input === 'j') return move(this.#state.selected + 1);
    if (key.name === 'pageUp') return move(this.#state.selected - this.#page());
    if (key.name === 'pageDown') return move(this.#state.selected + this.#page());
    if (key.name === 'home' || key.input === 'g') return move(0);
    if (key.name === 'end' || key.input === 'G') return move(count - 1);
    const filter = this.#state.filter;
    // Esc first takes back a narrowed list, so it never quits from a view the operator did not expect.
    if (key.name === 'escape' && narrows(filter)) return this.#filterBy({ query: '', slug: undefined, kind: undefined });
    if (key.name === 'escape' || key.input === 'q') return this.quit();
    if (key.input === '/') return this.#set({ view: { name: 'search', text: filter.query, before: filter.query } });
    if (key.input === 'o') return this.#filterBy({ grouped: !filter.grouped });
    if (key.input === 'B') return this.#set({ view: { name: 'bottles', selected: 0 }, status: undefined });
    const current = this.#state.shown[this.#state.selected];
    if (key.input === 'b') return this.#filterBy({ slug: filter.slug === undefined ? current?.slug : undefined });
    if (key.input === 't') return this.#filterBy({ kind: filter.kind === undefined ? current?.kind : undefined });
    if (key.input === ' ' && current) {
      this.#set({ marked: toggled(this.#state.marked, [current.id], !this.#state.marked.has(current.id)) });
      return move(this.#state.selected + 1);
    }
    if (key.input === 'v') {
      const ids = this.#state.shown.map((p) => p.id);
      return this.#set({ marked: toggled(this.#state.marked, ids, !ids.every((id) => this.#state.marked.has(id))) });
    }
    if (key.input === 'u') return this.#set({ marked: new Set() });
    if (key.input === 'R') {
      if (this.#state.marked.size === 0) return this.#set({ status: { tone: 'error', text: 'Nothing is marked: mark proposals with Space (or every one shown with v), then R rejects them.' } });
      return this.#set({ view: { name: 'bulk-reject', text: '' }, status: undefined });
    }
    if (key.name === 'return') {
      const proposal = current;
      if (proposal) this.#set({ view: { name: 'detail' }, open: proposal, settledElsewhere: undefined, scroll: 0, status: undefined });
    }
  }

  /** Scrolls the detail or the help; false when the key is not a scrolling key. */
  #scrollKey(key: KeyPress): boolean {
    const scrollTo = (line: number): true => {
      this.#set({ scroll: Math.max(0, line) });
      return true;
    };
    const scroll = this.#state.scroll;
    if (key.name === 'up' || key.input === 'k') return scrollTo(scroll - 1);
    if (key.name === 'down' || key.input === 'j') return scrollTo(scroll + 1);
    if (key.name === 'pageUp') return scrollTo(scroll - this.#page());
    if (key.name === 'pageDown' || key.input === ' ') return scrollTo(scroll + this.#page());
    if (key.name === 'home' || key.input === 'g') return scrollTo(0);
    return false;
  }

  /** The bottles view's rows, from the overview as last read, their liveness moving with the clock. */
  bottleSummaries(): BottleOverview[] {
    return summarizeBottles(this.#state.bottles, this.#state.now);
  }

  #readBottles(proposals: readonly Proposal[], now: number): BottleOverview[] {
    return this.#options.bottleOverview?.(now) ?? overviewOfPending(proposals, now);
  }

  #bottlesKey(key: KeyPress, view: Extract<View, { name: 'bottles' }>): void {
    const summaries = this.bottleSummaries();
    const move = (to: number): void => this.#set({ view: { ...view, selected: Math.max(0, Math.min(summaries.length - 1, to)) } });
    if (key.name === 'up' || key.input === 'k') return move(view.selected - 1);
    if (key.name === 'down' || key.input === 'j') return move(view.selected + 1);
    if (key.name === 'escape' || key.input === 'q' || key.input === 'B') return this.#set({ view: { name: 'list' } });
    const chosen = summaries[view.selected];
    if (key.name === 'return' && chosen) this.#set({ ...this.#listed(this.#state.proposals, { ...this.#state.filter, slug: chosen.slug }), view: { name: 'list' } });
  }

  /** The marked proposals as listed: what a bulk rejection shows, and binds each answer to. */
  markedProposals(): Proposal[] {
    return this.#state.proposals.filter((p) => this.#state.marked.has(p.id));
  }

  #bulkRejectKey(key: KeyPress, view: Extract<View, { name: 'bulk-reject' }>): void {
    if (key.name === 'escape') return this.#set({ view: { name: 'list' }, status: { tone: 'info', text: 'Rejecting the marked proposals cancelled; nothing was written.' } });
    if (key.name === 'backspace') return this.#set({ view: { ...view, text: [...view.text].slice(0, -1).join(''), error: undefined } });
    if (key.name === 'return') return void this.#submitBulkReject(view);
    const typed = printable(key.input);
    if (key.name === undefined && typed !== '') this.#set({ view: { ...view, text: view.text + typed, error: undefined } });
  }

  async #submitBulkReject(view: Extract<View, { name: 'bulk-reject' }>): Promise<void> {
    const proposals = this.markedProposals();
    for (const proposal of proposals) this.#answeredHere.add(proposal.id);
    this.#set({ busy: true });
    let outcome: BulkRejectOutcome;
    try {
      outcome = await rejectAll(this.#queue, proposals, view.text, this.#options.responder);
    } catch (error) {
      for (const proposal of proposals) this.#answeredHere.delete(proposal.id);
      return this.#set({ busy: false, view: { ...view, error: messageOf(error) } });
    }
    for (const { proposal } of outcome.refused) this.#answeredHere.delete(proposal.id);
    const stillMarked = new Set(outcome.refused.map(({ proposal }) => proposal.id));
    this.#set({
      busy: false,
      view: { name: 'list' },
      marked: stillMarked,
      answeredCount: this.#state.answeredCount + outcome.rejected.length,
      status: { tone: outcome.refused.length === 0 ? 'ok' : 'error', text: describeBulkReject(outcome, this.#options.responder) },
    });
    this.refresh();
  }

  #searchKey(key: KeyPress, view: Extract<View, { name: 'search' }>): void {
    if (key.name === 'return') return this.#set({ view: { name: 'list' } });
    if (key.name === 'escape') return this.#set({ ...this.#listed(this.#state.proposals, { ...this.#state.filter, query: view.before }), view: { name: 'list' } });
    if (key.name === 'up' || key.name === 'down') {
      const to = this.#state.selected + (key.name === 'up' ? -1 : 1);
      return this.#set({ selected: Math.max(0, Math.min(this.#state.shown.length - 1, to)) });
    }
    const text = key.name === 'backspace' ? [...view.text].slice(0, -1).join('') : key.name === undefined ? view.text + printable(key.input) : view.text;
    if (text !== view.text) this.#set({ ...this.#listed(this.#state.proposals, { ...this.#state.filter, query: text }), view: { ...view, text } });
  }

  #helpKey(key: KeyPress, view: Extract<View, { name: 'help' }>): void {
    if (this.#scrollKey(key)) return;
    if (key.name === 'escape' || key.input === 'q' || key.input === '?') this.#set({ view: { name: view.back }, scroll: view.backScroll });
  }

  #detailKey(key: KeyPress): void {
    if (this.#scrollKey(key)) return;
    if (key.name === 'escape' || key.input === 'q') return this.#backToList();
    const open = this.#state.open;
    if (!open || !['a', 'm', 'r'].includes(key.input)) return;
    if (this.#state.settledElsewhere !== undefined) {
      return this.#set({ status: { tone: 'info', text: `Nothing to answer: ${this.#state.settledElsewhere}. Press q to go back.` } });
    }
    if (key.input !== 'r' && this.sealOf(open) === 'forged') {
      return this.#set({ status: { tone: 'error', text: 'This proposal is FORGED (its seal does not verify): it can only be rejected (r).' } });
    }
    if (key.input === 'a') return this.#set({ view: { name: 'prompt', action: 'approve', text: '' }, status: undefined });
    if (key.input === 'r') return this.#set({ view: { name: 'prompt', action: 'reject', text: '' }, status: undefined });
    const kind = this.kindOf(open);
    if (!kind?.modifiable) {
      return this.#set({ status: { tone: 'error', text: `${open.kind} proposals cannot be modified: approve (a) or reject (r).` } });
    }
    void this.#edit(open, open.payload);
  }

  #promptKey(key: KeyPress, view: Extract<View, { name: 'prompt' }>): void {
    // Arrows and pages are never text: they scroll what the reason is for.
    if (key.name === 'up' || key.name === 'down' || key.name === 'pageUp' || key.name === 'pageDown') {
      const by = { up: -1, down: 1, pageUp: -this.#page(), pageDown: this.#page() }[key.name];
      return this.#set({ scroll: Math.max(0, this.#state.scroll + by) });
    }
    if (key.name === 'escape') return this.#set({ view: { name: 'detail' }, status: { tone: 'info', text: `${view.action} cancelled; nothing was written.` } });
    if (key.name === 'backspace') return this.#set({ view: { ...view, text: [...view.text].slice(0, -1).join(''), error: undefined } });
    if (key.name === 'return') return void this.#submit(view);
    const typed = printable(key.input);
    if (key.name === undefined && typed !== '') this.#set({ view: { ...view, text: view.text + typed, error: undefined } });
  }

  #invalidEditKey(key: KeyPress, view: Extract<View, { name: 'invalid-edit' }>): void {
    const open = this.#state.open;
    if (key.input === 'e' && open) return void this.#edit(open, view.edited);
    if (key.input === 'c' || key.input === 'q' || key.name === 'escape') {
      this.#set({ view: { name: 'detail' }, status: { tone: 'info', text: 'modify cancelled; nothing was written.' } });
    }
  }

  async #edit(proposal: Proposal, text: string): Promise<void> {
    this.#set({ busy: true, status: { tone: 'info', text: 'editing in $EDITOR…' } });
    let edited: string;
    try {
      edited = await this.#options.edit(text);
    } catch (error) {
      return this.#set({ busy: false, view: { name: 'detail' }, status: { tone: 'error', text: messageOf(error) } });
    }
    if (edited === proposal.payload) {
      return this.#set({ busy: false, view: { name: 'detail' }, status: { tone: 'info', text: 'The file is unchanged: approve it as proposed with a, or edit again with m.' } });
    }
    try {
      this.#queue.kinds.validate(proposal.kind, edited, 'the edited file');
    } catch (error) {
      return this.#set({ busy: false, view: { name: 'invalid-edit', edited, error: messageOf(error) }, status: undefined });
    }
    // From the top, where the edit's diff is: the operator reads what they changed before saying why.
    this.#set({ busy: false, view: { name: 'prompt', action: 'modify', text: '', finalPayload: edited }, scroll: 0, status: undefined });
  }

  async #submit(view: Extract<View, { name: 'prompt' }>): Promise<void> {
    const open = this.#state.open;
    if (!open) return;
    const decision: Decision =
      view.action === 'modify'
        ? { status: 'modified', reason: view.text, finalPayload: view.finalPayload ?? open.payload }
        : { status: view.action === 'approve' ? 'approved' : 'rejected', reason: view.text };
    try {
      checkDecision(this.#queue.kinds, open, decision, this.#options.responder);
    } catch (error) {
      return this.#set({ view: { ...view, error: messageOf(error) } });
    }
    this.#set({ busy: true });
    this.#answeredHere.add(open.id);
    try {
      // Bound to what the detail view showed: a proposal changed since is refused, not answered.
      const result = await answerProposal(this.#queue, open, decision, this.#options.responder, reviewOf(open));
      if (result.outcome === 'elsewhere') {
        this.#set({ busy: false, view: { name: 'detail' }, settledElsewhere: result.description, status: { tone: 'info', text: `${shortLabel(open)}: ${result.description}` } });
        return;
      }
      this.#set({
        busy: false,
        answeredCount: this.#state.answeredCount + 1,
        status: { tone: 'ok', text: `${result.response.status} ${shortLabel(open)} as ${result.response.responder}.` },
      });
      this.#backToList();
    } catch (error) {
      this.#answeredHere.delete(open.id);
      if (isSuperviseError(error) && error.code === 'changed-since-review') {
        // Show what is there now, from the top, so the next answer is to that.
        const current = this.#queue.readProposal(open.slug, open.id) ?? open;
        this.#set({ busy: false, open: current, view: { name: 'detail' }, scroll: 0, status: { tone: 'error', text: `${error.message} It is shown again as it is now.` } });
        return;
      }
      this.#set({ busy: false, view: { ...view, error: isSuperviseError(error) ? error.message : messageOf(error) } });
    }
  }

  #backToList(): void {
    this.#set({ view: { name: 'list' }, open: undefined, settledElsewhere: undefined, scroll: 0 });
    this.refresh();
  }

  #page(): number {
    return Math.max(1, this.#options.pageSize?.() ?? 10);
  }
}

function toggled(marked: ReadonlySet<string>, ids: readonly string[], on: boolean): ReadonlySet<string> {
  const next = new Set(marked);
  for (const id of ids) {
    if (on) next.add(id);
    else next.delete(id);
  }
  return next;
}

function describeBulkReject(outcome: BulkRejectOutcome, responder: string): string {
  const count = (n: number): string => (n === 1 ? '1 proposal' : `${n} proposals`);
  const parts = [`Rejected ${count(outcome.rejected.length)} as ${responder}.`];
  if (outcome.elsewhere.length > 0) parts.push(`${count(outcome.elsewhere.length)} had been settled elsewhere first.`);
  if (outcome.refused.length > 0) {
    const [first] = outcome.refused;
    parts.push(`${count(outcome.refused.length)} left pending and still marked (${first ? `${shortLabel(first.proposal)}: ${first.reason}` : ''}); open them to review.`);
  }
  return parts.join(' ');
}

/** What typing adds to a reason or a search: never a control character. */
function printable(input: string): string {
  // eslint-disable-next-line no-control-regex
  return input.replace(/[\u0000-\u001f\u007f]/g, '');
}

function shortLabel(proposal: Proposal): string {
  return `${proposal.id.slice(0, SHORT_ID_LENGTH)} (${proposal.kind}, bottle ${proposal.slug})`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
