/**
 * The TUI's state machine without a terminal: key presses in, state out, against a real database
 * file with bottles proposing through their own (sealed) views.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import Database from 'better-sqlite3';
import { ALIVE_WITHIN_MS, GONE_AFTER_MS, overviewOf, type BottleOverview, type Liveness } from '../src/bottles/bottle-overview.js';
import { bottleLines, describeBottles, livenessOfSlug, sealMarks, summarizeBottles } from '../src/cli/supervise/bottles-model.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { helpLines, KEY_HELP } from '../src/cli/supervise/key-help.js';
import { columnWidths, MAX_COLUMN, pendingRow, tableLine } from '../src/cli/supervise/list-model.js';
import { SuperviseSession, type KeyPress, type SessionOptions } from '../src/cli/supervise/session.js';
import { openHostDatabase, openSidecarDatabase, type BottleDatabase, type SuperviseDatabase } from '../src/database.js';
import { readBottleKeyMaterial } from '../src/keys/key-files.js';
import { macSeal, proposalSealInput } from '../src/keys/seals.js';
import { proposalFromRow, type Proposal, type ProposalRow } from '../src/queue/proposal.js';
import { sealedProposalFields } from '../src/queue/proposal-seals.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';
import { createColors } from 'picocolors';
import { renderEdit } from '../src/cli/supervise/detail.js';
import { GITLEAKS_REPORT, REPO_ROOT, routesFor, tempDir } from './fixtures/storage-support.js';

const RESPONDER = 'operator:tester';
const LONG_SLUG = `a-very-long-bottle-name-${'x'.repeat(39)}`;
const beat = { sidecarVersion: '1.0.0', schemaVersion: SCHEMA_VERSION, liveRoutes: undefined };

describe('the supervise session', () => {
  let dir: string;
  let database: SuperviseDatabase;
  const bottles = new Map<string, BottleDatabase>();
  const sessions: SuperviseSession[] = [];

  beforeAll(async () => {
    dir = tempDir('session');
    database = await openHostDatabase({ path: path.join(dir, 'supervise.db'), watch: false });
  });

  afterEach(async () => {
    // Every test starts from an empty queue: what one left pending is rejected by the host.
    for (const proposal of database.queue.listPendingProposals({ target: 'operator' })) {
      await database.queue.writeResponse(proposal.slug, proposal.id, { status: 'rejected', responder: RESPONDER, notes: 'test cleanup' });
    }
  });

  afterAll(async () => {
    for (const bottle of bottles.values()) await bottle.close();
    await database.close();
  });

  function bottle(slug: string): BottleDatabase {
    let opened = bottles.get(slug);
    if (!opened) {
      opened = openSidecarDatabase(slug, { path: path.join(dir, 'supervise.db'), keysDir: bottleKeysDir(slug), watch: false, flood: { maxPending: 1000, perMinute: 1000 } });
      bottles.set(slug, opened);
    }
    return opened;
  }

  const propose = (slug: string, justification: string, kind = 'egress-allow'): Promise<Proposal> =>
    bottle(slug).queue.writeProposal({ kind, origin: 'agent', payload: kind === 'gitleaks-allow' ? GITLEAKS_REPORT : routesFor(`${slug}.example.com`), justification });

  function session(options: Partial<SessionOptions> = {}): SuperviseSession {
    const created = new SuperviseSession(database.queue, { responder: RESPONDER, edit: () => Promise.reject(new Error('no editor here')), onQuit: () => undefined, ...options });
    sessions.push(created);
    return created;
  }

  const press = (target: SuperviseSession, ...keys: Array<string | KeyPress>): void => {
    for (const key of keys) target.handleKey(typeof key === 'string' ? { input: key } : key);
  };
  const selectedId = (target: SuperviseSession): string | undefined => target.state.proposals[target.state.selected]?.id;

  it('? opens the help over the list or a proposal and returns to it as it was; typed into a reason it is text', async () => {
    await propose('acme', 'first');
    const target = session({ pageSize: () => 3 });
    press(target, '?');
    expect(target.state.view).toEqual({ name: 'help', back: 'list', backScroll: 0 });
    press(target, 'j', 'j');
    expect(target.state.scroll).toBe(2);
    press(target, 'a', 'r', { input: '', name: 'return' });
    // Keys that answer do nothing in the help: it is not the proposal.
    expect(target.state.view.name).toBe('help');
    expect(target.state.open).toBeUndefined();
    press(target, 'q');
    expect(target.state.view).toEqual({ name: 'list' });
    expect(target.state.scroll).toBe(0);

    press(target, { input: '', name: 'return' }, 'j', 'j', 'j', '?');
    expect(target.state.view).toEqual({ name: 'help', back: 'detail', backScroll: 3 });
    press(target, { input: '', name: 'escape' });
    expect(target.state).toMatchObject({ view: { name: 'detail' }, scroll: 3 });
    press(target, 'r', '?');
    expect(target.state.view).toEqual({ name: 'prompt', action: 'reject', text: '?' });
    expect(helpLines().join('\n')).toContain('reject (a reason is required)');
  });

  it('/ searches id, bottle, kind and justification as the list is typed, Enter keeps the search and Esc drops it', async () => {
    const pip = await propose('acme', 'pip needs the PyPI index');
    const npm = await propose('beta', 'npm needs its registry');
    const leak = await propose('gamma', 'a fixture key', 'gitleaks-allow');
    const target = session();
    const shownIds = (): string[] => target.state.shown.map((p) => p.id);
    press(target, '/', 'p', 'y', 'p', 'i');
    expect(target.state.view).toEqual({ name: 'search', text: 'pypi', before: '' });
    expect(shownIds()).toEqual([pip.id]);
    press(target, { input: '', name: 'backspace' }, { input: '', name: 'backspace' }, { input: '', name: 'backspace' }, { input: '', name: 'backspace' });
    // By bottle, kind and id prefix; several words must all match.
    press(target, 'b', 'e', 't', 'a');
    expect(shownIds()).toEqual([npm.id]);
    press(target, { input: '', name: 'escape' });
    expect(target.state.filter.query).toBe('');
    expect(shownIds()).toEqual([pip.id, npm.id, leak.id]);
    press(target, '/', ...'gitleaks', { input: '', name: 'return' });
    expect(target.state.view).toEqual({ name: 'list' });
    expect(shownIds()).toEqual([leak.id]);
    press(target, '/', { input: '', name: 'backspace' }, ...`s ${leak.id.slice(0, 8).toUpperCase()}`, { input: '', name: 'return' });
    expect(target.state.filter.query).toBe(`gitleaks ${leak.id.slice(0, 8).toUpperCase()}`);
    expect(shownIds()).toEqual([leak.id]);
    // Esc in the list takes the search back before it would quit.
    let quit = false;
    const quitting = session({ onQuit: () => (quit = true) });
    press(quitting, '/', 'z', 'z', { input: '', name: 'return' });
    expect(quitting.state.shown).toEqual([]);
    press(quitting, { input: '', name: 'escape' });
    expect(quit).toBe(false);
    expect(quitting.state.shown).toHaveLength(3);
    press(quitting, { input: '', name: 'escape' });
    expect(quit).toBe(true);
  });

  it('a search matches what the operator reads: hidden characters neither hide a proposal nor match out of sight', async () => {
    const hidden = await propose('acme', 'needs py\u200bpi.org and \u202eevil');
    const target = session();
    press(target, '/', ...'pypi');
    expect(target.state.shown).toEqual([]);
    press(target, { input: '', name: 'escape' }, '/', ...'py⟨zwsp⟩pi');
    expect(target.state.shown.map((p) => p.id)).toEqual([hidden.id]);
    // Typed control characters never reach the query, so a paste cannot put one on the screen.
    press(target, { input: '', name: 'escape' }, '/', { input: '\u001b[2Jpy' });
    expect(target.state.view).toMatchObject({ name: 'search', text: '[2Jpy' });
  });

  it('b and t show only the selected proposal’s bottle or kind, again shows all; o groups by bottle, the longest-waiting bottle first', async () => {
    const a1 = await propose('acme', 'a1');
    const b1 = await propose('beta', 'b1', 'gitleaks-allow');
    const a2 = await propose('acme', 'a2', 'gitleaks-allow');
    const b2 = await propose('beta', 'b2');
    const a3 = await propose('acme', 'a3');
    const target = session();
    const shownIds = (): string[] => target.state.shown.map((p) => p.id);
    // Bottles in turns.
    expect(shownIds()).toEqual([a1.id, b1.id, a2.id, b2.id, a3.id]);
    press(target, 'j', 'b');
    expect(target.state.filter.slug).toBe('beta');
    expect(shownIds()).toEqual([b1.id, b2.id]);
    // The cursor stays on the proposal it was on.
    expect(target.state.shown[target.state.selected]?.id).toBe(b1.id);
    press(target, 't');
    expect(shownIds()).toEqual([b1.id]);
    press(target, 'b');
    expect(shownIds()).toEqual([b1.id, a2.id]);
    press(target, 't', 'o');
    expect(shownIds()).toEqual([a1.id, a2.id, a3.id, b1.id, b2.id]);
    expect(target.state.shown[target.state.selected]?.id).toBe(b1.id);
    // A new proposal joins its bottle's group, live.
    const b3 = await propose('beta', 'b3');
    target.refresh();
    expect(shownIds()).toEqual([a1.id, a2.id, a3.id, b1.id, b2.id, b3.id]);
    press(target, 'o');
    expect(shownIds()).toEqual([a1.id, b1.id, a2.id, b2.id, a3.id, b3.id]);
  });

  it('Space, v and u mark; R rejects every marked proposal with one reason, each sealed and audited as a single rejection', async () => {
    const kept = await propose('acme', 'keep me');
    const one = await propose('beta', 'noise one');
    const two = await propose('beta', 'noise two', 'gitleaks-allow');
    const three = await propose('gamma', 'noise three');
    const target = session();
    press(target, 'R');
    expect(target.state.view.name).toBe('list');
    expect(target.state.status?.text).toMatch(/^Nothing is marked/);
    // Space marks and moves on; again unmarks.
    press(target, ' ', ' ');
    expect([...target.state.marked]).toEqual([kept.id, one.id]);
    press(target, 'k', ' ');
    expect([...target.state.marked]).toEqual([kept.id]);
    press(target, 'u');
    expect(target.state.marked.size).toBe(0);
    // v marks what is shown (here: bottle beta), and again unmarks it.
    press(target, 'g', 'j', 'b', 'v');
    expect([...target.state.marked].sort()).toEqual([one.id, two.id].sort());
    press(target, 'v');
    expect(target.state.marked.size).toBe(0);
    press(target, 'v', { input: '', name: 'escape' });
    // Bottles in turns: kept, one, three, then two.
    press(target, 'G', 'k', ' ');
    expect(target.markedProposals().map((p) => p.id)).toEqual([one.id, three.id, two.id]);

    press(target, 'R');
    expect(target.state.view).toEqual({ name: 'bulk-reject', text: '' });
    press(target, { input: '', name: 'return' });
    await vi.waitFor(() => expect(target.state.view).toMatchObject({ name: 'bulk-reject', error: expect.stringMatching(/a rejection needs a reason/) }));
    expect(database.queue.listPendingProposals({ target: 'operator' })).toHaveLength(4);
    press(target, ...'noise, not needed', { input: '', name: 'return' });
    await vi.waitFor(() => expect(target.state.view).toEqual({ name: 'list' }));
    expect(target.state.status).toEqual({ tone: 'ok', text: 'Rejected 3 proposals as operator:tester.' });
    expect(target.state.answeredCount).toBe(3);
    expect(target.state.proposals.map((p) => p.id)).toEqual([kept.id]);
    expect(target.state.marked.size).toBe(0);
    for (const proposal of [one, two, three]) {
      const response = database.queue.readResponse(proposal.slug, proposal.id);
      expect(response).toMatchObject({ status: 'rejected', notes: 'noise, not needed', responder: RESPONDER });
      const stored = database.queue.readProposal(proposal.slug, proposal.id);
      if (!stored || !response) throw new Error('missing');
      expect(database.queue.responseSeal(stored, response)).toBe('host');
      expect(database.audit.readAuditEntries({ proposalId: proposal.id })).toMatchObject([{ action: 'proposal-decision', status: 'rejected', notes: 'noise, not needed', actor: RESPONDER }]);
    }
    expect(database.audit.verify()).toMatchObject({ ok: true });
  });

  it('a bulk rejection leaves a proposal its bottle rewrote since it was listed pending and marked, and counts one settled elsewhere', async () => {
    const rewritten = await propose('acme', 'harmless looking');
    const settled = await propose('beta', 'answered by someone else');
    const plain = await propose('gamma', 'plain noise');
    const target = session();
    press(target, 'v', 'R', ...'all noise');
    // Between listing and answering: the bottle rewrites its own pending proposal (and MACs it again), and another operator answers one.
    database.db.prepare('UPDATE proposals SET payload = ? WHERE id = ?').run(routesFor('evil.example.com'), rewritten.id);
    const row = database.db.prepare('SELECT * FROM proposals WHERE id = ?').get(rewritten.id) as ProposalRow;
    const seal = macSeal(readBottleKeyMaterial(bottleKeysDir('acme')).bottleKey, proposalSealInput(sealedProposalFields(proposalFromRow(row))));
    database.db.prepare('UPDATE proposals SET seal = ? WHERE id = ?').run(seal, rewritten.id);
    await database.queue.writeResponse(settled.slug, settled.id, { status: 'approved', responder: 'operator:alice', notes: '' });
    press(target, { input: '', name: 'return' });
    await vi.waitFor(() => expect(target.state.view).toEqual({ name: 'list' }));
    expect(target.state.status?.tone).toBe('error');
    expect(target.state.status?.text).toMatch(/^Rejected 1 proposal as operator:tester\. 1 proposal had been settled elsewhere first\. 1 proposal left pending and still marked \(.*changed since it was reviewed/);
    expect([...target.state.marked]).toEqual([rewritten.id]);
    expect(database.queue.readProposal('acme', rewritten.id)?.state).toBe('pending');
    expect(database.queue.readResponse('gamma', plain.id)?.status).toBe('rejected');
    expect(database.queue.readResponse('beta', settled.id)).toMatchObject({ status: 'approved', responder: 'operator:alice' });
  });

  it('m: after the editor returns, the edit’s diff comes first and the reason is asked for under it', async () => {
    const proposal = await propose('acme', 'wants a mirror');
    const edited = `${proposal.payload}    path_allowlist:\n      - /simple/\n`;
    const seen: string[] = [];
    const target = session({
      pageSize: () => 2,
      edit: (text) => {
        seen.push(text);
        return Promise.resolve(edited);
      },
    });
    press(target, { input: '', name: 'return' }, 'j', 'j', 'j', 'm');
    await vi.waitFor(() => expect(target.state.view).toEqual({ name: 'prompt', action: 'modify', text: '', finalPayload: edited }));
    expect(seen).toEqual([proposal.payload]);
    expect(target.state.scroll).toBe(0);
    // Arrows scroll the diff; they are not typed into the reason.
    press(target, { input: '', name: 'down' }, { input: '', name: 'pageDown' }, 'j');
    expect(target.state.scroll).toBe(3);
    expect(target.state.view).toMatchObject({ text: 'j' });
    const lines = renderEdit(proposal, edited, database.queue.kinds, createColors(false));
    expect(lines[0]).toBe('Your edit (- the proposed file, + yours: what approving applies)');
    expect(lines).toEqual(expect.arrayContaining(['+    path_allowlist:', '+      - /simple/', ' routes:']));
    expect(lines.join('\n')).not.toMatch(/^(---|\+\+\+) /m);
  });

  it('renders the edit’s diff display-safe: the bottle’s lines in it cannot act on the terminal', () => {
    const hostile = { ...proposalFixture('acme'), payload: 'routes:\n  # \u001b[2J\u202eevil\n  - host: a.example.com\n' };
    const lines = renderEdit(hostile, 'routes:\n  - host: a.example.com\n', database.queue.kinds, createColors(true));
    const text = lines.join('\n');
    expect(text).toContain('⟨ESC⟩[2J⟨RLO⟩evil');
    expect(text).not.toContain('\u001b[2J');
    expect(text).not.toContain('\u202e');
  });

  it('B lists every bottle the host’s overview names, most waiting first; Enter narrows the list to it; the list is re-read on refresh', async () => {
    await bottle('idle').bottle.recordHeartbeat(beat);
    await propose('busy', 'one');
    await propose('busy', 'two');
    await propose('quiet', 'three');
    const target = session({ bottleOverview: (now) => database.bottles.overview(now) });
    press(target, 'B');
    expect(target.state.view).toEqual({ name: 'bottles', selected: 0 });
    const summaries = target.bottleSummaries().filter((summary) => ['busy', 'quiet', 'idle'].includes(summary.slug));
    // No row: nothing the bottle's key sealed, so gone, as `bot-bottle bottles` says.
    expect(summaries.map(({ slug, liveness, pending, heartbeat }) => ({ slug, liveness, pending, heartbeat }))).toEqual([
      { slug: 'busy', liveness: 'gone', pending: 2, heartbeat: 'none' },
      { slug: 'quiet', liveness: 'gone', pending: 1, heartbeat: 'none' },
      { slug: 'idle', liveness: 'alive', pending: 0, heartbeat: 'sealed' },
    ]);
    press(target, 'j', { input: '', name: 'return' });
    expect(target.state.view).toEqual({ name: 'list' });
    expect(target.state.filter.slug).toBe('quiet');
    expect(target.state.shown.map((p) => p.justification)).toEqual(['three']);
    await bottle('quiet').bottle.recordHeartbeat(beat);
    target.refresh();
    expect(target.bottleSummaries().find((summary) => summary.slug === 'quiet')?.liveness).toBe('alive');
    press(target, 'B', 'q');
    expect(target.state.view).toEqual({ name: 'list' });
  });

  it('a bottle that writes itself a fresh heartbeat with raw SQL, unsealed or under another bottle’s seal, is never alive in the bottles view, the title or its group heading', async () => {
    await propose('forger', 'unsealed');
    await propose('copier', 'copied seal');
    await bottle('honest').bottle.recordHeartbeat(beat);
    const sealed = database.bottles.readBottle('honest');
    // What a compromised bottle can do: open the shared file and write its own row.
    const raw = new Database(path.join(dir, 'supervise.db'));
    try {
      raw.prepare(`INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version) VALUES ('forger', ?, '6.6.6', ?)`).run(Date.now(), SCHEMA_VERSION);
      raw
        .prepare(`INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version, live_routes_hash, heartbeat_seal) VALUES ('copier', ?, ?, ?, ?, ?)`)
        .run(sealed?.lastHeartbeat, sealed?.sidecarVersion, sealed?.schemaVersion, sealed?.liveRoutesHash, sealed?.heartbeatSeal);
    } finally {
      raw.close();
    }
    const target = session({ bottleOverview: (now) => database.bottles.overview(now) });
    const bySlug = new Map(target.bottleSummaries().map((summary) => [summary.slug, summary]));
    expect(bySlug.get('honest')).toMatchObject({ liveness: 'alive', heartbeat: 'sealed' });
    expect(bySlug.get('forger')).toMatchObject({ liveness: 'gone', heartbeat: 'unsealed', pending: 1 });
    expect(bySlug.get('copier')).toMatchObject({ liveness: 'gone', heartbeat: 'forged', pending: 1 });
    const now = target.state.now;
    // The group headings: the same liveness, and the seal that failed.
    expect(livenessOfSlug(target.state.bottles, 'forger', now)).toBe('gone');
    expect(livenessOfSlug(target.state.bottles, 'copier', now)).toBe('gone');
    expect(sealMarks(bySlug.get('forger'))).toEqual(['heartbeat [UNSEALED]']);
    expect(sealMarks(bySlug.get('copier'))).toEqual(['heartbeat [FORGED]']);
    expect(sealMarks(bySlug.get('honest'))).toEqual([]);
    // The bottles view's rows: not alive, the seal's failure in place of the heartbeat's age, no unsealed claim.
    const lines = bottleLines(target.bottleSummaries(), now, createColors(false), 120, -1);
    const row = (slug: string): string => lines.find((line) => line.slice(2).startsWith(`${slug} `)) ?? '';
    expect(row('forger')).toMatch(/^ {2}forger +gone +1 +\[UNSEALED\] 0s +no$/);
    expect(row('forger')).not.toContain('6.6.6');
    expect(row('copier')).toMatch(/^ {2}copier +gone +1 +\[FORGED\] \d+s +no$/);
    expect(row('honest')).toMatch(/^ {2}honest +alive +0 +\d+s ago +1\.0\.0 +no$/);
    press(target, 'B');
    expect(describeBottles(target.bottleSummaries().filter((summary) => ['forger', 'copier', 'honest'].includes(summary.slug)))).toBe('3 bottles: 1 alive, 2 gone');
  });

  it('opens on the first proposal, or on the one it is told to focus however far down the fair order it is', async () => {
    for (let i = 0; i < 5; i++) await propose(`older-${i}`, `older ${i}`);
    const own = await propose('demo-abc123', 'the demo’s own');
    expect(selectedId(session())).not.toBe(own.id);
    const focused = session({ focus: own.id });
    expect(selectedId(focused)).toBe(own.id);
    expect(focused.state.selected).toBe(5);
    // Enter opens it, as the demo tells the person to do.
    press(focused, { input: '', name: 'return' });
    expect(focused.state.open?.id).toBe(own.id);
    // A focus that is not pending leaves the cursor on the first row.
    expect(session({ focus: 'no-such-id' }).state.selected).toBe(0);
  });
});

describe('bottle liveness in the terminal UI', () => {
  const overview = (fields: Partial<BottleOverview>): BottleOverview => ({ ...overviewOf('acme', undefined, undefined, undefined, 0), ...fields });

  it('takes the overview’s rule and lets it move with the clock: alive, stale, gone; retired is gone; only a sealed heartbeat counts', () => {
    const at = 1_000_000;
    const sealed = overview({ heartbeat: 'sealed', lastHeartbeat: at, liveness: 'alive' });
    expect(summarizeBottles([sealed], at + ALIVE_WITHIN_MS)[0]?.liveness).toBe('alive');
    expect(summarizeBottles([sealed], at + ALIVE_WITHIN_MS + 1)[0]?.liveness).toBe('stale');
    expect(summarizeBottles([sealed], at + GONE_AFTER_MS + 1)[0]?.liveness).toBe('gone');
    expect(summarizeBottles([{ ...sealed, registration: 'retired' }], at)[0]?.liveness).toBe('gone');
    for (const heartbeat of ['unsealed', 'forged', 'none'] as const) expect(summarizeBottles([{ ...sealed, heartbeat }], at)[0]?.liveness).toBe('gone');
    expect(livenessOfSlug([], 'nobody', at)).toBe('gone');
  });

  it('summarises the bottles for the title', () => {
    expect(describeBottles([])).toBe('no bottles known');
    const row = (liveness: Liveness) => overview({ slug: liveness, liveness });
    expect(describeBottles([row('gone'), row('alive'), row('stale'), row('alive')])).toBe('4 bottles: 2 alive, 1 stale, 1 gone');
    expect(describeBottles([row('gone')])).toBe('1 bottle: 1 gone');
  });

  it('shows every text a bottle wrote display-safe in the bottles view', () => {
    const hostile = overview({ slug: 'a\u202eb', heartbeat: 'sealed', lastHeartbeat: 0, liveness: 'alive', sidecarVersion: '1\u001b[2J' });
    const text = bottleLines([hostile], 0, createColors(false), 120, -1).join('\n');
    expect(text).toContain('a⟨RLO⟩b');
    expect(text).toContain('1⟨ESC⟩[2J');
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u202e');
  });
});

describe('the key help', () => {
  it('lists every key the session acts on, and the README lists every one of them', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The terminal UI’s keys'));
    for (const group of KEY_HELP) {
      for (const [keys, what] of group.keys) expect(section, `${keys}: ${what}`).toContain(`| ${keys} | ${what} |`);
    }
  });
});

function proposalFixture(slug: string, kind = 'egress-allow'): Proposal {
  return {
    id: '0123456789abcdef',
    seq: 1,
    slug,
    kind,
    origin: 'agent',
    target: 'operator',
    payload: '',
    justification: 'pip needs the package index to install the test dependencies',
    currentFile: null,
    currentFileHash: null,
    idempotencyKey: null,
    state: 'pending',
    createdAt: 0,
    expiresAt: null,
    updatedAt: 0,
    seal: null,
  };
}

describe('the list’s columns', () => {
  const proposal = proposalFixture;

  it('caps the bottle column at 16 with an ellipsis, leaving the justification most of 80 columns', () => {
    const rows = [pendingRow(proposal(LONG_SLUG), 1000), pendingRow(proposal('acme'), 1000)];
    const widths = columnWidths(rows, 78);
    expect(widths.slug).toBe(MAX_COLUMN.slug);
    expect(widths.justification).toBeGreaterThanOrEqual(30);
    const line = tableLine(rows[0], widths);
    expect(line).toContain(`${LONG_SLUG.slice(0, 15)}… `);
    expect(line).not.toContain(LONG_SLUG.slice(0, 16));
    expect([...line].length).toBeLessThanOrEqual(78);
    // Short slugs keep a narrow column.
    expect(columnWidths([pendingRow(proposal('acme'), 1000)], 78).slug).toBe('BOTTLE'.length);
  });

  it('caps a kind a raw row made up, and keeps its markers visible', () => {
    const rows = [pendingRow(proposal('acme', `kind\u001b[2J${'k'.repeat(40)}`), 1000)];
    const widths = columnWidths(rows, 78);
    expect(widths.kind).toBe(MAX_COLUMN.kind);
    const line = tableLine(rows[0], widths);
    expect(line).not.toContain('\u001b');
    expect(line).toContain('kind⟨ESC⟩[2J');
  });
});
