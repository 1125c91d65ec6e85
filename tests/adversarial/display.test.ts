// Threat: an agent writes text for the operator's terminal to interpret. Its justification, YAML
// comments and path_allowlist entries reached the terminal raw in `supervise --once`, `audit show`
// and the TUI: "harmless" was erased and a green "Reviewed by security" printed in its place, and a
// route (exfil.attacker.example) was drawn concealed. Every bottle-originated string now reaches a
// terminal with its control, escape, bidi and zero-width characters shown as ⟨NAME⟩ markers. Checked
// through a real terminal (tmux, reading back both the text and the attributes it is drawn with) and
// through `cat -v`. Also here: `supervise --once | head -1` ended in an EPIPE stack trace.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasUnsafeCharacters } from '../../src/core/safe-text.js';
import { formatLogLine } from '../../sidecar/log-line.js';
import { CLI, assertBuilt as assertCliBuilt, runCli, type CliRun } from '../fixtures/cli-support.js';
import { writeLegacyTree } from '../fixtures/cli-legacy-tree.js';
import { ARGV_ESCAPE_CORPUS, FILE_ESCAPE_CORPUS } from '../fixtures/escape-corpus.js';
import { assertBuilt, hostDatabase, killChildren, runSidecar, tempDir, type HostFixture } from '../fixtures/sidecar-harness.js';
import { REPO_ROOT } from '../fixtures/storage-support.js';
import { TmuxTerminal } from '../fixtures/tui-terminal.js';

const SLUG = 'mallory';
const HARMLESS = 'The change is harmless';
const FAKE = 'Reviewed by security';
/** What the operator would read on a raw terminal: "harmless" erased, a green FAKE in its place. */
const FORGERY = `${HARMLESS}\u001b[2K\u001b[1G\u001b[32m${FAKE}\u001b[0m`;
const FORGERY_SHOWN = `${HARMLESS}⟨ESC⟩[2K⟨ESC⟩[1G⟨ESC⟩[32m${FAKE}⟨ESC⟩[0m`;
const JUSTIFICATION = [FORGERY, ...ARGV_ESCAPE_CORPUS.map(([, input]) => input)].join('\n');
const EXFIL = 'exfil.attacker.example';
const CURRENT = 'routes:\n  - host: api.github.com\n';
/** A comment turns conceal on and a path entry turns it off: the route between them is drawn invisible. */
const PAYLOAD = [
  'routes:',
  '  - host: api.github.com',
  `  # ${FORGERY}`,
  ...FILE_ESCAPE_CORPUS.map(([, input]) => `  # ${input.replace(/[\r\n\u2028\u2029]/g, ' ')}`),
  '  # reviewed\u001b[8m',
  `  - host: ${EXFIL}`,
  '    path_allowlist:',
  '      - "/upload\u202e"',
  '      - "/\u001b[28m"',
  '',
].join('\n');
/** A report is shown as indented JSON, which escapes C0 controls itself but not C1 controls or bidi overrides. */
const LEAKED_LINE = 'leaked\u009b2K\u202eyek-tset';
const REPORT = JSON.stringify({
  findings: [{ ref: 'refs/heads/main', file: 'src/\u202etxt.exe', line: 3, rule: 'generic-api-key', commit: 'a'.repeat(40), line_text: LEAKED_LINE }],
});
/** Longer than any terminal row, without spaces (tmux drops trailing ones when the screen is read). */
const LONG_JUSTIFICATION = `needs-these:${Array.from({ length: 40 }, (_, i) => `segment-${String(i + 1).padStart(2, '0')}`).join(',')}:end-of-justification`;
const LONG_PATH = `/${Array.from({ length: 30 }, (_, i) => `p${String(i + 1).padStart(4, '0')}`).join('/')}/TAIL`;
const LONG_PAYLOAD = `${CURRENT}  - host: files.example.com\n    path_allowlist:\n      - ${LONG_PATH}\n`;

