// Being told of new proposals: the notify hook runs once per proposal across several real watcher
// processes, with the summary and never the payload on its stdin, never for an event or a row a
// bottle forged, rate-limited per bottle; its settings are checked with clear errors. Real files,
// real child processes, real signals.
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotifyClaims } from '../src/alerts/claims.js';
import { findDesktopNotifier } from '../src/alerts/desktop.js';
import { readHostSettings } from '../src/alerts/settings.js';
import { openHostDatabase, openSidecarDatabase, type SuperviseDatabase } from '../src/database.js';
import { watchNewProposals, type ProposalSummary } from '../src/queue/new-proposals.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';
import { assertBuilt, killCliChildren, runCli, spawnCli } from './fixtures/cli-support.js';
import { expectFailure, FIXTURES_DIR, tempDir } from './fixtures/storage-support.js';

const HOOK = path.join(FIXTURES_DIR, 'notify-hook.sh');
const TOKEN = 'ghp_Zq7XvT1cNw8LrB4yKd2HsF6mJp0aUe9gVi3o';
const routes = (host: string): string => `# token ${TOKEN}\nroutes:\n  - host: ${host}\n`;

let home: string;
let savedHome: string | undefined;
let file: string;
let runs: string;

function writeSettings(notify: Record<string, unknown>, mode = 0o600): void {
  const settings = path.join(home, '.bot-bottle', 'settings.json');
  fs.mkdirSync(path.dirname(settings), { recursive: true });
  fs.writeFileSync(settings, JSON.stringify({ notify }), { mode });
  fs.chmodSync(settings, mode);
}

function hookRuns(): Array<Record<string, unknown> & { raw: string }> {
  return fs
    .readdirSync(runs)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => {
      const raw = fs.readFileSync(path.join(runs, name), 'utf8');
      return { ...(JSON.parse(raw) as Record<string, unknown>), raw };
    });
}

/** A `bot-bottle notify watch` child with its stdout lines. */
class Watcher {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';

