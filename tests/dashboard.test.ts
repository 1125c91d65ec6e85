/**
 * The web dashboard end to end: the built `bot-bottle dashboard` in a child process, real HTTP,
 * Debian's chromium headless (playwright-core), and proposers in other processes that wait for the
 * answer as a sidecar does (tests/fixtures/tui-proposer.ts: waitForResponse, then archive).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHostDatabase } from '../src/database.js';
import { browserUnavailable, launchChromium, rawRequest, sessionCookie, startDashboardProcess, type DashboardProcess } from './fixtures/dashboard-support.js';
import { Child, tempDir } from './fixtures/storage-support.js';

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
});
