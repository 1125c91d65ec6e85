// `bot-bottle-sidecar propose` (exit codes for every outcome, a git-gate style script) and the
// token-allow library call, which must never let the raw token reach the database files.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkpoint } from '../src/storage/connection.js';
import { MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { openSidecarDatabase } from '../src/database.js';
import { parseTokenAllowReport } from '../src/kinds/token-report.js';
import { proposeTokenAllow } from '../sidecar/token-allow.js';
import { SIDECAR_MAIN, assertBuilt, countRows, hostDatabase, killChildren, nextPending, pendingFrom, runSidecar, type HostFixture } from './fixtures/sidecar-harness.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';

const SLUG = 'acme';
const GATE_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/sidecar-git-gate.sh');
const REPORT = JSON.stringify({
  findings: [{ ref: 'refs/heads/main', file: 'tests/fixture.env', line: 3, rule: 'generic-api-key', commit: 'a'.repeat(40), line_text: 'API_KEY=abc # gitleaks:allow' }],
});

let fixture: HostFixture;
let reportFile: string;

beforeAll(() => assertBuilt());
beforeEach(async () => {
  fixture = await hostDatabase();
  reportFile = path.join(fixture.dir, 'report.json');
  fs.writeFileSync(reportFile, REPORT);
});
afterEach(async () => {
  await killChildren();
  await fixture.host.close();
});

const env = (extra: Record<string, string> = {}) => ({ SUPERVISE_BOTTLE_SLUG: SLUG, ...extra });
const proposeArgs = (...extra: string[]) => ['propose', '--db', fixture.dbPath, ...extra];

/** Runs `propose` while this process answers the proposal it makes as the operator would. */
async function proposeAnswered(answer: Parameters<typeof fixture.host.queue.writeResponse>[2], ...extra: string[]) {
  const run = runSidecar(proposeArgs('--kind', 'gitleaks-allow', '--payload-file', reportFile, '--justification', 'test fixture', ...extra), env());
  const proposal = await pendingFrom(fixture.host.queue, SLUG, run);
  await fixture.host.queue.writeResponse(SLUG, proposal.id, answer);
  return { exit: await run, proposal };
}

describe('propose exit codes', () => {
  it('0 on approval, printing the notes; the gate archives what it consumed', async () => {
    const { exit, proposal } = await proposeAnswered({ status: 'approved', notes: 'test fixture, not a real key', responder: 'operator' });
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe('test fixture, not a real key\n');
    expect(proposal).toMatchObject({ kind: 'gitleaks-allow', origin: 'git-gate', payload: REPORT, justification: 'test fixture' });
    expect(fixture.host.queue.readProposal(SLUG, proposal.id)?.state).toBe('archived');
  });

  it('0 on a modified answer, writing the final file when asked', async () => {
    const routes = path.join(fixture.dir, 'routes.yaml');
    fs.writeFileSync(routes, 'routes:\n  - host: api.github.com\n');
    const final = path.join(fixture.dir, 'final.yaml');
    const run = runSidecar(proposeArgs('--kind', 'egress-allow', '--payload-file', routes, '--final-file', final), env());
    const proposal = await pendingFrom(fixture.host.queue, SLUG, run);
    expect(proposal.origin).toBe('egress');
    await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'modified', notes: 'narrowed', finalPayload: 'routes: []\n', responder: 'operator' });
    const exit = await run;
    expect(exit.code).toBe(0);
    expect(fs.readFileSync(final, 'utf8')).toBe('routes: []\n');
  });

  it('1 on rejection, printing the reason', async () => {
    const { exit } = await proposeAnswered({ status: 'rejected', notes: 'that is a live key', responder: 'operator' });
    expect(exit.code).toBe(1);
    expect(exit.stdout).toBe('that is a live key\n');
  });

  it('2 while pending, printing the id; --proposal-id resumes without a duplicate', async () => {
    const pending = await runSidecar(proposeArgs('--kind', 'gitleaks-allow', '--payload-file', reportFile, '--wait', '0'), env());
    expect(pending.code).toBe(2);
    const id = pending.stdout.trim();
    expect(fixture.host.queue.readProposal(SLUG, id)?.state).toBe('pending');
    expect(pending.stderr).toContain(`--proposal-id ${id}`);

    const resumed = runSidecar(proposeArgs('--proposal-id', id, '--wait', '30'), env());
    // The resumed wait has begun once it is subscribed; answering earlier is also fine (it reads
    // the answer at once), so no ordering is needed here.
    await fixture.host.queue.writeResponse(SLUG, id, { status: 'approved', notes: 'ok now', responder: 'operator' });
    const exit = await resumed;
    expect(exit.code).toBe(0);
    expect(exit.stdout).toBe('ok now\n');
    expect(countRows(fixture.host, 'proposals')).toBe(1);
  });

  it('3 when the proposal expired unanswered', async () => {
    const bottle = fixture.host.queue.forSlug(SLUG);
    const proposal = await bottle.writeProposal({ kind: 'gitleaks-allow', origin: 'git-gate', payload: REPORT, ttlMs: 300 });
    const exit = await runSidecar(proposeArgs('--proposal-id', proposal.id, '--wait', '30'), env());
    expect(exit.code).toBe(3);
    expect(exit.stderr).toContain('expired');
  });

  it('6 when the proposal was cancelled', async () => {
    const bottle = fixture.host.queue.forSlug(SLUG);
    const proposal = await bottle.writeProposal({ kind: 'gitleaks-allow', origin: 'git-gate', payload: REPORT });
    await bottle.cancelProposal(proposal.id, { actor: 'git-gate', reason: 'push abandoned' });
    const exit = await runSidecar(proposeArgs('--proposal-id', proposal.id), env());
    expect(exit.code).toBe(6);
  });

  it('4 for bad input, writing nothing', async () => {
    const bad = path.join(fixture.dir, 'bad.json');
    fs.writeFileSync(bad, '{"findings": []}');
    const cases: Array<[string[], string]> = [
      [proposeArgs('--kind', 'capability-block', '--payload-file', reportFile), 'unknown proposal kind'],
      [proposeArgs('--kind', 'gitleaks-allow', '--payload-file', bad), 'at least one finding'],
      [proposeArgs('--kind', 'gitleaks-allow', '--payload-file', path.join(fixture.dir, 'nope.json')), 'cannot read the payload file'],
      [proposeArgs('--kind', 'gitleaks-allow'), 'needs --kind and --payload-file'],
      [proposeArgs('--kind', 'egress-routes-apply', '--payload-file', reportFile), 'a bottle cannot propose them'],
      [proposeArgs('--proposal-id', '00000000-0000-4000-8000-000000000000'), 'no proposal'],
      [proposeArgs('--kind', 'gitleaks-allow', '--payload-file', reportFile, '--wait', 'forever'), '--wait'],
      [proposeArgs('--kind', 'gitleaks-allow', '--payload-file', reportFile, '--origin', 'git gate'), '--origin'],
      [proposeArgs('--bogus'), 'unknown option'],
    ];
    for (const [args, phrase] of cases) {
      const exit = await runSidecar(args, env());
      expect(exit.code, args.join(' ')).toBe(4);
      expect(exit.stderr).toContain(phrase);
    }
    expect(countRows(fixture.host, 'proposals')).toBe(0);
  });

  it('5 when the environment is wrong: no slug, no database, a schema this build does not know', async () => {
    const noSlug = await runSidecar(proposeArgs('--kind', 'gitleaks-allow', '--payload-file', reportFile), {});
    expect(noSlug.code).toBe(5);
    expect(noSlug.stderr).toContain('SUPERVISE_BOTTLE_SLUG');
    const noDb = await runSidecar(['propose', '--db', path.join(fixture.dir, 'missing.db'), '--kind', 'gitleaks-allow', '--payload-file', reportFile], env());
    expect(noDb.code).toBe(5);
    expect(noDb.stderr).toContain('no database');
    fixture.host.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    const newer = await runSidecar(proposeArgs('--kind', 'gitleaks-allow', '--payload-file', reportFile), env());
    expect(newer.code).toBe(5);
    expect(newer.stderr).toContain(`schema version is ${SCHEMA_VERSION + 1}`);
    expect(countRows(fixture.host, 'proposals')).toBe(0);
  });

  it('refuses a payload on standard input over the limit, writing nothing', async () => {
    const exit = await runSidecar(proposeArgs('--kind', 'gitleaks-allow', '--payload-file', '-', '--wait', '0'), env(), `${REPORT}${' '.repeat(MAX_PAYLOAD_BYTES)}`);
    expect({ code: exit.code, stdout: exit.stdout }).toEqual({ code: 4, stdout: '' });
    expect(exit.stderr).toContain(`the payload on stdin is over the limit of ${MAX_PAYLOAD_BYTES} bytes`);
    expect(countRows(fixture.host, 'proposals')).toBe(0);
  });

  it('reads the payload from standard input with --payload-file -', async () => {
    const run = runSidecar(proposeArgs('--kind', 'gitleaks-allow', '--payload-file', '-', '--wait', '0'), env(), REPORT);
    const exit = await run;
    expect(exit.code).toBe(2);
    expect(fixture.host.queue.readProposal(SLUG, exit.stdout.trim())?.payload).toBe(REPORT);
  });
});