let home: string;
let savedHome: string | undefined;
let fixture: HostFixture;
let routesFile: string;
let egressId: string;
let reportId: string;
let longId: string;
const terminals: TmuxTerminal[] = [];

const cli = (...args: string[]): Promise<CliRun> => runCli(['--db', fixture.dbPath, ...args], { home, env: { USER: 'tester' } });
const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;
const cliCommand = (...args: string[]): string => [process.execPath, CLI, '--db', fixture.dbPath, ...args].map(quote).join(' ');

/** `bot-bottle ARGS` in a real terminal of its own (tmux), as an operator runs it. */
function inTerminal(args: string[], size = { columns: 160, rows: 120 }): TmuxTerminal {
  const dir = fs.mkdtempSync(path.join(home, 'tmux-'));
  const terminal = new TmuxTerminal(dir);
  terminals.push(terminal);
  terminal.start(`cd ${quote(REPO_ROOT)} && env HOME=${quote(home)} USER=tester ${cliCommand(...args)}`, size);
  return terminal;
}

/** `bot-bottle ARGS` with stdout a pipe: the bytes it writes, and what `cat -v` (a pager, a log viewer) shows of them. */
function throughCatV(args: string[]): { shown: string; raw: string } {
  const run = spawnSync(process.execPath, [CLI, '--db', fixture.dbPath, ...args], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: home, USER: 'tester' } });
  expect(run.status, run.stderr.toString()).toBe(0);
  const shown = spawnSync('cat', ['-v'], { input: run.stdout, encoding: 'utf8' });
  return { shown: shown.stdout, raw: run.stdout.toString('utf8') };
}

