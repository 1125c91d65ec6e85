import type { BottleView } from './api-types.js';
import { byId, el, formatAge } from './dom.js';
import type { Api } from './http.js';

/** The bottles the database knows, beside how many proposals each has waiting. */
export class BottlesPage {
  readonly #api: Api;

  constructor(api: Api) {
    this.#api = api;
  }

  async load(): Promise<void> {
    const body = byId('bottles-table').querySelector('tbody') as HTMLTableSectionElement;
    try {
      const bottles = await this.#api.get<BottleView[]>('/api/bottles');
      const now = Date.now();
      body.replaceChildren(
        ...bottles.map((bottle) =>
          el('tr', { attrs: { 'data-slug': bottle.slug } }, [
            el('td', { text: bottle.slug }),
            el('td', { className: `state-${bottle.state}`, text: bottle.state }),
            el('td', { text: String(bottle.pending) }),
            el('td', { text: bottle.lastHeartbeat === null ? '-' : `${formatAge(now - bottle.lastHeartbeat)} ago` }),
            el('td', { text: bottle.sidecarVersion }),
            el('td', { text: bottle.schemaVersion === null ? '-' : String(bottle.schemaVersion) }),
            el('td', { text: bottle.liveRoutesHash === '-' ? '-' : `${bottle.liveRoutesHash.slice(0, 12)}…` }),
            el('td', { text: bottle.backend }),
            el('td', { text: bottle.image }),
          ]),
        ),
      );
      byId('bottles-empty').hidden = bottles.length > 0;
    } catch (error) {
      const empty = byId('bottles-empty');
      empty.textContent = error instanceof Error ? error.message : String(error);
      empty.hidden = false;
    }
  }
}
