import { EVENT_CHANGED, EVENT_PENDING, type PendingLoadView, type PendingView } from './api-types.js';
import { AuditPage } from './audit.js';
import { BottlesPage } from './bottles.js';
import { byId } from './dom.js';
import { Api } from './http.js';
import { PendingPage } from './pending.js';

type ViewName = 'pending' | 'audit' | 'bottles';

/**
 * Starts the page: the session (its CSRF token) and the pending list, both preloaded by the
 * page's HTML so they are read while these scripts load, then the three views, then the event
 * stream the server feeds from its change notifier. The stream opens with the list's version and
 * sends a list only when it changed since; EventSource reconnects by itself and names the last
 * list it got (Last-Event-ID), so nothing is missed while it was down.
 */
async function start(): Promise<void> {
  const connection = byId('connection');
  let api: Api;
  let first: PendingLoadView;
  try {
    // The same requests, with the same mode, as the HTML's preloads: the browser hands over those responses.
    performance.mark('bb:start');
    [api, first] = await Promise.all([Api.connect(), Api.load<PendingLoadView>('/api/pending')]);
    performance.mark('bb:loaded');
  } catch (error) {
    connection.textContent = error instanceof Error ? error.message : String(error);
    connection.className = 'connection down';
    return;
  }
  const pending = new PendingPage(api);
  const audit = new AuditPage(api);
  const bottles = new BottlesPage(api);
  let current: ViewName = 'pending';
  const show = (name: ViewName): void => {
    current = name;
    for (const tab of document.querySelectorAll<HTMLButtonElement>('button.tab')) tab.setAttribute('aria-selected', String(tab.dataset.view === name));
    for (const view of ['pending', 'audit', 'bottles'] as const) byId(`view-${view}`).hidden = view !== name;
    if (name === 'audit') void audit.load();
    if (name === 'bottles') void bottles.load();
  };
  for (const tab of document.querySelectorAll<HTMLButtonElement>('button.tab')) tab.addEventListener('click', () => show(tab.dataset.view as ViewName));
  show('pending');
  pending.update(first);
  // Where a load's time goes, for bench/dashboard.ts: scripts running, list and session in hand, list in the DOM.
  performance.mark('bb:listed');

  const events = new EventSource(`/api/events?have=${encodeURIComponent(first.version)}`);
  events.addEventListener('open', () => {
    connection.textContent = 'live';
    connection.className = 'connection live';
  });
  events.addEventListener('error', () => {
    connection.textContent = 'reconnecting…';
    connection.className = 'connection down';
  });
  events.addEventListener(EVENT_PENDING, (event) => pending.update(JSON.parse((event as MessageEvent<string>).data) as PendingView));
  // Decisions and expiries write the audit log and change the bottles' counts: refresh what is on screen.
  events.addEventListener(EVENT_CHANGED, () => {
    if (current === 'bottles') void bottles.load();
  });
}

void start();