  constructor() {
    this.child = spawnCli(['--db', file, 'notify', 'watch'], { home });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.lines.push(line));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
  }

  async until(predicate: (lines: string[]) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.lines)) {
      if (this.child.exitCode !== null) throw new Error(`watcher exited ${this.child.exitCode}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(this.lines)} stderr: ${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<number | null> {
    const closed = new Promise<number | null>((resolve) => this.child.once('close', (code) => resolve(code)));
    this.child.kill('SIGTERM');
    return closed;
  }
}

async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A bottle's own proposal, sealed with its key, as its sidecar writes it. */
async function proposeAsBottle(slug: string, host: string, justification: string): Promise<string> {
  const sidecar = openSidecarDatabase(slug, { path: file, watch: false, keysDir: bottleKeysDir(slug) });
  try {
    return (await sidecar.queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: routes(host), justification })).id;
  } finally {
    await sidecar.close();
  }
}

beforeEach(async () => {
  savedHome = process.env.HOME;
  home = tempDir('notify-home');
  process.env.HOME = home;
  runs = path.join(home, 'runs');
  fs.mkdirSync(runs);
  file = path.join(home, 'db', 'bot-bottle.db');
  fs.mkdirSync(path.dirname(file));
  const database = await openHostDatabase({ path: file, watch: false });
  await database.close();
});

afterEach(async () => {
  await killCliChildren();
  process.env.HOME = savedHome;
  fs.rmSync(home, { recursive: true, force: true });
});

describe('notify watch', () => {
  it('runs the hook exactly once per proposal with two watchers open, with the summary and no payload secret on its stdin', async () => {
    assertBuilt();
    writeSettings({ hook: ['sh', HOOK, runs], desktop: false });
    const early = await proposeAsBottle('acme', 'early.example', 'waiting before any watcher started');
    const watchers = [new Watcher(), new Watcher()];
    await Promise.all(watchers.map((watcher) => watcher.until((lines) => lines.some((line) => line.startsWith('watching ')), 'start')));

    const ids = [early];
    ids.push(await proposeAsBottle('acme', 'api.github.com', `needs the API\u001b[2J to open a pull request ${'x'.repeat(400)}`));
    ids.push(await proposeAsBottle('beta', 'pypi.org', 'installs a package'));
    const host = await openHostDatabase({ path: file, watch: false });
    try {
      ids.push((await host.queue.writeProposal('gamma', { kind: 'egress-allow', origin: 'host', payload: routes('example.org'), justification: 'from the launcher' })).id);
    } finally {
      await host.close();
    }

    await until(() => hookRuns().length >= ids.length, 'a hook run per proposal');
    const lines = (): string[] => watchers.flatMap((watcher) => watcher.lines);
    await until(() => lines().filter((line) => /^(told|already told)/.test(line)).length === 2 * ids.length, 'both watchers to see every proposal');
    const seen = hookRuns();
    expect(seen.map((run) => run.id).sort()).toEqual([...ids].sort());
    expect(lines().filter((line) => line.startsWith('told: '))).toHaveLength(ids.length);
    for (const run of seen) {
      expect(run.raw).not.toContain(TOKEN);
      expect(run.raw).not.toContain('routes:');
      expect(Object.keys(run).filter((key) => key !== 'raw').sort()).toEqual(['bottle', 'createdAt', 'event', 'id', 'justification', 'kind', 'origin', 'suppressedBefore']);
    }
    const long = seen.find((run) => run.bottle === 'acme' && run.id !== early);
    expect(long).toMatchObject({ event: 'proposal', kind: 'egress-allow', origin: 'agent', suppressedBefore: 0 });
    expect(long?.justification).toMatch(/^needs the API⟨ESC⟩\[2J to open a pull request x+…$/);
    expect([...String(long?.justification)].length).toBeLessThanOrEqual(201 + 4);
    expect(long?.raw).not.toContain('\u001b');

    expect(await watchers[0]?.stop()).toBe(0);
    expect(await watchers[1]?.stop()).toBe(0);
  });

  it('never on a bottle’s say-so alone: a forged event, an unsealed row or a doorbell runs nothing', async () => {
    assertBuilt();
    writeSettings({ hook: ['sh', HOOK, runs], desktop: false });
    const watcher = new Watcher();
    await watcher.until((lines) => lines.some((line) => line.startsWith('watching ')), 'start');
    const db = new Database(file);
    try {
      const now = Date.now();
      db.prepare(`INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, 'created', '11111111-1111-4111-8111-111111111111', 'acme', 'operator')`).run(now);
      db.prepare(`INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, 'created', 'not-an-id', '../x', 'operator')`).run(now);
      db.prepare(
        `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, state, created_at, updated_at, seal)
         VALUES ('22222222-2222-4222-8222-222222222222', 'acme', 'egress-allow', 'agent', 'operator', 'routes: []', 'forged', 'pending', ?, ?, 'mac:00')`,
      ).run(now, now);
      db.prepare(`INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, 'created', '22222222-2222-4222-8222-222222222222', 'acme', 'operator')`).run(now);
    } finally {
      db.close();
    }
    fs.utimesSync(`${file}-bell`, new Date(), new Date());
    // A real proposal after them is told: the watcher read past the forgeries and is still running.
    const real = await proposeAsBottle('acme', 'api.github.com', 'real');
    await until(() => hookRuns().length >= 1, 'the real proposal');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(hookRuns().map((run) => run.id)).toEqual([real]);
    expect(await watcher.stop()).toBe(0);
  });

  it('rate-limits per bottle: past the limit proposals are counted, and another bottle is still told', async () => {
    assertBuilt();
    writeSettings({ hook: ['sh', HOOK, runs], desktop: false, perBottlePerMinute: 2 });
    const watcher = new Watcher();
    await watcher.until((lines) => lines.some((line) => line.startsWith('watching ')), 'start');
    for (let i = 0; i < 4; i++) await proposeAsBottle('noisy', `host${i}.example`, `flood ${i}`);
    await proposeAsBottle('quiet', 'pypi.org', 'one question');
    await watcher.until((lines) => lines.filter((line) => /^(told|rate-limited)/.test(line)).length === 5, 'five proposals handled');
    expect(watcher.lines.filter((line) => line.startsWith('rate-limited'))).toHaveLength(2);
    expect(hookRuns().map((run) => run.bottle).sort()).toEqual(['noisy', 'noisy', 'quiet']);
    expect(await watcher.stop()).toBe(0);
  });
});

describe('claims', () => {
  it('one claim per proposal; the first notification after the limit says how many were held back', async () => {
    const claims = await NotifyClaims.open(path.join(home, 'claims', 'claims.db'));
    try {
      const t = 1_000_000;
      expect(await claims.claim('a', 'acme', 2, t)).toEqual({ outcome: 'fired', suppressedBefore: 0 });
      expect(await claims.claim('a', 'acme', 2, t)).toEqual({ outcome: 'taken' });
      expect(await claims.claim('b', 'acme', 2, t + 1)).toEqual({ outcome: 'fired', suppressedBefore: 0 });
      expect(await claims.claim('c', 'acme', 2, t + 2)).toEqual({ outcome: 'suppressed' });
      expect(await claims.claim('d', 'acme', 2, t + 3)).toEqual({ outcome: 'suppressed' });
      expect(await claims.claim('e', 'beta', 2, t + 4)).toEqual({ outcome: 'fired', suppressedBefore: 0 });
      expect(await claims.claim('f', 'acme', 2, t + 60_002)).toEqual({ outcome: 'fired', suppressedBefore: 2 });
    } finally {
      claims.close();
    }
  });

  it('lives outside the directory mounted into bottles', () => {
    expect(path.relative(path.join(home, '.bot-bottle', 'supervise'), path.join(home, '.bot-bottle', 'notify', 'claims.db')).startsWith('..')).toBe(true);
  });
});

describe('watchNewProposals (the TUI’s bell)', () => {
  it('reports each new proposal once, with existing ones first, and none a bottle forged', async () => {
    const first = await proposeAsBottle('acme', 'a.example', 'first');
    const database: SuperviseDatabase = await openHostDatabase({ path: file, watch: true });
    const told: ProposalSummary[] = [];
    const stop = watchNewProposals(database.queue, (summary) => told.push(summary), { existing: true });
    try {
      expect(told.map((summary) => summary.id)).toEqual([first]);
      const second = await proposeAsBottle('acme', 'b.example', 'second');
      await until(() => told.length === 2, 'the second proposal');
      expect(told[1]).toMatchObject({ id: second, bottle: 'acme', kind: 'egress-allow', seal: 'bottle', justification: 'second' });
      expect(JSON.stringify(told)).not.toContain(TOKEN);
    } finally {
      stop();
      await database.close();
    }
  });
});

describe('notify test and settings', () => {
  it('runs the hook once with a test summary', async () => {
    assertBuilt();
    writeSettings({ hook: ['sh', HOOK, runs], desktop: false });
    const run = await runCli(['notify', 'test'], { home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/hook: ok/);
    expect(hookRuns()).toEqual([expect.objectContaining({ event: 'test', bottle: 'notify-test' })]);
  });

  it('says what failed and how to fix it: a missing command, a failing hook, nothing configured', async () => {
    assertBuilt();
    writeSettings({ hook: [path.join(home, 'no-such-hook')], desktop: false });
    let run = await runCli(['notify', 'test'], { home });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/hook: could not start \(ENOENT\); check notify\.hook/);
    writeSettings({ hook: ['sh', '-c', 'echo broken pipe dream >&2; exit 3'], desktop: false });
    run = await runCli(['notify', 'test'], { home });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/hook: exited 3: broken pipe dream/);
    writeSettings({ desktop: false });
    run = await runCli(['notify', 'test'], { home });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/Nothing to run: set notify\.hook in .*settings\.json/);
  });

  it('shows a desktop notification through notify-send with the bottle’s markup kept as text', async () => {
    assertBuilt();
    const bin = path.join(home, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'notify-send'), `#!/bin/sh\nfor arg in "$@"; do printf '%s\\n' "$arg"; done > "${runs}/desktop.txt"\n`, { mode: 0o755 });
    expect(findDesktopNotifier('linux', { PATH: bin })).toBeUndefined();
    const desktop = findDesktopNotifier('linux', { PATH: bin, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/dev/null' });
    expect(desktop?.name).toBe('notify-send');
    expect((await desktop?.show('bot-bottle: egress-allow from acme', '<a href="https://evil.example">click</a> & go'))?.ok).toBe(true);
    expect(fs.readFileSync(path.join(runs, 'desktop.txt'), 'utf8')).toBe('--app-name=bot-bottle\n--\nbot-bottle: egress-allow from acme\n&lt;a href="https://evil.example"&gt;click&lt;/a&gt; &amp; go\n');
  });

  it('refuses bad settings with the file, the problem and the fix, and runs nothing', async () => {
    assertBuilt();
    const settings = path.join(home, '.bot-bottle', 'settings.json');
    const cases: Array<[string | Record<string, unknown>, number, RegExp]> = [
      ['{"notify": {"hook": ', 0o600, /is not valid JSON .*Fix the syntax/],
      [{ hook: 'sh -c "rm -rf /"' }, 0o600, /notify\.hook: .*expected array.*Known settings/],
      [{ hook: [] }, 0o600, /notify\.hook: give the command as a non-empty array/],
      [{ hooks: ['x'] }, 0o600, /notify: Unrecognized key.*"hooks"/],
      [{ perBottlePerMinute: 0 }, 0o600, /notify\.perBottlePerMinute/],
      [{ hook: ['sh', HOOK, runs] }, 0o620, /can be written by others \(mode 620\).*chmod 600/],
    ];
    for (const [content, mode, message] of cases) {
      fs.mkdirSync(path.dirname(settings), { recursive: true });
      if (typeof content === 'string') fs.writeFileSync(settings, content);
      else writeSettings(content, mode);
      fs.chmodSync(settings, mode);
      const run = await runCli(['notify', 'test'], { home });
      expect(run.code, `${JSON.stringify(content)}: ${run.stderr}`).toBe(5);
      expect(run.stderr).toMatch(message);
      expect(run.stderr).toContain(settings);
    }
    // The watcher refuses the same way before it opens anything.
    const watch = await runCli(['--db', file, 'notify', 'watch'], { home });
    expect(watch.code).toBe(5);
    expect(watch.stderr).toMatch(/can be written by others/);
    expect(hookRuns()).toEqual([]);
    expect(fs.existsSync(path.join(home, '.bot-bottle', 'notify'))).toBe(false);
  });

  it('without a settings file every default applies', () => {
    expect(readHostSettings(path.join(home, 'absent.json'))).toEqual({ notify: { hook: undefined, hookTimeoutSeconds: 10, desktop: true, perBottlePerMinute: 6 } });
  });

  it('a settings file that is not a regular file is refused', async () => {
    const dir = path.join(home, 'dir.json');
    fs.mkdirSync(dir);
    await expectFailure(() => readHostSettings(dir), 'config', /is not a regular file/);
  });
});
