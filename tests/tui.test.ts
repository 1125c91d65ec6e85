/**
 * The supervise TUI driven in a real terminal: tmux runs it in a pseudo-terminal, sends keys and
 * reads the screen. Proposals come from other processes that wait for the answer as a sidecar does.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, assertBuilt as assertCliBuilt } from './fixtures/cli-support.js';
import { createColors } from 'picocolors';
import { colorDiff } from '../src/cli/supervise/detail.js';
import { excerpt, formatAge } from '../src/cli/supervise/list-model.js';
import { displayWidth, layoutLine } from '../src/cli/supervise/styled-line.js';
import { toKeyPresses, visibleWindow } from '../src/cli/supervise/tui.js';
import { openHostDatabase } from '../src/database.js';
import { sha256 } from '../src/core/hash.js';
import { Child, FIXTURES_DIR, GITLEAKS_REPORT, REPO_ROOT, tempDir } from './fixtures/storage-support.js';
import { TmuxTerminal } from './fixtures/tui-terminal.js';

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

describe('supervise TUI in a terminal (tmux)', () => {
  let dir: string;
  let dbFile: string;
  let editorDir: string;
  const children: Child[] = [];

  let terminal: TmuxTerminal;
  const screen = (): string => terminal.screen();
  const keys = (...names: string[]): void => terminal.keys(...names);
  const type = (text: string): void => terminal.type(text);
  const waitForText = (text: string): Promise<string> => terminal.waitForText(text);

  function payloadFile(name: string, text: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }

  /** A proposer in another process; resolves with its id once the proposal is committed. */
  async function propose(slug: string, kind: string, payload: string, justification: string, current?: string): Promise<{ child: Child; id: string }> {
    const args = [dbFile, slug, kind, payloadFile(`${slug}-payload`, payload), justification, ...(current === undefined ? [] : [payloadFile(`${slug}-current`, current)])];
    const child = new Child('tui-proposer.ts', args);
    children.push(child);
    await child.ready();
    const { id } = await child.nextJson<{ id: string }>();
    return { child, id };
  }

  beforeAll(async () => {
    assertCliBuilt();
    dir = tempDir('tui');
    terminal = new TmuxTerminal(dir);
    dbFile = path.join(dir, 'bot-bottle.db');
    editorDir = path.join(dir, 'editor');
    fs.mkdirSync(editorDir);
    fs.writeFileSync(path.join(editorDir, 'edit-1'), INVALID);
    fs.writeFileSync(path.join(editorDir, 'edit-2'), EDITED);
    await (await openHostDatabase({ path: dbFile, watch: false })).close();

    terminal.start(
      `cd ${JSON.stringify(REPO_ROOT)} && env USER=tester EDITOR=${JSON.stringify(path.join(FIXTURES_DIR, 'tui-editor.sh'))} TUI_EDITOR_DIR=${JSON.stringify(editorDir)} ` +
        `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --db ${JSON.stringify(dbFile)} supervise`,
    );
    await waitForText('No pending proposals');
  });

  afterAll(async () => {
    terminal?.kill();
    for (const child of children) child.process.kill('SIGKILL');
    await Promise.all(children.map((child) => child.exited));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows a proposal from another process without a keypress, with its diff, and approves it with a reason', async () => {
    const { child, id } = await propose('acme', 'egress-allow', PROPOSED, 'pip needs the package index', CURRENT);
    await waitForText('pip needs the package index');
    expect(screen()).toContain(id.slice(0, 8));

    keys('Enter');
    const detail = await waitForText('+  - host: pypi.org');
    expect(detail).toContain(`Proposal ${id}`);
    expect(detail).toContain('a approve · m modify in $EDITOR · r reject');

    keys('a');
    await waitForText('Reason for approving (optional, Enter to skip)');
    type('read-only index');
    keys('Enter');
    await expect(child.nextJson<Answer>()).resolves.toEqual({ outcome: 'answered', status: 'approved', notes: 'read-only index', finalPayload: null, responder: 'operator:tester' });
    await waitForText('approved');
    await waitForText('No pending proposals');
  });

  it('modifies through $EDITOR: an invalid edit is refused with the reason, a second edit is accepted', async () => {
    const { child } = await propose('beta', 'egress-allow', PROPOSED, 'beta wants pypi', CURRENT);
    await waitForText('beta wants pypi');
    keys('Enter');
    await waitForText('m modify in $EDITOR');
    keys('m');
    const refused = await waitForText('the edited file is not valid: e edit again · c cancel');
    expect(refused).toContain('not a valid egress-allow payload');
    expect(fs.readFileSync(path.join(editorDir, 'seen-1'), 'utf8')).toBe(PROPOSED);

    keys('e');
    await waitForText('Reason for the modification (optional, Enter to skip)');
    // The second edit started from the first, so nothing typed in the editor is lost.
    expect(fs.readFileSync(path.join(editorDir, 'seen-2'), 'utf8')).toBe(INVALID);
    type('only /simple/');
    keys('Enter');
    await expect(child.nextJson<Answer>()).resolves.toEqual({ outcome: 'answered', status: 'modified', notes: 'only /simple/', finalPayload: EDITED, responder: 'operator:tester' });
    await waitForText('modified');
  });

  it('rejects only with a reason, and does not offer modify for a gitleaks report', async () => {
    const { child } = await propose('gamma', 'gitleaks-allow', GITLEAKS_REPORT, 'test fixture key');
    await waitForText('test fixture key');
    keys('Enter');
    const detail = await waitForText('a approve (reason required) · r reject');
    expect(detail).not.toContain('m modify');
    keys('m');
    await waitForText('gitleaks-allow proposals cannot be modified');

    keys('r');
    await waitForText('Reason for rejecting (required)');
    keys('Enter');
    await waitForText('a rejection needs a reason');
    // Text and Enter in one write, as a paste delivers them: still a reason, then a submit.
    type('a real key, rotate it\r');
    await expect(child.nextJson<Answer>()).resolves.toEqual({ outcome: 'answered', status: 'rejected', notes: 'a real key, rotate it', finalPayload: null, responder: 'operator:tester' });
  });

  it('requires a reason to approve a gitleaks report', async () => {
    const { child } = await propose('delta', 'gitleaks-allow', GITLEAKS_REPORT, 'delta fixture');
    await waitForText('delta fixture');
    keys('Enter');
    await waitForText('a approve (reason required)');
    keys('a');
    await waitForText('Reason for approving (required)');
    keys('Enter');
    await waitForText('approving a gitleaks-allow proposal needs a reason');
    type('documented test fixture');
    keys('Enter');
    await expect(child.nextJson<Answer>()).resolves.toMatchObject({ status: 'approved', notes: 'documented test fixture' });
  });

  it('shows a proposal answered elsewhere as such, live, instead of failing', async () => {
    const { child, id } = await propose('epsilon', 'egress-allow', PROPOSED, 'epsilon asks', CURRENT);
    await waitForText('epsilon asks');
    keys('Enter');
    await waitForText(`Proposal ${id}`);

    const cli = spawnSync(process.execPath, [CLI, '--db', dbFile, 'supervise', 'approve', id, '--reason', 'done from a script', '--expect-sha256', sha256(PROPOSED)], {
      cwd: REPO_ROOT,
      env: { ...process.env, USER: 'other' },
      encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(0);
    await expect(child.nextJson<Answer>()).resolves.toMatchObject({ status: 'approved', responder: 'operator:other' });
    await waitForText('Answered elsewhere: approved by operator:other (reason: "done from a script")');

    keys('a');
    await waitForText('Nothing to answer');
    keys('q');
    await waitForText('No pending proposals');
  });

  it('quits on q and says how many it answered', async () => {
    keys('q');
    const done = await waitForText('exit=');
    expect(done).toContain('Answered 4 proposals.');
    expect(done).toContain('exit=0');
  });
});

