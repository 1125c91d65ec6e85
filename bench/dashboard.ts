/**
 * The web dashboard in headless chromium (playwright-core, Debian's /usr/bin/chromium), against the
 * built `bot-bottle dashboard` in its own process:
 *
 * 1. commit → visible: another process (this one, with a bottle's key, as a sidecar) enqueues a
 *    proposal; the page's MutationObserver stamps the moment its row is in the DOM. Both stamps
 *    are on the clock every process shares (performance.timeOrigin + now). Each proposal is
 *    cancelled once seen, so the list stays short.
 * 2. first load with 1,000 pending among 1,000,000 archived (--quick: 100,000): a fresh browser
 *    context opens the token URL; the time until the page shows its first page of rows (100, each
 *    bottle's oldest first) and the count of all 1,000 (redirect, HTML, scripts, session and list,
 *    render); then how long "Show all" takes to draw all 1,000 (timed in the page, to the next
 *    frame); and the server's list
 *    request alone. The page's performance marks say where the load's time went.
 *
 *   tsx bench/dashboard.ts [--quick]      needs the built CLI and chromium
 *   BENCH_DASHBOARD_ARCHIVED=N tsx bench/dashboard.ts    another archive size
 *
 * The big database is built once under .cache/bench-dashboard/ (raw inserts, then the pending rows
 * sealed with the host key kept beside it) and reused by later runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openHostDatabase, openSidecarDatabase } from '../src/database.js';
import { ensureBottleKeys, ensureHostKeyPair } from '../src/keys/key-files.js';
import { proposalFromRow, type ProposalRow } from '../src/queue/proposal.js';
import { sealedProposalFields } from '../src/queue/proposal-seals.js';
import { fillArchived } from './lib/archive-fill.js';
import { runBench } from './lib/cli.js';
import { createDatabase, currentRoutesYaml, routesYaml } from './lib/fixtures.js';
import { ms, type Table } from './lib/format.js';
import { CLI } from './lib/measured-cli.js';
import { BENCH_DIR } from './lib/results.js';
import { distribution, sharedClockMs } from './lib/stats.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const CACHE_DIR = path.join(BENCH_DIR, '..', '.cache', 'bench-dashboard');
const LIVE_TARGET_MS = 50;
const LOAD_TARGET_MS = 300;
const PENDING = 1_000;

/** The part of the page's globals the predicates use (this file compiles without the DOM's types). */
interface PageGlobals {
  document: { querySelectorAll(selector: string): { length: number }; querySelector(selector: string): { textContent: string | null } | null };
}