/** ESC as `cat -v` writes it (`^[`), not the tail of a high byte (`M-^[`, e.g. a UTF-8 continuation byte 0x9b). */
const CAT_V_ESC = /(?<!M-)\^\[/;

/** Whether any SGR sequence in tmux's attribute capture turns conceal (8) on: text drawn invisible. */
function drawsConcealed(screenWithAttributes: string): boolean {
  // eslint-disable-next-line no-control-regex -- reading back the terminal's own escape sequences
  for (const match of screenWithAttributes.matchAll(/\u001b\[([0-9;:]*)m/g)) {
    const codes = (match[1] ?? '').split(';');
    for (let i = 0; i < codes.length; i += 1) {
      // 38/48/58 take a colour as their arguments (5;n or 2;r;g;b), which may well contain an 8.
      if (['38', '48', '58'].includes(codes[i] ?? '')) i += codes[i + 1] === '5' ? 2 : 4;
      else if (codes[i] === '8') return true;
    }
  }
  return false;
}

/** The forgery only ever appears behind the marker that gives it away, never as text of its own. */
function expectForgeryExposed(screen: string): void {
  expect(screen).toContain(HARMLESS);
  const fakes = screen.split(FAKE).length - 1;
  const exposed = screen.split(`⟨ESC⟩[32m${FAKE}`).length - 1;
  expect(fakes).toBeGreaterThan(0);
  expect(exposed).toBe(fakes);
}

/** Opens proposal `id` in the TUI's detail view, wherever the list's order puts it. */
async function openInTui(terminal: TmuxTerminal, id: string): Promise<string> {
  const listed = JSON.parse((await cli('supervise', '--once', '--json')).stdout) as Array<{ id: string }>;
  const index = listed.findIndex((proposal) => proposal.id === id);
  expect(index).toBeGreaterThanOrEqual(0);
  terminal.keys('g', ...Array.from({ length: index }, () => 'Down'), 'Enter');
  return terminal.waitForText(`Proposal ${id}`);
}

async function proposeAsBottle(slug: string, kind: string, payload: string, justification: string): Promise<string> {
  const payloadFile = path.join(fixture.dir, `${slug}-${kind}.payload`);
  fs.writeFileSync(payloadFile, payload);
  const run = await runSidecar(['propose', '--db', fixture.dbPath, '--kind', kind, '--payload-file', payloadFile, '--justification', justification, '--wait', '0'], {
    SUPERVISE_BOTTLE_SLUG: slug,
    SUPERVISE_ROUTES_FILE: routesFile,
    HOME: home,
  });
  expect(run.code, run.stderr).toBe(2);
  return run.stdout.trim();
}

beforeAll(async () => {
  assertBuilt();
  assertCliBuilt();
  savedHome = process.env.HOME;
  home = tempDir('display-home-');
  process.env.HOME = home;
  fixture = await hostDatabase();
  routesFile = path.join(fixture.dir, 'routes.yaml');
  fs.writeFileSync(routesFile, CURRENT);
  egressId = await proposeAsBottle(SLUG, 'egress-allow', PAYLOAD, JUSTIFICATION);
  reportId = await proposeAsBottle(SLUG, 'gitleaks-allow', REPORT, 'test fixture, not a key');
  longId = await proposeAsBottle('wordy', 'egress-allow', LONG_PAYLOAD, LONG_JUSTIFICATION);
});

afterEach(async () => {
  for (const terminal of terminals.splice(0)) terminal.kill();
  await killChildren();
});

afterAll(async () => {
  await fixture?.host.close();
  process.env.HOME = savedHome;
  for (const dir of [home, fixture?.dir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('supervise --once', () => {
  it('shows the forged justification as markers on a real terminal, "harmless" still there', async () => {
    const terminal = inTerminal(['supervise', '--once']);
    const screen = await terminal.waitForText('exit=');
    expect(screen).toContain('exit=0');
    expect(screen).toContain(FORGERY_SHOWN.slice(0, 60));
    expectForgeryExposed(screen);
    expect(drawsConcealed(terminal.screenWithAttributes())).toBe(false);
  });

  it('writes no escape or hidden character to a pipe, and --json keeps every value exact', () => {
    const table = throughCatV(['supervise', '--once']);
    expect(table.shown).not.toMatch(CAT_V_ESC);
    expect(hasUnsafeCharacters(table.raw)).toBe(false);
    expect(table.raw).toContain(egressId.slice(0, 8));

    const json = throughCatV(['supervise', '--once', '--json']);
    expect(json.shown).not.toMatch(CAT_V_ESC);
    expect(hasUnsafeCharacters(json.raw)).toBe(false);
    const listed = JSON.parse(json.raw) as Array<{ id: string; justification: string; payload: string }>;
    expect(listed.find((proposal) => proposal.id === egressId)).toMatchObject({ justification: JUSTIFICATION, payload: PAYLOAD });
    expect(listed.find((proposal) => proposal.id === reportId)).toMatchObject({ payload: REPORT });
  });
});

describe('the supervise TUI', () => {
  it('shows the justification, the diff and the report with every hidden character as a marker, and says it found them', async () => {
    const terminal = inTerminal(['supervise']);
    const list = await terminal.waitForText('3 pending proposals');
    expectForgeryExposed(list);

    await openInTui(terminal, egressId);
    const detail = await terminal.waitForText(`+  - host: ${EXFIL}`);
    expectForgeryExposed(detail);
    expect(detail).toContain(`+  # ${FORGERY_SHOWN}`);
    expect(detail).toContain('+      - "/upload⟨RLO⟩"');
    expect(detail).toMatch(/⚠ the justification contained \d+ hidden or control characters, shown as ⟨…⟩ markers/);
    expect(detail).toMatch(/⚠ the proposed file contained \d+ hidden or control characters, shown as ⟨…⟩ markers/);
    for (const [name, , shown] of ARGV_ESCAPE_CORPUS) expect(detail, name).toContain(`  ${shown}`);
    expect(drawsConcealed(terminal.screenWithAttributes())).toBe(false);

    terminal.keys('q');
    await terminal.waitForText('3 pending proposals');
    const report = await openInTui(terminal, reportId);
    expect(report).toContain('src/⟨RLO⟩txt.exe');
    expect(report).toContain('leaked⟨CSI⟩2K⟨RLO⟩yek-tset');
    expect(report).toMatch(/⚠ the proposed file contained \d+ hidden or control characters/);
    expect(drawsConcealed(terminal.screenWithAttributes())).toBe(false);
    terminal.keys('q');
    await terminal.waitForText('3 pending proposals');
    terminal.keys('q');
    await terminal.waitForText('exit=0');
  });

  it('wraps long lines in the detail view instead of cutting them off', async () => {
    const terminal = inTerminal(['supervise'], { columns: 100, rows: 60 });
    await terminal.waitForText('3 pending proposals');
    const detail = await openInTui(terminal, longId);
    expect(detail).not.toContain('⚠');
    // A continued row repeats its line's lead (the indent, or the diff's +/-/space) and then ↪.
    const logical: string[] = [];
    for (const row of detail.split('\n')) {
      const continued = /^( {2}|[+\- ])↪(.*)$/.exec(row);
      const previous = logical.pop();
      if (continued && previous !== undefined) logical.push(`${previous}${continued[2] ?? ''}`);
      else logical.push(...(previous === undefined ? [] : [previous]), row);
    }
    expect(logical).toContain(`  ${LONG_JUSTIFICATION}`);
    expect(logical).toContain(`+      - ${LONG_PATH}`);
    for (const row of detail.split('\n')) expect(row.length).toBeLessThanOrEqual(100);
    terminal.keys('q');
    await terminal.waitForText('3 pending proposals');
    terminal.keys('q');
    await terminal.waitForText('exit=0');
  });
});

describe('errors and logs', () => {
  it("the CLI's error line shows a payload problem that quotes hostile text as markers", async () => {
    const edited = path.join(fixture.dir, 'edited.yaml');
    fs.writeFileSync(edited, `${CURRENT}    "x\u001b[8mhidden\u202e": 1\n`);
    // A launcher forwarding a bottle's file with the host's propose command.
    const run = await cli('propose', '--bottle', SLUG, '--kind', 'egress-allow', '--payload-file', edited);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('unknown key "x⟨ESC⟩[8mhidden⟨RLO⟩"');
    expect(hasUnsafeCharacters(run.stderr)).toBe(false);

    const id = await cli('supervise', 'approve', '\u009b2Kabc\u202e');
    expect(id.code).toBe(3);
    expect(id.stderr).toContain('⟨CSI⟩2Kabc⟨RLO⟩');
    expect(hasUnsafeCharacters(id.stderr)).toBe(false);
  });

  it("the host's propose shows an answer's notes as markers (a sidecar writes the notes of a downward answer)", async () => {
    await fixture.host.queue.writeResponse(SLUG, reportId, { status: 'rejected', responder: 'operator:tester', notes: `quoting the agent: ${LEAKED_LINE}\u001b[8m` });
    const run = await cli('propose', '--bottle', SLUG, '--resume', reportId, '--wait', '5');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('quoting the agent: leaked⟨CSI⟩2K⟨RLO⟩yek-tset⟨ESC⟩[8m');
    expect(hasUnsafeCharacters(run.stderr)).toBe(false);
  });

  it("the sidecar's log lines (docker logs, on the operator's terminal) show hostile input as markers", async () => {
    const run = await runSidecar(['propose', '--db', fixture.dbPath, '--proposal-id', '\u009b2K\u001b[8mabc\u202e', '--wait', '0'], { SUPERVISE_BOTTLE_SLUG: SLUG, HOME: home });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('⟨CSI⟩2K');
    expect(run.stderr).toContain('⟨RLO⟩');
    expect(hasUnsafeCharacters(run.stderr)).toBe(false);
  });

  it('a log message of several lines indents the ones after the first, so none passes for a line of its own', () => {
    expect(formatLogLine('bot-bottle-sidecar', 'bad payload:\nbot-bottle-sidecar: approved\u001b[2K')).toBe('bot-bottle-sidecar: bad payload:\n    bot-bottle-sidecar: approved⟨ESC⟩[2K\n');
  });
});

describe('import-legacy', () => {
  it('names the files a bottle left in the old state tree with their hidden characters as markers', async () => {
    const tree = path.join(fixture.dir, 'legacy');
    writeLegacyTree(tree, 2);
    fs.writeFileSync(path.join(tree, 'queue', 'bottle-0', 'x\u001b[8mhidden\u202e.json'), '{not json');
    fs.writeFileSync(path.join(tree, 'queue', 'bottle-0', 'note\u001b[2K.txt'), 'x');
    const run = await cli('import-legacy', '--from', tree, '--dry-run');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('queue/bottle-0/x⟨ESC⟩[8mhidden⟨RLO⟩.json');
    expect(run.stdout).toContain('queue/bottle-0/note⟨ESC⟩[2K.txt');
    expect(hasUnsafeCharacters(run.stdout)).toBe(false);
  });
});

describe('audit', () => {
  let seq: number;

  beforeAll(async () => {
    await fixture.host.queue.writeResponse(SLUG, egressId, { status: 'approved', responder: 'operator:tester', notes: 'reviewed' });
    const entry = fixture.host.audit.readAuditEntries({ proposalId: egressId }).find((candidate) => candidate.status === 'approved');
    expect(entry).toBeDefined();
    seq = entry?.seq ?? 0;
  });

  it('audit show draws the exfil route visibly and the forgery as markers on a real terminal', async () => {
    const terminal = inTerminal(['audit', 'show', String(seq)]);
    const screen = await terminal.waitForText('exit=');
    expect(screen).toContain('exit=0');
    expect(screen).toContain(`+  - host: ${EXFIL}`);
    expect(screen).toContain('⟨ESC⟩[8m');
    expectForgeryExposed(screen);
    expect(drawsConcealed(terminal.screenWithAttributes())).toBe(false);
  });

  it('audit show, list and export write no escape or hidden character to a pipe, and JSON keeps every value exact', () => {
    const stored = fixture.host.audit.readAuditEntry(seq);
    const outputs = new Map<string, string>();
    for (const args of [['audit', 'show', String(seq)], ['audit', 'list'], ['audit', 'export', '--format', 'jsonl'], ['audit', 'show', String(seq), '--json'], ['audit', 'list', '--json']]) {
      const run = throughCatV(args);
      expect(run.shown, args.join(' ')).not.toMatch(CAT_V_ESC);
      expect(hasUnsafeCharacters(run.raw), args.join(' ')).toBe(false);
      outputs.set(args.join(' '), run.raw);
    }
    expect(JSON.parse(outputs.get(`audit show ${seq} --json`) ?? '')).toMatchObject({ seq, diff: stored?.diff, notes: stored?.notes });
    const exported = (outputs.get('audit export --format jsonl') ?? '')
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; diff: string });
    expect(exported.find((record) => record.seq === seq)?.diff).toBe(stored?.diff);
    expect(stored?.diff).toContain('\u001b[8m');
  });
});

describe('a closed stdout', () => {
  it('ends supervise --once quietly when the reader has gone before anything was written', async () => {
    const child = spawn(process.execPath, [CLI, '--db', fixture.dbPath, 'supervise', '--once', '--json'], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('ends `supervise --once --json | head -1` quietly when the output outgrows the pipe', async () => {
    const big = `${CURRENT}${Array.from({ length: 3000 }, (_, i) => `  - host: h${i}.bulk.example.com\n`).join('')}`;
    await proposeAsBottle('bulky', 'egress-allow', big, 'many hosts');
    for (const args of [['supervise', '--once', '--json'], ['supervise', '--once']]) {
      const run = spawnSync('bash', ['-c', `set -o pipefail; ${cliCommand(...args)} | head -1 >/dev/null`], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: home }, encoding: 'utf8' });
      expect(run.stderr, args.join(' ')).toBe('');
      expect(run.status, args.join(' ')).toBe(0);
    }
  });
});
