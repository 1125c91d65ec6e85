import type { AnswerRequest, AnswerView, EditCheckView, PendingView, ProposalView } from './api-types.js';
import { isoTime } from '../../core/time.js';
import { byId, el, formatAge, linesBlock, message } from './dom.js';
import { ApiError, type Api } from './http.js';
import { PendingList } from './pending-list.js';

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The pending list (pending-list.ts) and the detail pane where the operator answers. Everything shown came display-safe from the server
 * and goes on screen as text.
 */
export class PendingPage {
  readonly #api: Api;
  readonly #list: PendingList;
  #detail: ProposalView | undefined;
  #status: HTMLElement | undefined;
  /** Answered from this page: its leaving the list is our doing, not news to re-open it for. */
  readonly #answeredHere = new Set<string>();

  constructor(api: Api) {
    this.#api = api;
    this.#list = new PendingList((id) => void this.open(id));
  }

  /** A new list from the server: redraw it, and say so when the open proposal was settled elsewhere. */
  update(view: PendingView): void {
    this.#list.update(view);
    const open = this.#detail;
    if (open && open.state === 'pending' && !this.#answeredHere.has(open.id) && !view.rows.some((row) => row.id === open.id)) void this.open(open.id);
  }

  async open(id: string): Promise<void> {
    this.#list.select(id);
    try {
      this.#detail = await this.#api.get<ProposalView>(`/api/proposals/${encodeURIComponent(id)}`);
      this.#renderDetail(this.#detail);
    } catch (error) {
      this.#detail = undefined;
      byId('detail').replaceChildren(message(describeError(error), 'error'));
    }
  }

  #renderDetail(view: ProposalView, statusText?: { text: string; tone: 'ok' | 'error' | 'info' }): void {
    const now = Date.now();
    const expiry = view.expiresAt === null ? 'never expires' : `expires in ${formatAge(view.expiresAt - now)}`;
    const parts: Node[] = [
      el('h2', { text: `Proposal ${view.id}` }),
      el('p', { text: `bottle ${view.slug} · kind ${view.kind} · from ${view.origin}` }),
      el('p', { className: 'muted', text: `asked ${formatAge(now - view.createdAt)} ago (${isoTime(view.createdAt)}), ${expiry}` }),
      el('p', { className: 'muted', text: view.kindDescription }),
      ...view.warnings.map((warning) => el('div', { className: `warning ${warning.tone}`, text: warning.text, attrs: { 'data-warning': warning.tone } })),
      el('h3', { text: 'Justification' }),
      linesBlock(view.justification.map((text) => ({ tone: 'plain', text }))),
      ...view.sections.flatMap((section) => [el('h3', { text: section.heading }), linesBlock(section.lines)]),
      el('p', { className: 'muted', text: `payload sha256 ${view.payloadSha256}` }),
    ];
    if (view.state !== 'pending') parts.push(message(`No longer pending: ${view.settled ?? view.state}.`, 'info'));
    else parts.push(this.#actions(view));
    this.#status = el('div', { attrs: { id: 'detail-status' } });
    if (statusText) this.#status.append(message(statusText.text, statusText.tone));
    parts.push(this.#status);
    byId('detail').replaceChildren(...parts);
  }

  #actions(view: ProposalView): HTMLElement {
    const forged = view.seal === 'forged';
    const reasonLabel = view.reasonRequiredToApprove ? 'Reason (required)' : 'Reason (required to reject)';
    const reason = el('input', { attrs: { type: 'text', id: 'reason', placeholder: reasonLabel, 'aria-label': reasonLabel, maxlength: '8192' } });
    const approve = el('button', { text: 'Approve', attrs: { type: 'button', id: 'approve' } });
    const reject = el('button', { text: 'Reject', attrs: { type: 'button', id: 'reject' } });
    const modify = el('button', { text: 'Modify…', attrs: { type: 'button', id: 'modify' } });
    if (forged) approve.disabled = modify.disabled = true;
    approve.addEventListener('click', () => void this.#answer(view, { status: 'approved', reason: reason.value }));
    reject.addEventListener('click', () => void this.#answer(view, { status: 'rejected', reason: reason.value }));
    modify.addEventListener('click', () => this.#openEditor(view, reason));
    const buttons = [approve, reject, ...(view.modifiable ? [modify] : [])];
    const row = el('div', { className: 'actions' }, [reason, ...buttons]);
    const note = forged ? [message('FORGED: it can only be rejected.', 'error')] : [];
    return el('div', { attrs: { id: 'answer' } }, [row, ...note]);
  }

  #openEditor(view: ProposalView, reason: HTMLInputElement): void {
    const editor = el('textarea', { className: 'editor', attrs: { id: 'editor', spellcheck: 'false', 'aria-label': 'the file to approve instead' } });
    // The value property, not markup: whatever the file holds stays text in the editor.
    editor.value = view.payload;
    const feedback = el('div', { attrs: { id: 'edit-feedback' } });
    const check = el('button', { text: 'Check the edit', attrs: { type: 'button', id: 'edit-check' } });
    const submit = el('button', { text: 'Approve as edited', attrs: { type: 'button', id: 'edit-submit' } });
    check.addEventListener('click', () => void this.#checkEdit(view, editor.value, feedback));
    submit.addEventListener('click', async () => {
      if (await this.#checkEdit(view, editor.value, feedback)) await this.#answer(view, { status: 'modified', reason: reason.value, finalPayload: editor.value });
    });
    const panel = el('div', { attrs: { id: 'edit-panel' } }, [el('h3', { text: 'Edit the file to approve instead' }), editor, el('div', { className: 'actions' }, [check, submit]), feedback]);
    byId('answer').append(panel);
    editor.focus();
  }

  /** Validates the edited file with the kind's own rules and shows the problems, or what the edit changes. */
  async #checkEdit(view: ProposalView, edited: string, feedback: HTMLElement): Promise<boolean> {
    try {
      const result = await this.#api.post<EditCheckView>(`/api/proposals/${encodeURIComponent(view.id)}/check`, { finalPayload: edited });
      if (!result.ok) {
        const problems = result.problems.map((problem) => el('li', { text: problem.line === null ? problem.text : `line ${problem.line}: ${problem.text}` }));
        feedback.replaceChildren(message(result.message, 'error'), el('ul', { attrs: { id: 'edit-problems' } }, problems));
        return false;
      }
      if (result.unchanged) {
        feedback.replaceChildren(message('The file is unchanged: approve it as proposed instead.', 'info'));
        return false;
      }
      feedback.replaceChildren(message('Valid. What the edit changes in the proposed file:', 'ok'), linesBlock(result.diff));
      return true;
    } catch (error) {
      feedback.replaceChildren(message(describeError(error), 'error'));
      return false;
    }
  }

  async #answer(view: ProposalView, answer: Pick<AnswerRequest, 'status' | 'reason' | 'finalPayload'>): Promise<void> {
    const request: AnswerRequest = { ...answer, payloadSha256: view.payloadSha256, currentFileHash: view.currentFileHash };
    for (const button of byId('detail').querySelectorAll('button')) button.disabled = true;
    this.#answeredHere.add(view.id);
    try {
      const result = await this.#api.post<AnswerView>(`/api/proposals/${encodeURIComponent(view.id)}/answer`, request);
      const text = result.outcome === 'answered' ? `${result.status} ${view.id.slice(0, 8)} (${view.kind}, bottle ${view.slug}) as ${result.responder}.` : `Not answered: ${result.description}.`;
      const fresh = await this.#api.get<ProposalView>(`/api/proposals/${encodeURIComponent(view.id)}`);
      this.#detail = fresh;
      this.#renderDetail(fresh, { text, tone: result.outcome === 'answered' ? 'ok' : 'info' });
    } catch (error) {
      this.#answeredHere.delete(view.id);
      if (error instanceof ApiError && error.code === 'changed-since-review') {
        await this.open(view.id);
        this.#status?.append(message(`${error.message} It is shown again as it is now.`, 'error'));
        return;
      }
      for (const button of byId('detail').querySelectorAll('button')) button.disabled = false;
      if (view.seal === 'forged') for (const id of ['approve', 'modify']) (document.getElementById(id) as HTMLButtonElement | null)?.setAttribute('disabled', '');
      this.#status?.replaceChildren(message(describeError(error), 'error'));
    }
  }
}
