/**
 * Seals and binding (threat model items 2 and 4). Every sidecar can write the shared database
 * file, so rows are sealed: a bottle MACs what it writes with its own key, the host signs what it
 * writes. Found on the earlier main: a payload changed by raw SQL after the operator listed it was
 * approved as changed (`approve` took only an id); a modify lost the agent's request from the
 * audit log; and nothing stopped a second bottle's sidecar from writing a proposal for bottle A,
 * flipping a response or inserting one. Here each of those is done as an attacker would, from its
 * own process with raw SQL, against the built CLI, the built sidecar and the TUI in a real terminal.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/hash.js';
import { openHostDatabase, type SuperviseDatabase } from '../../src/database.js';
import { applyRoutes } from '../../src/launcher/launcher.js';
import type { Proposal } from '../../src/queue/proposal.js';
import { bottleKeysDir } from '../fixtures/bottle-keys.js';
import { CLI, assertBuilt as assertCliBuilt, killCliChildren, runCli } from '../fixtures/cli-support.js';
import { hostileBottle } from '../fixtures/hostile-run.js';
import { assertBuilt as assertSidecarBuilt, killChildren, runSidecar, startSidecar } from '../fixtures/sidecar-harness.js';
import { GITLEAKS_REPORT, REPO_ROOT, tempDir } from '../fixtures/storage-support.js';
import { TmuxTerminal } from '../fixtures/tui-terminal.js';

const A = 'acme';
const B = 'beta';
const CURRENT = 'routes:\n  - host: api.github.com\n';
const PROPOSED = `${CURRENT}  - host: pypi.org\n`;
const SWAPPED = `${CURRENT}  - host: "*.attacker.example"\n`;
const EDITED = `${CURRENT}  - host: pypi.org\n    path_allowlist:\n      - /simple/\n`;

let dir: string;
let dbFile: string;
let host: SuperviseDatabase;
let savedHome: string | undefined;

beforeAll(() => {
  assertCliBuilt();
  assertSidecarBuilt();
});

beforeEach(async () => {
  savedHome = process.env.HOME;
  dir = tempDir('seals');
  // The CLI, the sidecars and this test share one HOME, so one host key and the bottles' keys.
  process.env.HOME = dir;
  fs.mkdirSync(path.join(dir, 'supervise'), { mode: 0o700 });
  dbFile = path.join(dir, 'supervise', 'bot-bottle.db');
  host = await openHostDatabase({ path: dbFile, watch: false });
});

afterEach(async () => {
  await killChildren();
  await killCliChildren();
  await host.close();
  process.env.HOME = savedHome;
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(['--db', dbFile, ...args], { home: dir, env: { USER: 'tester' } });
const bottle = (slug: string, steps: unknown[]) => hostileBottle({ db: dbFile, slug, keysDir: bottleKeysDir(slug), steps });

/** Bottle A asks, through its own sidecar view: a proposal sealed with A's key. */
async function proposeAsA(payload = PROPOSED): Promise<Proposal> {
  const [result] = await bottle(A, [{ op: 'propose', input: { kind: 'egress-allow', origin: 'agent', payload, currentFile: CURRENT, justification: 'pip needs the index' } }]);
  expect(result).toMatchObject({ ok: true });
  return (result as { value: Proposal }).value;
}

/** What `supervise --once --json` shows for one proposal. */
async function listed(id: string): Promise<{ payloadSha256: string; seal: string; payload: string } | undefined> {
  const run = await cli('supervise', '--once', '--json');
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as Array<{ id: string; payloadSha256: string; seal: string; payload: string }>).find((entry) => entry.id === id);
}

const forgedRows = (id: string) => host.audit.readAuditEntries({ proposalId: id, action: 'forged-row' });