interface Dashboard {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

async function startDashboard(dbFile: string, home: string): Promise<Dashboard> {
  const child = spawn(process.execPath, [CLI, '--db', dbFile, 'dashboard'], { env: { ...process.env, HOME: home }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const found = /^bot-bottle dashboard: (\S+)$/.exec(line);
      if (found?.[1]) resolve(found[1]);
    });
    void exited.then(() => reject(new Error('bot-bottle dashboard exited before printing its URL')));
  });
  return {
    child,
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Stamps, on the shared clock, when each proposal's row first appears in the list. */
const OBSERVE_ROWS = `(() => {
  window.__seen = {};
  const body = document.querySelector('#pending-table tbody');
  new MutationObserver(() => {
    const now = performance.timeOrigin + performance.now();
    for (const row of body.querySelectorAll('tr[data-id]')) if (!(row.dataset.id in window.__seen)) window.__seen[row.dataset.id] = now;
  }).observe(body, { childList: true });
})()`;

/**
 * How far the page's clock (performance.timeOrigin + now in the renderer) is from this process's:
 * chromium's time origin is its own estimate of wall time, milliseconds off. The NTP trick: read
 * the page's clock between two of ours, keep the probe with the shortest round trip.
 */
async function pageClockOffset(page: Page): Promise<{ offset: number; uncertainty: number }> {
  let best = { offset: 0, uncertainty: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 30; i++) {
    const before = sharedClockMs();
    const inPage = (await page.evaluate('performance.timeOrigin + performance.now()')) as number;
    const after = sharedClockMs();
    if ((after - before) / 2 < best.uncertainty) best = { offset: inPage - (before + after) / 2, uncertainty: (after - before) / 2 };
  }
  return best;
}

interface LiveSamples {
  /** The page's stamp, corrected to this process's clock, minus the moment the enqueue was called: an upper bound (it includes the commit itself). */
  fromAsk: number[];
  /**
   * The page's stamp minus the moment writeProposal returned: a lower bound, since a loaded
   * machine can run the page before this process resumes after its commit.
   */
  inPage: number[];
  /** Until this process learns the row is there (playwright polls every 5 ms): an upper bound. */
  seenHere: number[];
  clock: { offset: number; uncertainty: number };
}

async function measureLive(browser: Browser, dir: string, samples: number): Promise<LiveSamples> {
  const home = path.join(dir, 'home');
  fs.mkdirSync(home);
  process.env.HOME = home;
  const dbFile = await createDatabase(dir, 'live.db');
  const slug = 'bench-live';
  const keysDir = ensureBottleKeys(slug, ensureHostKeyPair());
  const dashboard = await startDashboard(dbFile, home);
  const page = await browser.newPage();
  const bottle = openSidecarDatabase(slug, { path: dbFile, keysDir, watch: false });
  try {
    await page.goto(dashboard.url);
    await page.locator('#connection.live').waitFor();
    await page.evaluate(OBSERVE_ROWS);
    const clock = await pageClockOffset(page);
    const fromAsk: number[] = [];
    const inPage: number[] = [];
    const seenHere: number[] = [];
    const payload = routesYaml(1);
    const current = currentRoutesYaml();
    for (let i = 0; i < samples + 5; i++) {
      const asked = sharedClockMs();
      const proposal = await bottle.queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload, justification: `live ${i}`, currentFile: current });
      const committed = sharedClockMs();
      // A function, not a string: the page's CSP refuses eval, which a string predicate needs.
      await page.waitForFunction((id) => (globalThis as unknown as { __seen: Record<string, number> }).__seen[id] !== undefined, proposal.id, { polling: 5 });
      const known = sharedClockMs();
      const seen = (await page.evaluate(`window.__seen[${JSON.stringify(proposal.id)}]`)) as number;
      if (i >= 5) {
        fromAsk.push(seen - clock.offset - asked);
        inPage.push(seen - clock.offset - committed);
        seenHere.push(known - committed);
      }
      await bottle.queue.cancelProposal(proposal.id, { actor: 'agent', reason: 'benchmark' });
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    return { fromAsk, inPage, seenHere, clock };
  } finally {
    await bottle.close();
    await page.close();
    await dashboard.stop();
  }
}

/** The big database and the home holding the host key its pending rows are sealed with, made once and kept. */
async function bigDatabase(archived: number): Promise<{ dbFile: string; home: string; built: string }> {
  const dir = path.join(CACHE_DIR, String(archived));
  const dbFile = path.join(dir, 'big.db');
  const home = path.join(dir, 'home');
  if (fs.existsSync(path.join(dir, 'complete'))) return { dbFile, home, built: 'reused from an earlier run' };
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  const started = Date.now();
  await createDatabase(dir, 'big.db');
  fillArchived(dbFile, archived, PENDING);
  process.env.HOME = home;
  const host = await openHostDatabase({ path: dbFile, watch: false });
  try {
    // Raw rows carry no seal, and the page would show (and audit) each as forged: seal them as the host would.
    const rows = host.db.prepare(`SELECT * FROM proposals WHERE state = 'pending'`).all() as ProposalRow[];
    const update = host.db.prepare('UPDATE proposals SET seal = ? WHERE id = ?');
    host.db.transaction(() => {
      for (const row of rows) update.run(host.keyring.sealProposal(sealedProposalFields(proposalFromRow(row))), row.id);
    })();
    host.db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    await host.close();
  }
  fs.writeFileSync(path.join(dir, 'complete'), '');
  return { dbFile, home, built: `built in ${((Date.now() - started) / 1000).toFixed(0)} s` };
}

