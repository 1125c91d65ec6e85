/**
 * The web dashboard end to end: the built `bot-bottle dashboard` in a child process, real HTTP,
 * Debian's chromium headless (playwright-core), and proposers in other processes that wait for the
 * answer as a sidecar does (tests/fixtures/tui-proposer.ts: waitForResponse, then archive).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { openHostDatabase, openSidecarDatabase } from '../src/database.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';
import { CLI } from './fixtures/dashboard-support.js';
import { browserUnavailable, launchChromium, rawRequest, sessionCookie, startDashboardProcess, type DashboardProcess } from './fixtures/dashboard-support.js';
import { HTML_INJECTION_CORPUS } from './fixtures/html-injection-corpus.js';
import { Child, GITLEAKS_REPORT, tempDir } from './fixtures/storage-support.js';

const CURRENT = 'routes:\n  - host: api.github.com\n';
const PROPOSED = 'routes:\n  - host: api.github.com\n  - host: pypi.org\n';
const EDITED = 'routes:\n  - host: api.github.com\n  - host: pypi.org\n    path_allowlist:\n      - /simple/\n';
const INVALID = 'routes:\n  - host: https://pypi.org/simple\n';

interface Answer {
  outcome: string;
  status?: string;
  notes?: string;
  finalPayload?: string | null;
  responder?: string;
}

/**
 * Run in the page after a hostile proposal is shown (a string: the tests are compiled without the
 * DOM's types): whether any script ran, and every element and handler the page holds.
 */
const INSPECT_PAGE = `(() => ({
  pwned: window.__pwned ?? null,
  tags: [...document.querySelectorAll('#detail *, #pending-table *')].map((element) => element.tagName),
  handlers: document.querySelectorAll('[onerror],[onload],[onclick],[onfocus],[ontoggle],[srcdoc]').length,
  injected: document.querySelectorAll('#injected, iframe, object, img, svg, math, base, meta[http-equiv], link[href^="https:"], style, a').length,
  scripts: [...document.scripts].map((script) => script.getAttribute('src')),
  editor: document.getElementById('editor')?.value ?? null,
  hidden: getComputedStyle(document.body).display,
}))()`;

/**
 * A POST declaring `length` bytes, of which only the first 64 KiB are sent, over a raw socket: an
 * HTTP client library gives up on a server that answers before the body is complete, which is
 * exactly what a refusal of an oversized body does.
 */
