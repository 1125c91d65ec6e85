/**
 * `bot-bottle demo` end to end on the default layout of a temporary HOME: a real sidecar child,
 * a real MCP client over HTTP, the operator's approval, and a verified audit log.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, assertBuilt as assertCliBuilt } from './fixtures/cli-support.js';
import { openHostDatabase } from '../src/database.js';
import { REPO_ROOT, tempDir } from './fixtures/storage-support.js';
import { TmuxTerminal } from './fixtures/tui-terminal.js';

/** Command lines of every running process, to prove the demo leaves no sidecar behind. */
function runningCommands(): string {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
}

describe('demo', () => {
  let home: string;

  beforeAll(() => {
    assertCliBuilt();
    home = tempDir('demo-home');
  });

  afterAll(() => {
    fs.rmSync(home, { recursive: true, force: true });
  });

  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [CLI, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOME: home, USER: 'tester', NO_COLOR: '1', ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  const demo = (args: string[], env: Record<string, string> = {}) => cli(['demo', ...args], env);

  it('by default runs on a temporary database it removes, leaving nothing in the operator\'s, and says how to run bot-bottle from here', () => {
    const run = demo([], { PATH: path.dirname(process.execPath) });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const temporary = /A temporary host database is ready: (\S+\/bot-bottle\.db) /.exec(run.stdout)?.[1] as string;
    expect(temporary).toMatch(/bot-bottle-demo-[^/]+\/bot-bottle\.db$/);
    expect(run.stdout).toMatch(/ok: 1 entry, head [0-9a-f]{64}:1/);
    expect(fs.existsSync(path.dirname(temporary))).toBe(false);
    // Neither a database, nor the layout, nor keys in the operator's home.
    expect(fs.existsSync(path.join(home, '.bot-bottle'))).toBe(false);
    // `npm ci` puts no bot-bottle on PATH, so the closing line does not name it bare.
    expect(run.stdout).toContain(`Next: \`npx bot-bottle supervise\` in ${REPO_ROOT} (\`bot-bottle\` is not on your PATH; \`npm link\` there puts it on it)`);
  });

  it('--db without --real-db is refused before anything is written', () => {
    const file = path.join(home, 'named.db');
    const run = cli(['--db', file, 'demo']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--db names a database for the demo to write to');
    expect(run.stdout).toBe('');
    expect(fs.existsSync(file)).toBe(false);
  });

  it('--real-db walks one egress-allow proposal from an MCP agent to a verified audit log on the default database, and exits 0', async () => {
    // A bot-bottle on PATH, as `npm link` makes it: the closing line names the command itself.
    const bin = path.join(home, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'bot-bottle'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js'))} "$@"\n`, { mode: 0o755 });
    const run = demo(['--real-db'], { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('Next: `bot-bottle supervise` to triage real proposals');
    const dbPath = path.join(home, '.bot-bottle', 'bot-bottle.db');
    expect(run.stdout).toContain(`The host database is ready: ${dbPath}`);
    const slug = /A sidecar for bottle "(demo-[0-9a-f]{6})" is serving MCP at http:\/\/127\.0\.0\.1:\d+\/mcp\./.exec(run.stdout)?.[1];
    expect(slug).toBeDefined();
    expect(run.stdout).toMatch(/calls egress-allow \(tools offered: egress-allow, egress-block, list-egress-routes\)/);
    expect(run.stdout).toMatch(/ID\s+BOTTLE\s+KIND\s+AGE\s+JUSTIFICATION/);
    expect(run.stdout).toContain('+  - host: pypi.org');
    expect(run.stdout).toMatch(/The agent's tool call returns \(status approved\):\n\s+The operator approved egress-allow proposal [0-9a-f-]{36}\. Notes: demo: read-only package index/);
    expect(run.stdout).toContain('state now: archived');
    expect(run.stdout).toMatch(/ok: 1 entry, head [0-9a-f]{64}:1/);
    expect(runningCommands()).not.toContain(dbPath);

    // The real database, reopened: the proposal was answered by the operator and archived by the sidecar.
    expect(fs.lstatSync(dbPath).isSymbolicLink()).toBe(true);
    const database = await openHostDatabase({ path: dbPath, watch: false });
    try {
      const [entry] = database.audit.readAuditEntries({ slug });
      expect(entry).toMatchObject({ slug, component: 'egress', action: 'proposal-decision', status: 'approved', actor: 'operator:tester' });
      const proposalId = entry?.proposalId ?? '';
      expect(database.queue.readProposal(slug as string, proposalId)?.state).toBe('archived');
      expect(database.queue.readResponse(slug as string, proposalId)).toMatchObject({ status: 'approved', notes: 'demo: read-only package index, scoped to /simple/' });
      expect(database.audit.verify()).toMatchObject({ ok: true, head: { count: 1 } });
    } finally {
      await database.close();
    }
  });

  it('--real-db runs again on the same database and extends the same chain', () => {
    const run = demo(['--real-db']);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/ok: 2 entries, head [0-9a-f]{64}:2/);
  });

  it('--interactive opens the TUI on the demo’s own proposal among other bottles’ older ones, lets a person answer it, then finishes the walk-through', async () => {
    // Older proposals of other bottles come first in the fair order: following "Enter opens it; a
    // approves" must still answer the demo's own proposal, not one of these.
    const database = await openHostDatabase({ path: path.join(home, '.bot-bottle', 'bot-bottle.db'), keysDir: path.join(home, '.bot-bottle', 'keys'), watch: false });
    try {
      for (let i = 0; i < 60; i++) {
        await database.queue.writeProposal(`other-${String(i).padStart(2, '0')}`, { kind: 'egress-allow', origin: 'agent', payload: 'routes:\n  - host: example.com\n', justification: `older proposal ${i}` });
      }
    } finally {
      await database.close();
    }
    const terminal = new TmuxTerminal(home);
    try {
      terminal.start(`cd ${JSON.stringify(REPO_ROOT)} && env HOME=${JSON.stringify(home)} USER=person ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} demo --interactive`);
      await terminal.waitFor('the demo proposal in the TUI', (screen) => /> [0-9a-f]{8}\s+demo-[0-9a-f]{6}\s+egress-allow/.test(screen));
      terminal.keys('Enter');
      await terminal.waitForText('+  - host: pypi.org');
      terminal.keys('a');
      await terminal.waitForText('Reason for approving');
      terminal.type('looked at it myself\r');
      const done = await terminal.waitForText('exit=');
      expect(done).toContain('exit=0');
      expect(done).toMatch(/The agent's tool call returns \(status approved\)/);
      expect(done).toMatch(/Notes: looked at it myself/);
      expect(done).toMatch(/ok: 1 entry, head [0-9a-f]{64}:1/);
    } finally {
      terminal.kill();
    }
  });

  it('--interactive without a terminal refuses before starting anything', () => {
    const run = demo(['--interactive']);
    expect(run.status).toBe(5);
    expect(run.stderr).toContain('bot-bottle demo --interactive needs an interactive terminal');
    expect(run.stdout).toBe('');
  });
});
