import type { PendingRowView, PendingView } from './api-types.js';
import { byId, el, formatAge } from './dom.js';

/**
 * Rows drawn at first, and added by each "Show more". A list of a thousand proposals is read a
 * screenful at a time, and drawing every row cost more than the rest of a page load; the server's
 * fair order puts each bottle's oldest first, so the first rows already hold every bottle's
 * question. The counts above the table say how many there are in all, and how many are forged.
 */
export const PAGE_ROWS = 100;

/** The pending table: the first rows of the server's list, more on request, and the counts. */
export class PendingList {
  #view: PendingView = { rows: [], readAt: 0 };
  #shown = PAGE_ROWS;
  #selected: string | undefined;
  /** One row's elements, cloned for each row: cheaper than building five cells apiece. */
  readonly #template = el('tr', {}, [el('td'), el('td'), el('td'), el('td'), el('td', { className: 'excerpt' })]);

  constructor(open: (id: string) => void) {
    byId('pending-table').addEventListener('click', (event) => {
      const row = (event.target as HTMLElement).closest('tr[data-id]');
      const id = row?.getAttribute('data-id');
      if (id) open(id);
    });
    byId('pending-next').addEventListener('click', () => this.#showMore(PAGE_ROWS));
    byId('pending-all').addEventListener('click', () => this.#showMore(Number.POSITIVE_INFINITY));
  }

  get rows(): readonly PendingRowView[] {
    return this.#view.rows;
  }

  /** A new list from the server: as many rows are shown as were before (at least a page). */
  update(view: PendingView): void {
    this.#view = view;
    this.#draw();
  }

  select(id: string): void {
    this.#selected = id;
    for (const tr of byId('pending-table').querySelectorAll('tr[data-id]')) tr.classList.toggle('selected', tr.getAttribute('data-id') === id);
  }

  /** Infinity for "Show all", which stays all as the list grows. */
  #showMore(rows: number): void {
    this.#shown = Math.min(this.#view.rows.length, this.#shown) + rows;
    this.#draw();
  }

  #draw(): void {
    const { rows } = this.#view;
    const shown = rows.slice(0, Math.max(PAGE_ROWS, this.#shown));
    const now = Date.now();
    byId('pending-count').textContent = String(rows.length);
    (byId('pending-table').querySelector('tbody') as HTMLTableSectionElement).replaceChildren(...shown.map((row) => this.#rowElement(row, now)));
    byId('pending-empty').hidden = rows.length > 0;
    this.#drawCounts(rows, shown.length);
  }

  #drawCounts(rows: readonly PendingRowView[], shown: number): void {
    const hidden = rows.length - shown;
    const bottles = new Set(rows.map((row) => row.slug)).size;
    const forged = rows.filter((row) => row.forged).length;
    const summary = byId('pending-summary');
    summary.hidden = rows.length === 0;
    summary.textContent =
      `${rows.length} pending from ${bottles} bottle${bottles === 1 ? '' : 's'}` +
      (hidden > 0 ? `, the first ${shown} shown (each bottle’s oldest first)` : '') +
      (forged > 0 ? ` · ${forged} FORGED` : '');
    byId('pending-more').hidden = hidden === 0;
    byId('pending-next').textContent = `Show ${Math.min(PAGE_ROWS, hidden)} more`;
    byId('pending-all').textContent = `Show all ${rows.length}`;
  }

  #rowElement(row: PendingRowView, now: number): HTMLTableRowElement {
    const tr = this.#template.cloneNode(true) as HTMLTableRowElement;
    tr.setAttribute('data-id', row.id);
    const [id, slug, kind, age, excerpt] = tr.cells as unknown as [HTMLTableCellElement, HTMLTableCellElement, HTMLTableCellElement, HTMLTableCellElement, HTMLTableCellElement];
    id.textContent = row.shortId;
    slug.textContent = row.slug;
    kind.textContent = row.kind;
    age.textContent = formatAge(now - row.createdAt);
    if (row.forged) excerpt.append(el('span', { className: 'mark forged', text: '[FORGED]' }));
    if (row.stale) excerpt.append(el('span', { className: 'mark stale', text: '[STALE]' }));
    excerpt.append(row.excerpt);
    if (row.id === this.#selected) tr.classList.add('selected');
    return tr;
  }
}