describe('a decision binds what was reviewed', () => {
  it('supervise approve refuses a payload its own bottle swapped (and resealed) after the operator listed it', async () => {
    const proposal = await proposeAsA();
    const reviewed = await listed(proposal.id);
    expect(reviewed).toMatchObject({ payloadSha256: sha256(PROPOSED), seal: 'bottle' });

    // A compromised bottle A rewrites its pending proposal and MACs it again with its own key: the seal is valid.
    await bottle(A, [
      { op: 'sql', sql: 'UPDATE proposals SET payload = ? WHERE id = ?', params: [SWAPPED, proposal.id] },
      { op: 'reseal', id: proposal.id },
    ]);
    const swapped = host.queue.readProposal(A, proposal.id) as Proposal;
    expect(host.queue.proposalSeal(swapped)).toBe('bottle');

    const approve = await cli('supervise', 'approve', proposal.id, '--expect-sha256', reviewed?.payloadSha256 ?? '');
    expect(approve.code).toBe(4);
    expect(approve.stderr).toContain('changed since it was reviewed');
    expect(approve.stderr).toContain(`its payload's sha256 is now ${sha256(SWAPPED)}, not the reviewed ${sha256(PROPOSED)}`);
    expect(host.queue.readProposal(A, proposal.id)).toMatchObject({ state: 'pending' });
    expect(host.queue.readResponse(A, proposal.id)).toBeUndefined();
    expect(host.audit.readAuditEntries({ proposalId: proposal.id })).toEqual([]);

    // Listed again, the new hash is shown; what was reviewed now is what a rejection answers.
    expect(await listed(proposal.id)).toMatchObject({ payloadSha256: sha256(SWAPPED), payload: SWAPPED });
    expect(await cli('supervise', 'reject', proposal.id, '--reason', 'not this', '--expect-sha256', sha256(SWAPPED))).toMatchObject({ code: 0 });
  });

  it('approve and modify need --expect-sha256, reject does not, and --once prints the hash to pass', async () => {
    const proposal = await proposeAsA();
    const table = await cli('supervise', '--once');
    expect(table.stdout).toContain(`${proposal.id.slice(0, 8)}  ${sha256(PROPOSED)}`);
    const edited = path.join(dir, 'edited.yaml');
    fs.writeFileSync(edited, EDITED);

    for (const args of [['approve', proposal.id], ['modify', proposal.id, '--file', edited]]) {
      const run = await cli('supervise', ...args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/needs --expect-sha256 HASH: the payload sha256 that `bot-bottle supervise --once`/);
    }
    expect((await cli('supervise', 'approve', proposal.id, '--expect-sha256', 'abc')).stderr).toContain('is not a sha256');
    expect(host.queue.readResponse(A, proposal.id)).toBeUndefined();
    expect(await cli('supervise', 'reject', proposal.id, '--reason', 'later')).toMatchObject({ code: 0 });
  });

  it('the TUI answers what it displayed: a payload swapped while it is open is refused and shown as it is now', async () => {
    const terminal = new TmuxTerminal(dir);
    try {
      terminal.start(`cd ${JSON.stringify(REPO_ROOT)} && env HOME=${JSON.stringify(dir)} USER=tester ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --db ${JSON.stringify(dbFile)} supervise`);
      await terminal.waitForText('No pending proposals');
      const proposal = await proposeAsA();
      await terminal.waitForText('pip needs the index');
      terminal.keys('Enter');
      await terminal.waitForText('+  - host: pypi.org');
      expect(terminal.screen()).toContain(`payload sha256 ${sha256(PROPOSED)}`);

      await bottle(A, [
        { op: 'sql', sql: 'UPDATE proposals SET payload = ? WHERE id = ?', params: [SWAPPED, proposal.id] },
        { op: 'reseal', id: proposal.id },
      ]);
      terminal.keys('a');
      await terminal.waitForText('Reason for approving');
      terminal.keys('Enter');
      const refused = await terminal.waitForText('changed since it was reviewed');
      expect(refused).toContain('*.attacker.example');
      expect(host.queue.readResponse(A, proposal.id)).toBeUndefined();
      expect(host.queue.readProposal(A, proposal.id)).toMatchObject({ state: 'pending' });

      // What is on screen now is what a rejection binds to.
      terminal.keys('r');
      await terminal.waitForText('Reason for rejecting');
      terminal.type('swapped under review');
      terminal.keys('Enter');
      await terminal.waitForText('No pending proposals');
      expect(host.queue.readResponse(A, proposal.id)).toMatchObject({ status: 'rejected', notes: 'swapped under review' });
    } finally {
      terminal.kill();
    }
  });

  it('a modify keeps the agent\'s request in the log: the decision entry has both diffs and every hash', async () => {
    const proposal = await proposeAsA();
    const edited = path.join(dir, 'edited.yaml');
    fs.writeFileSync(edited, EDITED);
    expect(await cli('supervise', 'modify', proposal.id, '--file', edited, '--reason', 'only /simple/', '--expect-sha256', sha256(PROPOSED))).toMatchObject({ code: 0 });

    const [decision] = host.audit.readAuditEntries({ proposalId: proposal.id, action: 'proposal-decision' });
    const detail = JSON.parse(decision?.detail ?? 'null') as Record<string, string>;
    expect(detail).toMatchObject({
      proposedSha256: sha256(PROPOSED),
      finalSha256: sha256(EDITED),
      currentFileHash: sha256(CURRENT),
      reviewedSha256: sha256(PROPOSED),
      proposalSeal: 'bottle',
    });
    // current → proposed is what the agent asked for; proposed → final is what the operator changed.
    expect(detail.currentToProposedDiff).toMatch(/^\+ {2}- host: pypi\.org$/m);
    expect(detail.proposedToFinalDiff).toMatch(/^\+ {4}path_allowlist:$/m);
    expect(detail.proposedToFinalDiff).not.toMatch(/^\+ {2}- host: pypi\.org$/m);

    const approved = await proposeAsA(`${CURRENT}  - host: registry.npmjs.org\n`);
    expect(await cli('supervise', 'approve', approved.id, '--expect-sha256', sha256(approved.payload))).toMatchObject({ code: 0 });
    const [approval] = host.audit.readAuditEntries({ proposalId: approved.id, action: 'proposal-decision' });
    expect(JSON.parse(approval?.detail ?? 'null')).toEqual({
      proposedSha256: sha256(approved.payload),
      finalSha256: sha256(approved.payload),
      currentFileHash: sha256(CURRENT),
      proposalSeal: 'bottle',
      reviewedSha256: sha256(approved.payload),
    });
    expect(await cli('audit', 'verify')).toMatchObject({ code: 0 });
  });
});