function oversizedPost(port: number, target: string, headers: Record<string, string>, length: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = received.split('\r\n\r\n', 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body: body.replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '') });
    });
    const lines = [`POST ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, `Content-Length: ${length}`, 'Connection: close', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
    socket.write(`${lines.join('\r\n')}\r\n\r\n${'x'.repeat(64 * 1024)}`);
    setTimeout(() => socket.end(), 2000);
  });
}

/** What an event stream sends in its first half second, comments dropped: empty when it sends no list on joining. */
function firstEvent(base: string, target: string, cookie: string, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get(new URL(target, base), { headers: { Cookie: cookie, ...headers } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      setTimeout(() => {
        request.destroy();
        resolve(text.split('\n\n').filter((block) => block !== '' && !block.startsWith(':')).join('\n\n'));
      }, 500);
    });
    request.on('error', (error) => (request.destroyed ? undefined : reject(error)));
  });
}

const unavailable = browserUnavailable();
if (unavailable !== undefined && process.env.CI === 'true') throw new Error(`the dashboard tests must run in CI: ${unavailable}`);

describe.skipIf(unavailable !== undefined)(`bot-bottle dashboard in headless chromium${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let dir: string;
  let dbFile: string;
  let dashboard: DashboardProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const children: Child[] = [];

  function file(name: string, text: string): string {
    const target = path.join(dir, name);
    fs.writeFileSync(target, text);
    return target;
  }

  /** A bottle-side proposer in another process; resolves once its proposal is committed. */
  async function propose(slug: string, kind: string, payload: string, justification: string, current?: string): Promise<{ child: Child; id: string }> {
    const tag = `${slug}-${children.length}`;
    const args = [dbFile, slug, kind, file(`${tag}-payload`, payload), justification, ...(current === undefined ? [] : [file(`${tag}-current`, current)])];
    const child = new Child('tui-proposer.ts', args);
    children.push(child);
    await child.ready();
    const { id } = await child.nextJson<{ id: string }>();
    return { child, id };
  }

  /**
   * Enqueues as a bottle's sidecar does (its own key, its own connection) without a child process:
   * for tests that need many proposals, where a child each would take seconds apiece.
   */
  async function enqueue(slug: string, kind: string, payload: string, justification: string, currentFile?: string): Promise<string> {
    const bottle = openSidecarDatabase(slug, { path: dbFile, keysDir: bottleKeysDir(slug), watch: false });
    try {
      return (await bottle.queue.writeProposal({ kind, origin: 'agent', payload, justification, ...(currentFile === undefined ? {} : { currentFile }) })).id;
    } finally {
      await bottle.close();
    }
  }

  async function openProposal(id: string): Promise<void> {
    await page.locator(`#pending-table tr[data-id="${id}"]`).click();
    await page.locator('#detail h2', { hasText: id }).waitFor();
  }

  function proposalState(id: string): string {
    const db = new Database(dbFile, { readonly: true });
    try {
      return (db.prepare('SELECT state FROM proposals WHERE id = ?').pluck().get(id) as string | undefined) ?? 'missing';
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    dir = tempDir('dashboard');
    dbFile = path.join(dir, 'bot-bottle.db');
    await (await openHostDatabase({ path: dbFile, watch: false })).close();
    dashboard = await startDashboardProcess(dbFile, { USER: 'tester' });
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await browser?.close();
    for (const child of children) child.kill();
    await Promise.all(children.map((child) => child.exited));
    const code = await dashboard?.stop();
    expect(code, dashboard?.stderr()).toBe(0);
  });

  it('refuses requests without the token, with a wrong token, and under another Host name', async () => {
    const bare = await rawRequest(dashboard.base, { path: '/' });
    expect(bare.status).toBe(401);
    expect(bare.body).toContain('needs its token');
    expect((await rawRequest(dashboard.base, { path: '/api/pending' })).status).toBe(401);
    expect((await rawRequest(dashboard.base, { path: '/?token=wrong' })).status).toBe(401);
    const tokenPath = new URL(dashboard.url).pathname + new URL(dashboard.url).search;
    const rebound = await rawRequest(dashboard.base, { path: tokenPath, headers: { Host: `attacker.example:${dashboard.port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('answers only to');
    expect(rebound.headers['set-cookie']).toBeUndefined();
    const cookie = await sessionCookie(dashboard);
    expect((await rawRequest(dashboard.base, { path: '/api/pending', headers: { Cookie: cookie, Host: `attacker.example:${dashboard.port}` } })).status).toBe(403);
    expect((await rawRequest(dashboard.base, { path: '/api/pending', headers: { Cookie: cookie } })).status).toBe(200);

    const browserPage = await context.newPage();
    const refused = await browserPage.goto(dashboard.base);
    expect(refused?.status()).toBe(401);
    await browserPage.close();
  });

  it('loads with the token, drops it from the address bar and sends a strict CSP', async () => {
    const response = await page.goto(dashboard.url);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${dashboard.base}/`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(response?.headers()['referrer-policy']).toBe('no-referrer');
    await page.locator('#connection.live').waitFor();
    await page.locator('#pending-empty').waitFor();
    expect(await page.locator('#pending-count').textContent()).toBe('0');
  });

  it('shows a proposal enqueued by another process live, and approving it wakes that process', async () => {
    const { child, id } = await propose('acme', 'egress-allow', PROPOSED, 'needs PyPI to install dependencies', CURRENT);
    await page.locator(`#pending-table tr[data-id="${id}"]`).waitFor();
    expect(await page.locator('#pending-count').textContent()).toBe('1');
    await openProposal(id);
    const detail = await page.locator('#detail').innerText();
    expect(detail).toContain('needs PyPI to install dependencies');
    expect(await page.locator('#detail pre.lines span.add').allTextContents()).toContain('+  - host: pypi.org');
    await page.locator('#approve').click();
    const answer = await child.nextJson<Answer>();
    expect(answer).toMatchObject({ outcome: 'answered', status: 'approved', responder: 'operator:tester' });
    await page.locator('#detail-status .message.ok', { hasText: 'approved' }).waitFor();
    await page.locator(`#pending-table tr[data-id="${id}"]`).waitFor({ state: 'detached' });
    expect(await child.exited).toBe(0);
  });

  it('modifies with the kind’s own validation: an invalid edit is refused with its problems, a valid one wakes the waiter with the edited file', async () => {
    const { child, id } = await propose('acme', 'egress-allow', PROPOSED, 'PyPI for pip', CURRENT);
    await page.locator(`#pending-table tr[data-id="${id}"]`).waitFor();
    await openProposal(id);
    await page.locator('#modify').click();
    await page.locator('#editor').fill(INVALID);
    await page.locator('#edit-check').click();
    await page.locator('#edit-problems li').first().waitFor();
    expect(await page.locator('#edit-problems').innerText()).toMatch(/line 2/);
    expect(proposalState(id)).toBe('pending');

    await page.locator('#editor').fill(EDITED);
    await page.locator('#reason').fill('only the simple index');
    await page.locator('#edit-submit').click();
    const answer = await child.nextJson<Answer>();
    expect(answer).toMatchObject({ outcome: 'answered', status: 'modified', notes: 'only the simple index', finalPayload: EDITED, responder: 'operator:tester' });
    await page.locator('#detail-status .message.ok', { hasText: 'modified' }).waitFor();
  });

  it('rejects only with a reason, and the reason reaches the waiter', async () => {
    const { child, id } = await propose('beta', 'egress-allow', PROPOSED, 'wants pypi', CURRENT);
    await page.locator(`#pending-table tr[data-id="${id}"]`).waitFor();
    await openProposal(id);
    await page.locator('#reject').click();
    await page.locator('#detail-status .message.error', { hasText: 'needs a reason' }).waitFor();
    expect(proposalState(id)).toBe('pending');
    await page.locator('#reason').fill('use the internal mirror');
    await page.locator('#reject').click();
    expect(await child.nextJson<Answer>()).toMatchObject({ outcome: 'answered', status: 'rejected', notes: 'use the internal mirror' });
  });

  it('refuses a state-changing request without the CSRF token, from another origin, or not as JSON, and writes nothing', async () => {
    const { child, id } = await propose('gamma', 'egress-allow', PROPOSED, 'csrf target', CURRENT);
    await page.locator(`#pending-table tr[data-id="${id}"]`).waitFor();
    const view = (await page.evaluate(async (proposalId) => (await fetch(`/api/proposals/${proposalId}`)).json(), id)) as { payloadSha256: string; currentFileHash: string | null };
    const body = JSON.stringify({ status: 'approved', reason: '', payloadSha256: view.payloadSha256, currentFileHash: view.currentFileHash });
    // From the page itself (the cookie is sent), but without the header only its script can add.
    const withoutHeader = await page.evaluate(
      async ([proposalId, json]) => {
        const response = await fetch(`/api/proposals/${proposalId}/answer`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: json });
        return { status: response.status, body: (await response.json()) as { error: string } };
      },
      [id, body] as const,
    );
    expect(withoutHeader.status).toBe(403);
    expect(withoutHeader.body.error).toContain('x-csrf-token');

    const cookie = await sessionCookie(dashboard);
    const session = JSON.parse((await rawRequest(dashboard.base, { path: '/api/session', headers: { Cookie: cookie } })).body) as { csrfToken: string };
    const answerPath = `/api/proposals/${id}/answer`;
    const json = { 'Content-Type': 'application/json', Cookie: cookie };
    const wrongToken = await rawRequest(dashboard.base, { path: answerPath, method: 'POST', headers: { ...json, 'x-csrf-token': 'x'.repeat(43) }, body });
    expect(wrongToken.status).toBe(403);
    const crossOrigin = await rawRequest(dashboard.base, { path: answerPath, method: 'POST', headers: { ...json, 'x-csrf-token': session.csrfToken, Origin: 'http://attacker.example' }, body });
    expect(crossOrigin.status).toBe(403);
    const crossSite = await rawRequest(dashboard.base, { path: answerPath, method: 'POST', headers: { ...json, 'x-csrf-token': session.csrfToken, 'Sec-Fetch-Site': 'cross-site' }, body });
    expect(crossSite.status).toBe(403);
    const asForm = await rawRequest(dashboard.base, { path: answerPath, method: 'POST', headers: { Cookie: cookie, 'x-csrf-token': session.csrfToken, 'Content-Type': 'text/plain' }, body });
    expect(asForm.status).toBe(415);
    expect(proposalState(id)).toBe('pending');

    // A bad answer with every check passed is still refused with what to fix, and writes nothing.
    const badHash = await rawRequest(dashboard.base, { path: answerPath, method: 'POST', headers: { ...json, 'x-csrf-token': session.csrfToken }, body: JSON.stringify({ ...JSON.parse(body), payloadSha256: 'f'.repeat(64) }) });
    expect(badHash.status).toBe(409);
    expect(JSON.parse(badHash.body)).toMatchObject({ code: 'changed-since-review' });
    expect(proposalState(id)).toBe('pending');

    // The same request with the page's token is answered: the checks above were the only obstacle.
    const allowed = await rawRequest(dashboard.base, { path: answerPath, method: 'POST', headers: { ...json, 'x-csrf-token': session.csrfToken }, body });
    expect(allowed.status).toBe(200);
    expect(await child.nextJson<Answer>()).toMatchObject({ outcome: 'answered', status: 'approved' });
  });
  it('lists pending proposals fair across bottles: each bottle’s oldest first, then each one’s next', async () => {
    const flood: string[] = [];
    for (let i = 0; i < 3; i++) flood.push(await enqueue('flood', 'egress-allow', PROPOSED, `flood ${i}`, CURRENT));
    const quiet = await enqueue('quiet', 'egress-allow', PROPOSED, 'the one question', CURRENT);
    await page.locator(`#pending-table tr[data-id="${quiet}"]`).waitFor();
    const order = await page.locator('#pending-table tbody tr').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { id: string } }).dataset.id));
    expect(order).toEqual([flood[0], quiet, flood[1], flood[2]]);
  });

  it('renders a corpus of HTML and script injection in justifications and payloads as inert text', async () => {
    const ids: string[] = [];
    for (const [index, attack] of HTML_INJECTION_CORPUS.entries()) {
      const payload = `# ${attack}\nroutes:\n  - host: api.github.com\n  - host: pypi.org # ${attack}\n`;
      ids.push(await enqueue(`inject-${index}`, 'egress-allow', payload, `${attack}\nsecond line: ${attack}`, `# ${attack}\n${CURRENT}`));
    }
    const report = JSON.parse(GITLEAKS_REPORT) as { findings: Array<Record<string, unknown>> };
    const finding = report.findings[0] ?? {};
    const hostileReport = JSON.stringify({ findings: HTML_INJECTION_CORPUS.map((attack) => ({ ...finding, file: attack, line_text: `${attack} # gitleaks:allow` })) });
    ids.push(await enqueue('inject-report', 'gitleaks-allow', hostileReport, HTML_INJECTION_CORPUS.join(' ')));
    await page.locator(`#pending-table tr[data-id="${ids.at(-1) ?? ''}"]`).waitFor();

    const allowed = new Set(['H2', 'H3', 'P', 'DIV', 'PRE', 'SPAN', 'INPUT', 'BUTTON', 'STRONG', 'UL', 'LI', 'TEXTAREA', 'TR', 'TD', 'TH', 'TBODY', 'THEAD']);
    for (const id of ids) {
      await openProposal(id);
      if (await page.locator('#modify').isVisible()) await page.locator('#modify').click();
      const found = (await page.evaluate(INSPECT_PAGE)) as { pwned: unknown; tags: string[]; handlers: number; injected: number; scripts: Array<string | null>; editor: string | null; hidden: string };
      expect(found.pwned).toBeNull();
      expect(found.tags.filter((tag) => !allowed.has(tag))).toEqual([]);
      expect(found.handlers).toBe(0);
      expect(found.injected).toBe(0);
      expect(found.scripts).toEqual(['/static/app.js']);
      expect(found.hidden).toBe('block');
      expect(page.url()).toBe(`${dashboard.base}/`);
      if (found.editor !== null) expect(found.editor).toContain('routes:');
    }
    // Shown as the text it is, with the bidi override made visible rather than obeyed.
    await openProposal(ids[0] ?? '');
    expect(await page.locator('#detail').textContent()).toContain('<script>window.__pwned = "script"</script>');
    await openProposal(ids[HTML_INJECTION_CORPUS.length - 1] ?? '');
    expect(await page.locator('#detail').textContent()).toContain('approve me ⟨RLO⟩evil.example⟨PDF⟩ as github.com');
    expect(await page.locator('#detail [data-warning="warn"]').first().textContent()).toContain('hidden or control character');
    // A rejection quoting the attack lands in the audit log, shown as text there too.
    await openProposal(ids[1] ?? '');
    await page.locator('#reason').fill(HTML_INJECTION_CORPUS[1] ?? '');
    await page.locator('#reject').click();
    await page.locator('#detail-status .message.ok', { hasText: 'rejected' }).waitFor();
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 180_000);

  it('shows the bottles as the host’s overview does: liveness, seals and pending counts', async () => {
    // The sidecar's heartbeat, sealed with its bottle's key.
    const flood = openSidecarDatabase('flood', { path: dbFile, keysDir: bottleKeysDir('flood'), watch: false });
    try {
      await flood.bottle.recordHeartbeat({ sidecarVersion: '0.1.0', schemaVersion: 1, liveRoutes: undefined });
    } finally {
      await flood.close();
    }
    await page.locator('button.tab[data-view="bottles"]').click();
    const row = page.locator('#bottles-table tr[data-slug="flood"]');
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 3)).toEqual(['flood', 'alive', '3']);
    expect(cells[3]).toMatch(/^\d+s ago$/);
    expect(cells[4]).toBe('0.1.0');
    expect(cells[7]).toBe('no');
    // A bottle with proposals waiting but no row is listed too: never heard from with its own key, so gone.
    expect((await page.locator('#bottles-table tr[data-slug="quiet"] td').allTextContents()).slice(0, 4)).toEqual(['quiet', 'gone', '1', 'never']);
  });

  it('never shows a bottle alive on a heartbeat its own key did not seal, written with raw SQL: not in /api/bottles, not on the page', async () => {
    // What a compromised bottle can do: write its own row in the shared file. `quiet` (a proposal
    // pending) freshens itself a heartbeat with no seal and a registration with no host signature;
    // `copier` copies flood's sealed heartbeat onto its own row.
    const raw = new Database(dbFile);
    try {
      const sealed = raw.prepare(`SELECT last_heartbeat, sidecar_version, schema_version, live_routes_hash, heartbeat_seal FROM bottles WHERE slug = 'flood'`).get() as Record<string, unknown>;
      raw
        .prepare(`INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version, backend, image, started_at, registration_seal) VALUES ('quiet', ?, '6.6.6\u001b[2J', 1, 'docker', 'trusted:latest', ?, 'mac:00')`)
        .run(Date.now() + 60_000, Date.now());
      raw
        .prepare(`INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version, live_routes_hash, heartbeat_seal) VALUES ('copier', ?, ?, ?, ?, ?)`)
        .run(sealed.last_heartbeat, sealed.sidecar_version, sealed.schema_version, sealed.live_routes_hash, sealed.heartbeat_seal);
    } finally {
      raw.close();
    }
    const api = (await page.evaluate(async () => (await fetch('/api/bottles')).json())) as Array<Record<string, unknown>>;
    const bySlug = new Map(api.map((bottle) => [bottle.slug, bottle]));
    expect(bySlug.get('flood')).toMatchObject({ liveness: 'alive', heartbeat: 'sealed', sidecarVersion: '0.1.0' });
    expect(bySlug.get('quiet')).toMatchObject({ liveness: 'gone', heartbeat: 'unsealed', registration: 'forged', sidecarVersion: '-', backend: '-', image: '-', startedAt: null, pending: 1 });
    expect(bySlug.get('copier')).toMatchObject({ liveness: 'gone', heartbeat: 'forged', sidecarVersion: '-', pending: 0 });
    expect(JSON.stringify(api)).not.toContain('6.6.6');

    await page.locator('button.tab[data-view="audit"]').click();
    await page.locator('button.tab[data-view="bottles"]').click();
    await page.locator('#bottles-table tr[data-slug="copier"]').waitFor();
    const quiet = await page.locator('#bottles-table tr[data-slug="quiet"] td').allTextContents();
    expect(quiet.slice(0, 3)).toEqual(['quiet', 'gone', '1']);
    expect(quiet[3]).toMatch(/^\[UNSEALED\]/);
    expect(quiet[4]).toBe('-');
    expect(quiet.slice(7)).toEqual(['[FORGED]', '-', '-']);
    const copier = await page.locator('#bottles-table tr[data-slug="copier"] td').allTextContents();
    expect(copier.slice(0, 4)).toEqual(['copier', 'gone', '0', expect.stringMatching(/^\[FORGED\]/)]);
    expect(await page.locator('#bottles-table .liveness-alive').allTextContents()).toEqual(['alive']);
  });

  it('filters the audit log, shows an entry, and verifies the log (and notices tampering)', async () => {
    await page.locator('button.tab[data-view="audit"]').click();
    await page.locator('#audit-table tbody tr').first().waitFor();
    await page.locator('#audit-filters input[name="bottle"]').fill('beta');
    await page.locator('#audit-filters button[type="submit"]').click();
    await page.locator('#audit-message', { hasText: '1 entry shown' }).waitFor();
    const rows = await Promise.all((await page.locator('#audit-table tbody tr').all()).map((tr) => tr.locator('td').allTextContents()));
    expect(rows).toHaveLength(1);
    expect(rows[0]?.[2]).toBe('beta');
    expect(rows[0]?.[6]).toBe('rejected');
    expect(rows[0]?.[8]).toBe('use the internal mirror');

    await page.locator('#audit-filters input[name="bottle"]').fill('not a slug!');
    await page.locator('#audit-filters button[type="submit"]').click();
    await page.locator('#audit-message.error').waitFor();

    await page.locator('#audit-filters input[name="bottle"]').fill('');
    await page.locator('#audit-filters input[name="status"]').fill('modified');
    await page.locator('#audit-filters button[type="submit"]').click();
    await page.locator('#audit-message', { hasText: '1 entry shown' }).waitFor();
    await page.locator('#audit-table tbody tr').first().click();
    await page.locator('#audit-detail h2', { hasText: 'Audit entry' }).waitFor();
    expect(await page.locator('#audit-detail').textContent()).toContain('The hash matches the contents.');

    await page.locator('#audit-verify').click();
    await page.locator('#verify-result[data-ok="true"]').waitFor();
    expect(await page.locator('#verify-result').textContent()).toContain('The audit chain is intact');

    // Someone with raw access rewrites a decision's notes: verify names the entry.
    const db = new Database(dbFile);
    try {
      db.exec('DROP TRIGGER audit_entries_no_update');
      db.prepare("UPDATE audit_entries SET notes = 'nothing to see' WHERE slug = 'beta'").run();
    } finally {
      db.close();
    }
    await page.locator('#audit-verify').click();
    await page.locator('#verify-result[data-ok="false"]').waitFor();
    expect(await page.locator('#verify-result').textContent()).toContain('tampered with at entry');
  });

  it('refuses malformed API input with a message naming the fix, and writes nothing', async () => {
    const id = await enqueue('hostile-api', 'egress-allow', PROPOSED, 'api target', CURRENT);
    const cookie = await sessionCookie(dashboard);
    const session = JSON.parse((await rawRequest(dashboard.base, { path: '/api/session', headers: { Cookie: cookie } })).body) as { csrfToken: string };
    const post = (path: string, body: string) =>
      rawRequest(dashboard.base, { path, method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json', 'x-csrf-token': session.csrfToken }, body });
    const error = (response: { body: string }) => JSON.parse(response.body) as { code: string; error: string };

    const notJson = await post(`/api/proposals/${id}/answer`, '{"status": "approved",');
    expect(notJson.status).toBe(400);
    expect(error(notJson).error).toContain('not valid JSON');
    const badStatus = await post(`/api/proposals/${id}/answer`, JSON.stringify({ status: 'owned', reason: '', payloadSha256: 'a'.repeat(64), currentFileHash: null }));
    expect(badStatus.status).toBe(400);
    expect(error(badStatus).error).toContain('"approved", "modified" or "rejected"');
    const notAnId = await post(`/api/proposals/${encodeURIComponent("' OR 1=1 --")}/answer`, '{}');
    expect(notAnId.status).toBe(400);
    expect(error(notAnId).error).toContain('full lowercase UUID');
    const unknown = await rawRequest(dashboard.base, { path: '/api/proposals/00000000-0000-4000-8000-000000000000', headers: { Cookie: cookie } });
    expect(unknown.status).toBe(404);
    // Refused on its declared length: the status line comes back while the body is still being sent.
    const huge = await oversizedPost(dashboard.port, `/api/proposals/${id}/check`, { Cookie: cookie, 'Content-Type': 'application/json', 'x-csrf-token': session.csrfToken }, 2 * 1024 * 1024);
    expect(huge.status).toBe(413);
    expect(error(huge).error).toContain('over');
    const badFilter = await rawRequest(dashboard.base, { path: '/api/audit?status=%3Cscript%3E&limit=5', headers: { Cookie: cookie } });
    expect(badFilter.status).toBe(400);
    expect(error(badFilter).error).toContain('lowercase letters');
    for (const path of ['/static/..%2F..%2Fserver.js', '/static/%2e%2e%2fapp.js', '/static/main.js.map', '/static/../../package.json']) {
      expect((await rawRequest(dashboard.base, { path, headers: { Cookie: cookie } })).status, path).toBe(404);
    }
    expect(proposalState(id)).toBe('pending');
  });

  /** The list as the server gives it, read from the page (its cookie): ids in the server's order. */
  async function serverList(): Promise<string[]> {
    const view = (await page.evaluate(async () => (await fetch('/api/pending')).json())) as { rows: Array<{ id: string }> };
    return view.rows.map((row) => row.id);
  }

  async function shownIds(): Promise<string[]> {
    return page.locator('#pending-table tbody tr').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { id: string } }).dataset.id));
  }

  it('draws the first 100 rows with the counts of all, the late bottle’s one question among them; Show more and Show all bring every row', async () => {
    await page.goto(`${dashboard.base}/`);
    // One bottle floods (its quota raised for the test), then another asks once: fair order puts that one early.
    const flood = openSidecarDatabase('pager', { path: dbFile, keysDir: bottleKeysDir('pager'), watch: false, flood: { maxPending: 500, perMinute: 500 } });
    try {
      for (let i = 0; i < 180; i++) await flood.queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: PROPOSED, justification: `page ${i}`, currentFile: CURRENT });
    } finally {
      await flood.close();
    }
    const late = await enqueue('late', 'egress-allow', PROPOSED, 'the late question', CURRENT);
    const all = await serverList();
    expect(all.length).toBeGreaterThan(200);
    await page.locator('#pending-count', { hasText: String(all.length) }).waitFor();
    await page.locator(`#pending-table tr[data-id="${late}"]`).waitFor();
    expect(await shownIds()).toEqual(all.slice(0, 100));
    expect(all.indexOf(late)).toBeLessThan(100);
    expect(await page.locator('#pending-summary').textContent()).toMatch(new RegExp(`^${all.length} pending from \\d+ bottles, the first 100 shown`));
    expect(await page.locator('#pending-summary').textContent()).not.toContain('FORGED');

    await page.locator('#pending-next', { hasText: 'Show 100 more' }).click();
    await page.locator('#pending-table tbody tr').nth(199).waitFor();
    expect(await shownIds()).toEqual(all.slice(0, 200));
    await page.locator('#pending-all').click();
    await page.locator('#pending-more').waitFor({ state: 'hidden' });
    expect(await shownIds()).toEqual(all);
    // Show all stays all: a proposal arriving now is drawn too.
    const after = await enqueue('pager-2', 'egress-allow', PROPOSED, 'after show all', CURRENT);
    await page.locator(`#pending-table tr[data-id="${after}"]`).waitFor();
    expect(await shownIds()).toEqual(await serverList());
  }, 120_000);

  it('reads the list once per load: the page takes the preloaded response, and the stream opened with its version sends no second copy', async () => {
    const fresh = await context.newPage();
    const lists: string[] = [];
    fresh.on('request', (request) => {
      if (new URL(request.url()).pathname === '/api/pending') lists.push(request.resourceType());
    });
    try {
      await fresh.goto(`${dashboard.base}/`);
      await fresh.locator('#connection.live').waitFor();
      await fresh.locator('#pending-table tbody tr').first().waitFor();
      expect(lists).toHaveLength(1);
      const stream = (await fresh.evaluate(() => performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname))) as string[];
      expect(stream.filter((path) => path === '/api/pending')).toHaveLength(1);
      // Over HTTP: the current version gets no list, an old one (or none) the whole list at once.
      const cookie = await sessionCookie(dashboard);
      const { version } = JSON.parse((await rawRequest(dashboard.base, { path: '/api/pending', headers: { Cookie: cookie } })).body) as { version: string };
      expect(await firstEvent(dashboard.base, `/api/events?have=${encodeURIComponent(version)}`, cookie)).toBe('');
      const resent = await firstEvent(dashboard.base, '/api/events?have=0.0', cookie);
      expect(resent.startsWith('event: pending\ndata: {"rows":')).toBe(true);
      expect(/\nid: ([0-9a-f]+\.\d+)$/.exec(resent)?.[1]).toBe(version);
      expect(await firstEvent(dashboard.base, '/api/events', cookie, { 'Last-Event-ID': version })).toBe('');
    } finally {
      await fresh.close();
    }
  });

  it('flags rows forged or changed with raw SQL in the list, the counts and the detail, and audits them', async () => {
    const sealed = await enqueue('victim', 'egress-allow', PROPOSED, 'an honest request', CURRENT);
    const unsealed = '00000000-0000-4000-8000-00000000f0f0';
    const raw = new Database(dbFile);
    try {
      // A bottle with raw access swaps the payload under a valid seal, and writes a row with none.
      raw.prepare('UPDATE proposals SET payload = ? WHERE id = ?').run('routes:\n  - host: evil.example\n', sealed);
      raw
        .prepare(`INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, state, created_at, updated_at) VALUES (?, 'victim', 'egress-allow', 'agent', 'operator', ?, 'no seal at all', 'pending', ?, ?)`)
        .run(unsealed, PROPOSED, Date.now(), Date.now());
    } finally {
      raw.close();
    }
    // Raw SQL rings no doorbell: a load reads the list as it is.
    await page.reload();
    for (const id of [sealed, unsealed]) {
      await page.locator(`#pending-table tr[data-id="${id}"] .mark.forged`, { hasText: '[FORGED]' }).waitFor();
    }
    expect(await page.locator('#pending-table .mark.forged').count()).toBe(2);
    expect(await page.locator('#pending-summary').textContent()).toContain('· 2 FORGED');
    await openProposal(sealed);
    expect(await page.locator('#detail [data-warning="danger"]').textContent()).toContain('FORGED');
    expect(await page.locator('#approve').isDisabled()).toBe(true);
    const audited = (): number => {
      const db = new Database(dbFile, { readonly: true });
      try {
        return db.prepare(`SELECT count(*) FROM audit_entries WHERE action = 'forged-row' AND proposal_id IN (?, ?)`).pluck().get(sealed, unsealed) as number;
      } finally {
        db.close();
      }
    };
    await expect.poll(audited).toBe(2);
  });

  it('opens the URL with the desktop opener when asked (--open)', async () => {
    const bin = path.join(dir, 'opener-bin');
    const opened = path.join(dir, 'opened-url');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > ${JSON.stringify(opened)}\n`, { mode: 0o755 });
    const second = await startDashboardProcess(dbFile, { PATH: `${bin}:${process.env.PATH ?? ''}` }, ['--open']);
    try {
      for (let i = 0; i < 100 && !fs.existsSync(opened); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fs.readFileSync(opened, 'utf8')).toBe(second.url);
      expect(second.url).not.toBe(dashboard.url);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('refuses to listen on a non-loopback address unless forced', () => {
    for (const host of ['0.0.0.0', 'example.com']) {
      const run = spawnSync(process.execPath, [CLI, '--db', dbFile, 'dashboard', '--host', host], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(host === '0.0.0.0' ? /not a loopback address.*--force-host/ : /not an IP address/);
    }
  });
});