describe('propose --json', () => {
  it('prints the object the MCP route tools return as structuredContent, with the same exit codes', async () => {
    const routes = path.join(fixture.dir, 'routes.yaml');
    fs.writeFileSync(routes, 'routes:\n  - host: api.github.com\n');
    const run = runSidecar(proposeArgs('--kind', 'egress-allow', '--payload-file', routes, '--json'), env());
    const proposal = await pendingFrom(fixture.host.queue, SLUG, run);
    await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'modified', notes: 'narrowed \u001b[2J', finalPayload: 'routes: []\n', responder: 'operator' });
    const modified = await run;
    expect(modified.code).toBe(0);
    expect(modified.stderr).toBe('');
    // One JSON document, with what a terminal would act on escaped.
    expect(modified.stdout).not.toContain('\u001b');
    expect(JSON.parse(modified.stdout)).toEqual({ status: 'modified', notes: 'narrowed \u001b[2J', proposal_id: proposal.id, final_routes_yaml: 'routes: []\n' });

    const pending = await runSidecar(proposeArgs('--kind', 'gitleaks-allow', '--payload-file', reportFile, '--wait', '0', '--json'), env());
    expect(pending.code).toBe(2);
    const { proposal_id: id } = JSON.parse(pending.stdout) as { proposal_id: string };
    expect(JSON.parse(pending.stdout)).toEqual({ status: 'pending', notes: '', proposal_id: id });

    const resumed = runSidecar(proposeArgs('--proposal-id', id, '--json'), env());
    await fixture.host.queue.writeResponse(SLUG, id, { status: 'rejected', notes: 'no', responder: 'operator' });
    const rejected = await resumed;
    expect(rejected.code).toBe(1);
    expect(JSON.parse(rejected.stdout)).toEqual({ status: 'rejected', notes: 'no', proposal_id: id });
  });
});