/** Where a load's time went, on the page's own clock (from the start of the navigation, redirect included), read when it was done. */
const LOAD_PHASES = `(() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const mark = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
  const fetched = (path) => performance.getEntriesByType('resource').find((entry) => new URL(entry.name).pathname === path)?.responseEnd ?? NaN;
  return { html: nav.responseEnd, scripts: mark('bb:start'), list: fetched('/api/pending'), loaded: mark('bb:loaded'), listed: mark('bb:listed') };
})()`;

/** Clicks "Show all" in the page and resolves once the next frame (style, layout, paint) is done: how long drawing every row takes. */
const SHOW_ALL = `new Promise((resolve) => {
  const started = performance.now();
  document.getElementById('pending-all').click();
  requestAnimationFrame(() => setTimeout(() => resolve({ ms: performance.now() - started, rows: document.querySelectorAll('#pending-table tbody tr').length }), 0));
})`;

interface LoadPhases {
  html: number;
  scripts: number;
  list: number;
  loaded: number;
  listed: number;
}

interface FirstLoads {
  /** Until the first page of rows and the count are on screen. */
  loads: number[];
  /** From there, "Show all" clicked (in the page) until every row is drawn and the next frame done. */
  showAll: number[];
  phases: LoadPhases[];
  /** GET /api/pending alone, over HTTP with the session cookie: the server's share. */
  server: number[];
  built: string;
  sizeMiB: number;
}

/** The page's first page of rows: pending-list.ts's PAGE_ROWS. */
const FIRST_PAGE_ROWS = 100;

async function measureFirstLoad(browser: Browser, archived: number, runs: number): Promise<FirstLoads> {
  const { dbFile, home, built } = await bigDatabase(archived);
  const dashboard = await startDashboard(dbFile, home);
  try {
    const loads: number[] = [];
    const showAll: number[] = [];
    const phases: LoadPhases[] = [];
    for (let i = 0; i < runs + 2; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(dashboard.url, { waitUntil: 'commit' });
      // Loaded: the first page of rows on screen and the count of all of them.
      await page.waitForFunction(
        ([rows, count]) => {
          const { document } = globalThis as unknown as PageGlobals;
          return document.querySelectorAll('#pending-table tbody tr').length === rows && document.querySelector('#pending-count')?.textContent === String(count);
        },
        [Math.min(FIRST_PAGE_ROWS, PENDING), PENDING] as const,
        { polling: 'raf' },
      );
      const elapsed = performance.now() - started;
      const phase = (await page.evaluate(LOAD_PHASES)) as LoadPhases;
      // Timed in the page: a click from here costs playwright's own round trips, more than the drawing.
      const drawn = (await page.evaluate(SHOW_ALL)) as { ms: number; rows: number };
      if (drawn.rows !== PENDING) throw new Error(`Show all drew ${drawn.rows} rows, not ${PENDING}`);
      if (i >= 2) {
        loads.push(elapsed);
        showAll.push(drawn.ms);
        phases.push(phase);
      }
      await context.close();
    }
    return { loads, showAll, phases, server: await serverListTimes(dashboard.url, runs), built, sizeMiB: fs.statSync(dbFile).size / 2 ** 20 };
  } finally {
    await dashboard.stop();
  }
}