describe('a second bottle forging with raw SQL', () => {
  it('a proposal it writes for bottle A is shown FORGED, cannot be approved or modified, can be rejected, and is audited once', async () => {
    const id = randomUUID();
    const now = Date.now();
    // B writes the row for A and MACs it with its own key, the best it can do.
    await bottle(B, [
      {
        op: 'sql',
        sql: `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, current_file, current_file_hash, state, created_at, expires_at, updated_at)
              VALUES (?, ?, 'egress-allow', 'agent', 'operator', ?, 'needed for the build', ?, ?, 'pending', ?, ?, ?)`,
        params: [id, A, SWAPPED, CURRENT, sha256(CURRENT), now, now + 3_600_000, now],
      },
      { op: 'sql', sql: `INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, 'created', ?, ?, 'operator')`, params: [now, id, A] },
      { op: 'reseal', id },
    ]);

    const table = await cli('supervise', '--once');
    expect(table.stdout).toMatch(new RegExp(`^${id.slice(0, 8)}\\s+acme\\s+egress-allow\\s+\\d+s\\s+\\[FORGED\\] needed for the build`, 'm'));
    expect(table.stdout).toContain('It cannot be approved or modified, only rejected');
    expect(await listed(id)).toMatchObject({ seal: 'forged' });

    const approve = await cli('supervise', 'approve', id, '--expect-sha256', sha256(SWAPPED));
    expect(approve.code).toBe(4);
    expect(approve.stderr).toContain('is FORGED: its seal does not verify');
    const edited = path.join(dir, 'edited.yaml');
    fs.writeFileSync(edited, EDITED);
    expect((await cli('supervise', 'modify', id, '--file', edited, '--expect-sha256', sha256(SWAPPED))).code).toBe(4);
    expect(host.queue.readResponse(A, id)).toBeUndefined();
    expect(forgedRows(id)).toEqual([expect.objectContaining({ slug: A, action: 'forged-row', status: 'forged', detail: expect.stringContaining('"row":"proposal"') })]);

    expect(await cli('supervise', 'reject', id, '--reason', 'forged')).toMatchObject({ code: 0 });
    expect(forgedRows(id)).toHaveLength(1);
  });

  it('the TUI marks its proposal FORGED in the list and the detail, and offers only a rejection', async () => {
    const id = randomUUID();
    const now = Date.now();
    await bottle(B, [
      {
        op: 'sql',
        sql: `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, state, created_at, expires_at, updated_at, seal)
              VALUES (?, ?, 'egress-allow', 'agent', 'operator', ?, 'trust me', 'pending', ?, ?, ?, 'mac:00')`,
        params: [id, A, SWAPPED, now, now + 3_600_000, now],
      },
    ]);
    const terminal = new TmuxTerminal(dir);
    try {
      terminal.start(`cd ${JSON.stringify(REPO_ROOT)} && env HOME=${JSON.stringify(dir)} USER=tester ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --db ${JSON.stringify(dbFile)} supervise`);
      await terminal.waitForText('[FORGED] trust me');
      terminal.keys('Enter');
      await terminal.waitForText('⚠ FORGED: this proposal does not carry a valid seal');
      terminal.keys('a');
      await terminal.waitForText('it can only be rejected (r)');
      terminal.keys('m');
      await terminal.waitForText('it can only be rejected (r)');
      expect(terminal.screen()).not.toContain('Reason for approving');
      terminal.keys('r');
      await terminal.waitForText('Reason for rejecting');
      terminal.type('forged');
      terminal.keys('Enter');
      await terminal.waitForText('No pending proposals');
    } finally {
      terminal.kill();
    }
    expect(host.queue.readResponse(A, id)).toMatchObject({ status: 'rejected', notes: 'forged', seal: expect.stringMatching(/^sig:/) });
    expect(forgedRows(id)).toHaveLength(1);
  });

  it('an answer it flips from rejected to approved is not acted on: the waiting sidecar reports it forged, audits it, and audit verify names it', async () => {
    const report = path.join(dir, 'report.json');
    fs.writeFileSync(report, GITLEAKS_REPORT);
    const proposeArgs = ['propose', '--db', dbFile, '--kind', 'gitleaks-allow', '--payload-file', report, '--justification', 'test fixture key'];
    const env = { SUPERVISE_BOTTLE_SLUG: A, HOME: dir };
    const pending = await runSidecar([...proposeArgs, '--wait', '0'], env);
    expect(pending.code, pending.stderr).toBe(2);
    const id = pending.stdout.trim();

    expect(await cli('supervise', 'reject', id, '--reason', 'a real key')).toMatchObject({ code: 0 });
    await bottle(B, [{ op: 'sql', sql: `UPDATE responses SET status = 'approved', notes = 'fine' WHERE proposal_id = ?`, params: [id] }]);

    const resumed = await runSidecar(['propose', '--db', dbFile, '--proposal-id', id, '--wait', '5'], env);
    expect(resumed.code).toBe(4);
    expect(resumed.stderr).toContain(`the answer to proposal ${id} (gitleaks-allow) is FORGED`);
    expect(host.queue.readProposal(A, id)).toMatchObject({ state: 'answered' });
    expect(forgedRows(id)).toEqual([expect.objectContaining({ actor: 'sidecar', detail: expect.stringContaining('"row":"response"') })]);

    const verify = await cli('audit', 'verify');
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('The audit chain is intact');
    expect(verify.stdout).toMatch(new RegExp(`${id} \\(bottle acme\\): the approved answer by operator:tester does not match its decision entry \\(rejected by operator:tester\\)`));
  });

  it('a response row it inserts for bottle A is refused the same way, and audit verify names it', async () => {
    const report = path.join(dir, 'report.json');
    fs.writeFileSync(report, GITLEAKS_REPORT);
    const env = { SUPERVISE_BOTTLE_SLUG: A, HOME: dir };
    const pending = await runSidecar(['propose', '--db', dbFile, '--kind', 'gitleaks-allow', '--payload-file', report, '--wait', '0'], env);
    const id = pending.stdout.trim();
    const now = Date.now();
    await bottle(B, [
      {
        op: 'sql',
        sql: `INSERT INTO responses (proposal_id, status, notes, final_payload, responder, created_at, seal) VALUES (?, 'approved', 'ok', NULL, 'operator', ?, ?)`,
        params: [id, now, `sig:${Buffer.alloc(64).toString('base64')}`],
      },
      { op: 'sql', sql: `UPDATE proposals SET state = 'answered' WHERE id = ?`, params: [id] },
      { op: 'sql', sql: `INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, 'answered', ?, ?, 'operator')`, params: [now, id, A] },
    ]);

    const resumed = await runSidecar(['propose', '--db', dbFile, '--proposal-id', id, '--wait', '5'], env);
    expect(resumed.code).toBe(4);
    expect(resumed.stderr).toContain('is FORGED');
    expect(forgedRows(id)).toHaveLength(1);
    const verify = await cli('audit', 'verify', '--json');
    expect(verify.code).toBe(1);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: false, answers: { problems: [{ proposalId: id, slug: A, reason: expect.stringContaining('has no decision entry') }] } });
  });

  it('a downward proposal it inserts for bottle A is not applied by A\'s sidecar; the host\'s own is', async () => {
    const routesFile = path.join(dir, 'routes.yaml');
    fs.writeFileSync(routesFile, CURRENT);
    const sidecar = await startSidecar(dbFile, { SUPERVISE_BOTTLE_SLUG: A, SUPERVISE_ROUTES_FILE: routesFile, HOME: dir });
    try {
      const id = randomUUID();
      const now = Date.now();
      await bottle(B, [
        {
          op: 'sql',
          sql: `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, state, created_at, expires_at, updated_at, seal)
                VALUES (?, ?, 'egress-routes-apply', 'host', 'sidecar', ?, 'launcher: apply routes', 'pending', ?, ?, ?, 'sig:AAAA')`,
          params: [id, A, SWAPPED, now, now + 3_600_000, now],
        },
        { op: 'sql', sql: `INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (?, 'created', ?, ?, 'sidecar')`, params: [now, id, A] },
      ]);
      // The sidecar records the forgery, then logs it: its line reaches the pipe after the row commits.
      const warning = `proposal ${id} (egress-routes-apply) is not signed by the host; not applied`;
      for (let tries = 0; forgedRows(id).length === 0 || !sidecar.stderr().includes(warning); tries += 1) {
        if (tries > 600) throw new Error(`the sidecar never dealt with the forged downward proposal: ${sidecar.stderr()}`);
        await sleep(50);
      }
      expect(fs.readFileSync(routesFile, 'utf8')).toBe(CURRENT);
      expect(host.queue.readProposal(A, id)).toMatchObject({ state: 'pending' });
      expect(sidecar.stderr()).toContain(`proposal ${id} (egress-routes-apply) is not signed by the host; not applied`);

      const applied = await applyRoutes(A, EDITED, { timeoutMs: 30_000, database: host });
      expect(applied).toMatchObject({ outcome: 'answered', status: 'approved' });
      expect(fs.readFileSync(routesFile, 'utf8')).toBe(EDITED);
    } finally {
      sidecar.child.kill('SIGTERM');
      await sidecar.exited;
    }
  });
});