describe('a git-gate style hook script', () => {
  const sidecarCommand = `${process.execPath} ${SIDECAR_MAIN}`;

  function runGate(extraEnv: Record<string, string> = {}) {
    return new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('sh', [GATE_SCRIPT, reportFile, '--db', fixture.dbPath, '--keys-dir', bottleKeysDir(SLUG)], {
        env: { PATH: process.env.PATH, BOT_BOTTLE_SIDECAR: sidecarCommand, SUPERVISE_BOTTLE_SLUG: SLUG, ...extraEnv },
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.on('close', (code) => resolve({ code, out }));
    });
  }

  const proposalOf = (gate: Promise<unknown>) => pendingFrom(fixture.host.queue, SLUG, gate);

  it('accepts the push on approval and refuses it on rejection or timeout', async () => {
    const approved = runGate();
    const first = await proposalOf(approved);
    await fixture.host.queue.writeResponse(SLUG, first.id, { status: 'approved', notes: 'fixture key', responder: 'operator' });
    expect(await approved).toEqual({ code: 0, out: expect.stringContaining('remote: supervise: approved: fixture key') });

    // A different report is a different proposal; the identical one returns the earlier approval.
    const again = await runGate();
    expect(again).toEqual({ code: 0, out: expect.stringContaining('approved: fixture key') });
    expect(countRows(fixture.host, 'proposals')).toBe(1);

    fs.writeFileSync(reportFile, REPORT.replace('"line":3', '"line":4'));
    const rejected = runGate();
    const second = await proposalOf(rejected);
    await fixture.host.queue.writeResponse(SLUG, second.id, { status: 'rejected', notes: 'real key', responder: 'operator' });
    expect(await rejected).toEqual({ code: 1, out: expect.stringContaining('remote: supervise: rejected: real key') });

    fs.writeFileSync(reportFile, REPORT.replace('"line":3', '"line":5'));
    const timedOut = await runGate({ GATE_WAIT: '0' });
    expect(timedOut.code).toBe(1);
    expect(timedOut.out).toMatch(/still pending as [0-9a-f-]{36}/);
  });
});

