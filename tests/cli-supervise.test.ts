/**
 * `bot-bottle supervise` without a terminal: --once, --json and the answer verbs, run as real
 * processes against a file-backed database, including every kind of bad input.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, assertBuilt as assertCliBuilt } from './fixtures/cli-support.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import type { Proposal } from '../src/queue/proposal.js';
import { sha256 } from '../src/core/hash.js';
import { GITLEAKS_REPORT, REPO_ROOT, rowCounts, tempDir } from './fixtures/storage-support.js';

const CURRENT = 'routes:\n  - host: api.github.com\n';
const PROPOSED = 'routes:\n  - host: api.github.com\n  - host: pypi.org\n';
const EDITED = 'routes:\n  - host: api.github.com\n  - host: pypi.org\n    path_allowlist:\n      - /simple/\n';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('supervise from scripts', () => {
  let dir: string;
  let dbFile: string;
  let database: SuperviseDatabase;

  const cli = (...args: string[]): Run => {
    const result = spawnSync(process.execPath, [CLI, '--db', dbFile, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, USER: 'tester', NO_COLOR: '1' },
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };

  const propose = (slug: string, kind = 'egress-allow', payload = PROPOSED): Promise<Proposal> =>
    database.queue.writeProposal(slug, { kind, origin: 'agent', payload, justification: `${slug} needs it`, ...(kind === 'egress-allow' ? { currentFile: CURRENT } : {}) });

  /** Runs a command that must fail, and checks that it wrote nothing. */
  const refused = (...args: string[]): Run => {
    const before = rowCounts(database.db);
    const run = cli(...args);
    expect(run.status, run.stdout).not.toBe(0);
    expect(rowCounts(database.db)).toEqual(before);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    return run;
  };

  beforeAll(async () => {
    assertCliBuilt();
    dir = tempDir('cli-supervise');
    dbFile = path.join(dir, 'bot-bottle.db');
    database = await openHostDatabase({ path: dbFile, watch: false });
  });

  afterAll(async () => {
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('--once says so when nothing is pending', () => {
    const run = cli('supervise', '--once');
    expect(run).toMatchObject({ status: 0, stdout: 'No pending proposals.\n' });
    expect(cli('supervise', '--json')).toMatchObject({ status: 0, stdout: '[]\n' });
  });

  it('--once lists pending proposals of every bottle, oldest first; --json gives scripts the whole proposal', async () => {
    const first = await propose('zeta');
    const second = await propose('acme', 'gitleaks-allow', GITLEAKS_REPORT);
    const answered = await propose('acme');
    await database.queue.writeResponse('acme', answered.id, { status: 'approved', responder: 'operator' });

    const table = cli('supervise', '--once');
    expect(table.status).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+BOTTLE\s+KIND\s+AGE\s+JUSTIFICATION$/);
    expect(lines[1]).toMatch(new RegExp(`^${first.id.slice(0, 8)}\\s+zeta\\s+egress-allow\\s+\\d+s\\s+zeta needs it$`));
    expect(lines[2]).toMatch(new RegExp(`^${second.id.slice(0, 8)}\\s+acme\\s+gitleaks-allow\\s+\\d+s\\s+acme needs it$`));
    expect(lines[3]).toMatch(/^2 pending proposals, oldest first/);
    expect(table.stdout).not.toContain(answered.id.slice(0, 8));

    const json = cli('supervise', '--once', '--json');
    expect(json.status).toBe(0);
    const listed = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(listed.map((entry) => entry.id)).toEqual([first.id, second.id]);
    expect(listed[0]).toMatchObject({ slug: 'zeta', kind: 'egress-allow', payload: PROPOSED, currentFile: CURRENT, modifiable: true, reasonRequiredToApprove: false });
    expect(listed[1]).toMatchObject({ slug: 'acme', kind: 'gitleaks-allow', modifiable: false, reasonRequiredToApprove: true, currentFile: null });

    await database.queue.writeResponse('zeta', first.id, { status: 'rejected', responder: 'operator', notes: 'cleanup' });
    await database.queue.writeResponse('acme', second.id, { status: 'rejected', responder: 'operator', notes: 'cleanup' });
  });

  it('approve, modify and reject answer by id or 8-character prefix, as operator:$USER, and the waiter sees each answer', async () => {
    const approve = await propose('acme');
    const modify = await propose('beta');
    const reject = await propose('gamma', 'gitleaks-allow', GITLEAKS_REPORT);
    const editedFile = path.join(dir, 'edited.yaml');
    fs.writeFileSync(editedFile, EDITED);

    expect(cli('supervise', 'approve', approve.id.slice(0, 8), '--reason', 'fine', '--expect-sha256', sha256(approve.payload))).toMatchObject({
      status: 0,
      stdout: `approved ${approve.id.slice(0, 8)} (egress-allow, bottle "acme") as operator:tester.\n`,
    });
    const modified = cli('supervise', 'modify', modify.id, '--file', editedFile, '--expect-sha256', sha256(modify.payload), '--json');
    expect(modified.status, modified.stderr).toBe(0);
    expect(JSON.parse(modified.stdout)).toMatchObject({ proposalId: modify.id, status: 'modified', finalPayload: EDITED, responder: 'operator:tester' });
    expect(cli('supervise', 'reject', reject.id, '--reason', 'a real key')).toMatchObject({ status: 0 });

    expect(database.queue.readResponse('acme', approve.id)).toMatchObject({ status: 'approved', notes: 'fine', responder: 'operator:tester' });
    expect(database.queue.readResponse('beta', modify.id)).toMatchObject({ status: 'modified', finalPayload: EDITED });
    expect(database.queue.readResponse('gamma', reject.id)).toMatchObject({ status: 'rejected', notes: 'a real key' });
    const outcome = await database.queue.waitForResponse('beta', modify.id, { timeoutMs: 0 });
    expect(outcome).toMatchObject({ outcome: 'answered', response: { status: 'modified' } });
    const decisions = database.audit.readAuditEntries({ proposalId: modify.id });
    expect(decisions).toMatchObject([{ action: 'proposal-decision', status: 'modified', actor: 'operator:tester' }]);
    expect(decisions[0]?.diff).toContain('+    path_allowlist:');
  });

  it('modify --file - reads the edited file from stdin', async () => {
    const proposal = await propose('stdin');
    const result = spawnSync(process.execPath, [CLI, '--db', dbFile, 'supervise', 'modify', proposal.id, '--file', '-', '--expect-sha256', sha256(proposal.payload)], {
      cwd: REPO_ROOT,
      input: EDITED,
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(database.queue.readResponse('stdin', proposal.id)).toMatchObject({ status: 'modified', finalPayload: EDITED });
  });

  describe('bad input: a clear message, a non-zero exit, nothing written', () => {
    let pending: Proposal;
    let report: Proposal;

    beforeAll(async () => {
      pending = await propose('acme');
      report = await propose('acme', 'gitleaks-allow', GITLEAKS_REPORT);
    });

    it('an unknown id, a malformed id, a too short prefix', () => {
      expect(refused('supervise', 'approve', '00000000-0000-4000-8000-000000000000')).toMatchObject({
        status: 3,
        stderr: expect.stringContaining('no proposal with id "00000000-0000-4000-8000-000000000000". List pending proposals with: bot-bottle supervise --once'),
      });
      expect(refused('supervise', 'reject', 'not-an-id', '--reason', 'x')).toMatchObject({ status: 3, stderr: expect.stringContaining('is not a proposal id') });
      expect(refused('supervise', 'approve', pending.id.slice(0, 7))).toMatchObject({ status: 3, stderr: expect.stringContaining('at least its first 8 characters') });
    });

    it('bad flags and missing arguments', () => {
      expect(refused('supervise', '--bogus')).toMatchObject({ status: 2, stderr: expect.stringContaining("unknown option '--bogus'") });
      expect(refused('supervise', 'approve')).toMatchObject({ status: 2, stderr: expect.stringContaining("missing required argument 'id'") });
      expect(refused('supervise', 'reject', pending.id)).toMatchObject({ status: 2, stderr: expect.stringContaining("required option '--reason <text>' not specified") });
      expect(refused('supervise', 'modify', pending.id)).toMatchObject({ status: 2, stderr: expect.stringContaining("required option '--file <path>' not specified") });
      expect(refused('supervise', 'approve', pending.id, 'extra')).toMatchObject({ status: 2 });
    });

    it('a missing reason where one is required', () => {
      expect(refused('supervise', 'reject', pending.id, '--reason', '   ')).toMatchObject({ status: 3, stderr: expect.stringContaining('a rejection needs a reason') });
      expect(refused('supervise', 'approve', report.id)).toMatchObject({
        status: 3,
        stderr: expect.stringContaining('approving a gitleaks-allow proposal needs a reason'),
      });
    });

    it('modify of a kind that cannot be modified, an invalid file, an unreadable file', () => {
      const valid = path.join(dir, 'valid.yaml');
      fs.writeFileSync(valid, EDITED);
      expect(refused('supervise', 'modify', report.id, '--file', valid, '--reason', 'x')).toMatchObject({
        status: 3,
        stderr: expect.stringContaining('gitleaks-allow proposals cannot be modified'),
      });
      const invalid = path.join(dir, 'invalid.yaml');
      fs.writeFileSync(invalid, 'routes:\n  - host: https://pypi.org/simple\n');
      expect(refused('supervise', 'modify', pending.id, '--file', invalid)).toMatchObject({
        status: 3,
        stderr: expect.stringMatching(/the modified file is not a valid egress-allow payload: .*line 2: routes\[0\]\.host/s),
      });
      expect(refused('supervise', 'modify', pending.id, '--file', path.join(dir, 'missing.yaml'))).toMatchObject({
        status: 3,
        stderr: expect.stringContaining('cannot read the modified file'),
      });
      expect(database.queue.readProposal('acme', pending.id)?.state).toBe('pending');
    });

    it('a proposal already answered is reported as answered elsewhere, exit 4', async () => {
      const answered = await propose('acme');
      await database.queue.writeResponse('acme', answered.id, { status: 'approved', responder: 'operator:alice', notes: 'ok' });
      expect(refused('supervise', 'reject', answered.id, '--reason', 'late')).toMatchObject({
        status: 4,
        stderr: expect.stringContaining('is no longer pending: answered elsewhere: approved by operator:alice (reason: "ok")'),
      });
    });

    it('a proposal addressed to a sidecar is not the operator’s to answer', async () => {
      const downward = await database.queue.writeProposal('acme', { kind: 'egress-routes-apply', origin: 'host', payload: PROPOSED });
      expect(refused('supervise', 'approve', downward.id)).toMatchObject({ status: 3, stderr: expect.stringContaining('addressed to bottle "acme"\'s sidecar') });
    });

    it('the interactive TUI without a terminal refuses and points at --once', () => {
      expect(refused('supervise')).toMatchObject({
        status: 5,
        stderr: expect.stringContaining('bot-bottle supervise needs an interactive terminal, but stdin is not a TTY. From scripts use `bot-bottle supervise --once`'),
      });
    });
  });
});
