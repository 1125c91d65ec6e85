/**
 * The TUI's state machine without a terminal: key presses in, state out, against a real database
 * file with bottles proposing through their own (sealed) views.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { helpLines, KEY_HELP } from '../src/cli/supervise/key-help.js';
import { columnWidths, MAX_COLUMN, pendingRow, tableLine } from '../src/cli/supervise/list-model.js';
import { SuperviseSession, type KeyPress, type SessionOptions } from '../src/cli/supervise/session.js';
import { openHostDatabase, openSidecarDatabase, type BottleDatabase, type SuperviseDatabase } from '../src/database.js';
import type { Proposal } from '../src/queue/proposal.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';
import { GITLEAKS_REPORT, REPO_ROOT, routesFor, tempDir } from './fixtures/storage-support.js';

const RESPONDER = 'operator:tester';
const LONG_SLUG = `a-very-long-bottle-name-${'x'.repeat(39)}`;

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

describe('the key help', () => {
  it('lists every key the session acts on, and the README lists every one of them', () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### The terminal UI’s keys'));
    for (const group of KEY_HELP) {
      for (const [keys, what] of group.keys) expect(section, `${keys}: ${what}`).toContain(`| ${keys} | ${what} |`);
    }
  });
});

describe('the list’s columns', () => {
  const proposal = (slug: string, kind = 'egress-allow'): Proposal => ({
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
  });

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
