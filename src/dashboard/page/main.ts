import { EVENT_CHANGED, EVENT_PENDING, type PendingView } from './api-types.js';
import { AuditPage } from './audit.js';
import { BottlesPage } from './bottles.js';
import { byId } from './dom.js';
import { Api } from './http.js';
import { PendingPage } from './pending.js';

type ViewName = 'pending' | 'audit' | 'bottles';

/**
 * Starts the page: the session (its CSRF token), the three views, and the event stream the server
 * feeds from its change notifier. EventSource reconnects by itself; each (re)connection starts
 * with the whole pending list, so nothing is missed while it was down.
 */
async function start(): Promise<void> {
  const connection = byId('connection');
  // The stream needs no CSRF token: it opens at once, beside the session request, and the list
  // that arrives first is kept until the views exist.
  const events = new EventSource('/api/events');
  let firstList: PendingView | undefined;
  const keepFirst = (event: Event): void => {
    firstList = JSON.parse((event as MessageEvent<string>).data) as PendingView;
  };
  events.addEventListener(EVENT_PENDING, keepFirst);
  events.addEventListener('open', () => {
    connection.textContent = 'live';
    connection.className = 'connection live';
  });
  events.addEventListener('error', () => {
    connection.textContent = 'reconnecting…';
    connection.className = 'connection down';
  });
  let api: Api;
  try {
    api = await Api.connect();
  } catch (error) {
    events.close();
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

  events.removeEventListener(EVENT_PENDING, keepFirst);
  events.addEventListener(EVENT_PENDING, (event) => pending.update(JSON.parse((event as MessageEvent<string>).data) as PendingView));
  // Decisions and expiries write the audit log and change the bottles' counts: refresh what is on screen.
  events.addEventListener(EVENT_CHANGED, () => {
    if (current === 'bottles') void bottles.load();
  });
  show('pending');
  if (firstList) pending.update(firstList);
}

void start();
