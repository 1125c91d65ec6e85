import type { BottleView } from './api-types.js';
import { byId, el, formatAge } from './dom.js';
import type { Api } from './http.js';

/** The heartbeat as far as its seal carries it: its age, or a mark saying the bottle's key did not seal it. */
function heartbeatCell(bottle: BottleView, now: number): HTMLElement {
  const when = bottle.lastHeartbeat === null ? '' : `${formatAge(now - bottle.lastHeartbeat)} ago`;
  if (bottle.heartbeat === 'none') return el('td', { text: 'never' });
  if (bottle.heartbeat === 'sealed') return el('td', { text: when });
  return el('td', {}, [el('span', { className: 'mark forged', text: bottle.heartbeat === 'forged' ? '[FORGED]' : '[UNSEALED]' }), document.createTextNode(when)]);
}

function registrationCell(bottle: BottleView): HTMLElement {
  if (bottle.registration === 'forged') return el('td', {}, [el('span', { className: 'mark forged', text: '[FORGED]' })]);
  return el('td', { text: { registered: 'yes', retired: 'retired', unregistered: 'no' }[bottle.registration] });
}

/** The bottles as the host's overview shows them (liveness and seals decided on the server), beside how many proposals each has waiting. */
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
            el('td', { className: `liveness-${bottle.liveness}`, text: bottle.liveness }),
            el('td', { text: String(bottle.pending) }),
            heartbeatCell(bottle, now),
            el('td', { text: bottle.sidecarVersion }),
            el('td', { text: bottle.schemaVersion === null ? '-' : String(bottle.schemaVersion) }),
            el('td', { text: bottle.liveRoutesHash === '-' ? '-' : `${bottle.liveRoutesHash.slice(0, 12)}…` }),
            registrationCell(bottle),
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