describe('TUI building blocks', () => {
  const plain = { upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false, return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false, super: false, hyper: false, capsLock: false, numLock: false };

  it('splits text that arrived with Enter in one read into key presses', () => {
    expect(toKeyPresses('ok\r', plain)).toEqual([{ input: 'o' }, { input: 'k' }, { input: '\r', name: 'return' }]);
    expect(toKeyPresses('a', plain)).toEqual([{ input: 'a' }]);
    expect(toKeyPresses('', { ...plain, return: true })).toEqual([{ input: '', name: 'return' }]);
    expect(toKeyPresses('c', { ...plain, ctrl: true })).toEqual([{ input: 'c', name: 'interrupt' }]);
    expect(toKeyPresses('', { ...plain, delete: true })).toEqual([{ input: '', name: 'backspace' }]);
  });

  it('keeps the selected row inside the visible window', () => {
    const rows = Array.from({ length: 100 }, (_, i) => i);
    expect(visibleWindow(rows, 0, 10)).toEqual({ start: 0, items: rows.slice(0, 10) });
    expect(visibleWindow(rows, 50, 10).items).toContain(50);
    expect(visibleWindow(rows, 99, 10)).toEqual({ start: 90, items: rows.slice(90) });
    expect(visibleWindow([1, 2], 1, 10)).toEqual({ start: 0, items: [1, 2] });
  });

  it('formats ages and squeezes justifications to the column', () => {
    expect([formatAge(59_999), formatAge(60_000), formatAge(3_600_000), formatAge(90_000_000), formatAge(-5)]).toEqual(['59s', '1m', '1h', '1d', '0s']);
    expect(excerpt('first line\n  second', 40)).toBe('first line second');
    expect(excerpt('abcdefghij', 5)).toBe('abcd…');
  });

  it('colours a diff only when colour is on', () => {
    const diff = '--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n same\n';
    expect(colorDiff(diff, createColors(false))).toEqual(['--- a', '+++ b', '@@ -1 +1 @@', '-old', '+new', ' same']);
    const coloured = colorDiff(diff, createColors(true));
    expect(coloured[3]).toBe('\u001b[31m-old\u001b[39m');
    expect(coloured[4]).toBe('\u001b[32m+new\u001b[39m');
  });

  it('makes a diff display-safe before colouring it, so its text cannot end or change the colour', () => {
    expect(colorDiff('+a\u001b[8mb\u202e\tc\n', createColors(true))).toEqual(['\u001b[32m+a⟨ESC⟩[8mb⟨RLO⟩⟨TAB⟩c\u001b[39m']);
  });

  it('wraps a line onto rows that repeat its lead and ↪, keeping every character', () => {
    const line = { lead: '+', spans: [{ text: 'abcdefghij' }] };
    expect(layoutLine(line)).toEqual(['+abcdefghij']);
    expect(layoutLine(line, 5)).toEqual(['+abcd', '+↪efg', '+↪hij']);
    // Wide characters take two columns; a row never splits one.
    expect(displayWidth('日本a')).toBe(5);
    expect(layoutLine({ lead: '  ', spans: [{ text: '日本語です' }] }, 7)).toEqual(['  日本', '  ↪語で', '  ↪す']);
    // Narrower than the lead: still one character a row, and it ends.
    expect(layoutLine({ lead: '    ', spans: [{ text: 'xyz' }] }, 2)).toEqual(['    x', '    ↪y', '    ↪z']);
  });

  it('paints each span of a wrapped row and the row as a whole', () => {
    const colors = createColors(true);
    const rows = layoutLine({ spans: [{ text: 'ab', paint: colors.bold }, { text: 'cd' }], paint: colors.red }, 3);
    expect(rows).toEqual([colors.red(`${colors.bold('ab')}c`), colors.red('↪d')]);
  });
});