describe('proposeTokenAllow', () => {
  const TOKEN = 'ghp_Zx81QmTOKENVALUE4242yy';

  it('asks with a redacted report, and the raw token reaches none of the database files', async () => {
    // The library runs where the egress addon runs: its own sidecar-side connection to the file.
    const sidecar = openSidecarDatabase(SLUG, { path: fixture.dbPath, keysDir: bottleKeysDir(SLUG) });
    try {
      const bottle = sidecar.queue;
      const input = {
        host: 'api.example.com',
        method: 'POST',
        path: `/v1/upload?key=${TOKEN}`,
        detector: 'github-pat',
        token: TOKEN,
        context: `POST /v1/upload?key=${TOKEN} HTTP/1.1\r\nAuthorization: token ${TOKEN}\r\n`,
      };
      const asked = proposeTokenAllow(bottle, input, { timeoutMs: 30_000 });
      const proposal = await nextPending(fixture.host.queue, SLUG);
      expect(proposal.kind).toBe('egress-token-allow');
      const report = parseTokenAllowReport(proposal.payload);
      expect(report.redacted_snippet).toContain('[REDACTED:github-pat]');
      expect(proposal.justification).toContain('github-pat');
      await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', notes: 'test token, revoked', responder: 'operator' });
      expect(await asked).toMatchObject({ status: 'approved', notes: 'test token, revoked', proposalId: proposal.id });

      // The same token again joins the decided proposal; another token with the same report does not.
      expect(await proposeTokenAllow(bottle, input, { timeoutMs: 0 })).toMatchObject({ status: 'approved', earlier: true, proposalId: proposal.id });
      const other = 'ghp_AnotherTokenValue0000zz';
      const second = await proposeTokenAllow(bottle, { ...input, token: other, path: input.path.replace(TOKEN, other), context: input.context.replaceAll(TOKEN, other) }, { timeoutMs: 0 });
      expect(second.status).toBe('pending');
      expect(second.proposalId).not.toBe(proposal.id);

      const files = [fixture.dbPath, `${fixture.dbPath}-wal`, `${fixture.dbPath}-shm`].filter((f) => fs.existsSync(f));
      expect(files.length).toBeGreaterThanOrEqual(2);
      const grep = () => files.some((file) => fs.readFileSync(file).includes(Buffer.from(TOKEN)) || fs.readFileSync(file).includes(Buffer.from(TOKEN, 'utf16le')));
      expect(grep()).toBe(false);
      checkpoint(fixture.host.db);
      expect(grep()).toBe(false);
      // The check can fail: the same bytes written through the same store are found.
      await bottle.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: 'routes: []\n', justification: `control ${TOKEN}` });
      expect(grep()).toBe(true);
    } finally {
      await sidecar.close();
    }
  });
});
