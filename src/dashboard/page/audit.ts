import type { AuditEntryView, AuditListView, AuditRowView, VerifyView } from './api-types.js';
import { isoTime, shortTime } from '../../core/time.js';
import { byId, el, linesBlock, message } from './dom.js';
import type { Api } from './http.js';

/** The audit log: filters (the same as `audit list`), an entry's detail with its diff, and verify. */
export class AuditPage {
  readonly #api: Api;
  readonly #form: HTMLFormElement;

  constructor(api: Api) {
    this.#api = api;
    this.#form = byId<HTMLFormElement>('audit-filters');
    this.#form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.load();
    });
    byId('audit-verify').addEventListener('click', () => void this.verify());
    byId('audit-table').addEventListener('click', (event) => {
      const seq = (event.target as HTMLElement).closest('tr[data-seq]')?.getAttribute('data-seq');
      if (seq) void this.show(seq);
    });
  }

  async load(): Promise<void> {
    const query = new URLSearchParams();
    for (const [name, value] of new FormData(this.#form)) if (typeof value === 'string' && value.trim() !== '') query.set(name, value.trim());
    const note = byId('audit-message');
    try {
      const view = await this.#api.get<AuditListView>(`/api/audit?${query.toString()}`);
      const body = byId('audit-table').querySelector('tbody') as HTMLTableSectionElement;
      body.replaceChildren(...view.rows.map((row) => rowElement(row)));
      const filtered = [...query.keys()].length > 0;
      const count = `${view.rows.length} entr${view.rows.length === 1 ? 'y' : 'ies'} shown, newest first, of ${view.headCount} in the log`;
      note.replaceChildren(document.createTextNode(view.rows.length === 0 && filtered ? 'No audit entries match: widen the filters.' : `${count}.`));
      note.className = 'message';
      note.hidden = false;
    } catch (error) {
      note.replaceChildren(document.createTextNode(error instanceof Error ? error.message : String(error)));
      note.className = 'message error';
      note.hidden = false;
    }
  }

  async show(seq: string): Promise<void> {
    const pane = byId('audit-detail');
    try {
      const entry = await this.#api.get<AuditEntryView>(`/api/audit/${encodeURIComponent(seq)}`);
      pane.replaceChildren(...entryElements(entry));
    } catch (error) {
      pane.replaceChildren(message(error instanceof Error ? error.message : String(error), 'error'));
    }
  }

  async verify(): Promise<void> {
    const pane = byId('audit-detail');
    pane.replaceChildren(message('Verifying the whole log…', 'info'));
    try {
      pane.replaceChildren(...verifyElements(await this.#api.post<VerifyView>('/api/audit/verify', {})));
    } catch (error) {
      pane.replaceChildren(message(error instanceof Error ? error.message : String(error), 'error'));
    }
  }
}

function rowElement(row: AuditRowView): HTMLTableRowElement {
  const cells = [String(row.seq), shortTime(row.ts), row.slug, row.component, row.action, row.kind, row.status, row.actor, row.notes];
  return el('tr', { attrs: { 'data-seq': String(row.seq) } }, cells.map((text) => el('td', { text })));
}

function entryElements(entry: AuditEntryView): Node[] {
  const field = (name: string, value: string): HTMLElement => el('p', {}, [el('strong', { text: `${name} ` }), document.createTextNode(value)]);
  return [
    el('h2', { text: `Audit entry ${entry.seq}` }),
    field('time', isoTime(entry.ts)),
    field('bottle', entry.slug),
    field('component', entry.component),
    field('action', entry.action),
    field('kind', entry.kind),
    field('proposal', entry.proposalId),
    field('status', entry.status),
    field('actor', entry.actor),
    el('h3', { text: 'Notes' }),
    entry.notesLines.length === 0 ? el('p', { className: 'muted', text: '(none)' }) : linesBlock(entry.notesLines.map((text) => ({ tone: 'plain', text }))),
    field('prev hash', entry.prevHash),
    field('hash', entry.hash),
    entry.contentsMatchHash ? message('The hash matches the contents.', 'ok') : message('The hash DOES NOT match the contents: verify the log.', 'error'),
    el('h3', { text: 'Diff' }),
    entry.diff.length === 0 ? el('p', { className: 'muted', text: '(no diff)' }) : linesBlock(entry.diff),
  ];
}

function verifyElements(result: VerifyView): Node[] {
  const parts: Node[] = [el('h2', { text: 'Verify' })];
  if (result.chain.ok) parts.push(message(`The audit chain is intact: ${result.chain.count} entries. head ${result.chain.head}:${result.chain.count}`, 'ok'));
  else parts.push(message(`The audit log was tampered with at entry ${result.chain.firstBadSeq}: ${result.chain.reason}. Entries 1–${result.chain.validCount} are intact.`, 'error'));
  if (result.answerProblems.length === 0) parts.push(message(`Every recorded answer checks out: ${result.answersChecked}.`, 'ok'));
  else {
    parts.push(message(`${result.answerProblems.length} of ${result.answersChecked} recorded answers do not check out:`, 'error'));
    parts.push(el('ul', {}, result.answerProblems.map((problem) => el('li', { text: `${problem.proposalId} (bottle ${problem.slug}): ${problem.reason}` }))));
  }
  return [el('div', { attrs: { id: 'verify-result', 'data-ok': String(result.ok) } }, parts)];
}