/** The pending list's request alone, as the page's preload makes it: the server's part of a load. */
async function serverListTimes(url: string, runs: number): Promise<number[]> {
  const first = await fetch(url, { redirect: 'manual' });
  const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const listUrl = new URL('/api/pending', url);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const response = await fetch(listUrl, { headers: { Cookie: cookie } });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`GET /api/pending answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

function archivedSize(quick: boolean): number {
  const text = process.env.BENCH_DASHBOARD_ARCHIVED;
  if (text === undefined) return quick ? 100_000 : 1_000_000;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < PENDING) throw new Error(`BENCH_DASHBOARD_ARCHIVED needs a whole number of at least ${PENDING}, got ${JSON.stringify(text)}.`);
  return value;
}

await runBench('dashboard', async ({ quick, dir }) => {
  if (!fs.existsSync(CLI)) throw new Error(`the built CLI is missing (${CLI}); run \`npm run build\` first.`);
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (scripts/install-system-deps.sh).`);
  const archived = archivedSize(quick);
  const samples = quick ? 40 : 200;
  const runs = quick ? 5 : 20;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const samplesLive = await measureLive(browser, dir, samples);
    const live = distribution(samplesLive.fromAsk);
    const liveAfter = distribution(samplesLive.inPage);
    const liveHere = distribution(samplesLive.seenHere);
    const load = await measureFirstLoad(browser, archived, runs);
    const first = distribution(load.loads);
    const all = distribution(load.showAll);
    const server = distribution(load.server);
    const phase = (pick: (phases: LoadPhases) => number): string => ms(distribution(load.phases.map(pick)).p50, 1);
    const liveTable: Table = {
      title: `Commit → row visible in the page (${samples} proposals, one at a time), milliseconds`,
      columns: ['measured', 'p50', 'p90', 'p99', 'max'],
      rows: [
        ['enqueue called → row in the DOM (page stamp, clock-corrected; includes the commit)', ms(live.p50, 1), ms(live.p90, 1), ms(live.p99, 1), ms(live.max, 1)],
        ['enqueue returned → row in the DOM (a lower bound)', ms(liveAfter.p50, 1), ms(liveAfter.p90, 1), ms(liveAfter.p99, 1), ms(liveAfter.max, 1)],
        ['enqueue returned → known to the benchmark (5 ms polling)', ms(liveHere.p50, 1), ms(liveHere.p90, 1), ms(liveHere.p99, 1), ms(liveHere.max, 1)],
      ],
    };
    const loadTable: Table = {
      title: `First load, ${PENDING.toLocaleString('en-US')} pending among ${archived.toLocaleString('en-US')} archived (${runs} loads, fresh browser context each), milliseconds`,
      columns: ['measured', 'p50', 'p90', 'max'],
      rows: [
        [`token URL → first ${Math.min(FIRST_PAGE_ROWS, PENDING)} rows and the count on screen`, ms(first.p50, 1), ms(first.p90, 1), ms(first.max, 1)],
        [`then "Show all" (clicked in the page) → all ${PENDING.toLocaleString('en-US')} rows drawn, next frame done`, ms(all.p50, 1), ms(all.p90, 1), ms(all.max, 1)],
        ['GET /api/pending alone (the server\'s share; warm)', ms(server.p50, 1), ms(server.p90, 1), ms(server.max, 1)],
      ],
    };
    const phaseTable: Table = {
      title: 'Where a first load\'s time goes, p50 of each moment on the page\'s clock (from the navigation\'s start, redirect included), milliseconds',
      columns: ['HTML in', 'scripts running', 'list in (preloaded)', 'list and session in hand', 'first rows in the DOM'],
      rows: [[phase((p) => p.html), phase((p) => p.scripts), phase((p) => p.list), phase((p) => p.loaded), phase((p) => p.listed)]],
    };
    return {
      params: { archived, pending: PENDING, samples, runs },
      tables: [liveTable, loadTable, phaseTable],
      targets: [
        { name: 'commit → visible in the browser', target: `≤ ${LIVE_TARGET_MS} ms (p50)`, actual: `${ms(live.p50, 1)} ms (p99 ${ms(live.p99, 1)} ms)`, met: live.p50 <= LIVE_TARGET_MS },
        { name: `first load, ${PENDING} pending among ${archived.toLocaleString('en-US')} archived`, target: `≤ ${LOAD_TARGET_MS} ms (p50)`, actual: `${ms(first.p50, 1)} ms to the first ${Math.min(FIRST_PAGE_ROWS, PENDING)} rows and the count (all ${PENDING} rows ${ms(all.p50, 1)} ms after "Show all")`, met: first.p50 <= LOAD_TARGET_MS },
      ],
      notes: [
        `Page clock offset ${ms(samplesLive.clock.offset, 2)} ms ± ${ms(samplesLive.clock.uncertainty, 2)} ms (corrected for); smallest sample after the enqueue returned ${ms(liveAfter.min, 1)} ms (negative: the page ran before this process resumed).`,
        `Big database: ${load.sizeMiB.toFixed(0)} MiB, ${load.built}.`,
      ],
      data: { live, liveAfter, liveHere, first, showAll: all, server, phases: load.phases, clock: samplesLive.clock },
    };
  } finally {
    await browser.close();
  }
});
