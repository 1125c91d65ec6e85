/**
 * SQLite columns take any type, and a bottle writes the shared file with raw SQL: a proposal whose
 * payload, justification or current file is a number or a blob must be listed as what it is, a
 * forgery, without taking the operator's whole list down with it.
 */
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SuperviseDatabase } from '../../src/database.js';
import { openHostHomeForEachTest } from '../fixtures/host-home.js';
import { assertBuilt, CLI, runCli } from '../fixtures/cli-support.js';
import { REPO_ROOT } from '../fixtures/storage-support.js';
import { TmuxTerminal } from '../fixtures/tui-terminal.js';

const GOOD = 'routes:\n  - host: api.example.com\n';
const FORGED_ID = '11111111-1111-4111-8111-111111111111';

let dir: string;
let dbFile: string;
let host: SuperviseDatabase;

beforeAll(() => assertBuilt());

openHostHomeForEachTest('typed-columns', (home) => ({ dir, dbFile, host } = home));

/** The row a bottle writes with raw SQL, its text columns holding other types. */
function writeForgedRow(payload: unknown, justification: unknown, currentFile: unknown): void {
  const raw = new Database(dbFile);
  try {
    const now = Date.now();
    raw
      .prepare(`INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, current_file, state, created_at, updated_at) VALUES (?, 'evil', 'egress-allow', 'agent', 'operator', ?, ?, ?, 'pending', ?, ?)`)
      .run(FORGED_ID, payload, justification, currentFile, now, now);
  } finally {
    raw.close();
  }
}

describe('a proposal row with non-text columns, written with raw SQL', () => {
  it.each([
    ['numbers', 12345, 67890, 3.5],
    ['blobs', Buffer.from('routes: []\n'), Buffer.from([0, 1, 2]), Buffer.from('x')],
  ])('(%s) is listed as forged beside the honest proposal, by the store, the summaries and supervise --once --json', async (_what, payload, justification, currentFile) => {
    const honest = await host.queue.writeProposal('acme', { kind: 'egress-allow', payload: GOOD, origin: 'agent' });
    writeForgedRow(payload, justification, currentFile);

    expect(host.queue.listPendingProposals().map((p) => p.id).sort()).toEqual([honest.id, FORGED_ID].sort());
    const summaries = host.queue.listPendingSummaries();
    expect(summaries.map((s) => s.id).sort()).toEqual([honest.id, FORGED_ID].sort());
    expect(summaries.map((s) => [s.id, host.queue.summarySeal(s)])).toEqual(expect.arrayContaining([[honest.id, 'host'], [FORGED_ID, 'forged']]));

    const listed = await runCli(['--db', dbFile, 'supervise', '--once', '--json'], { home: dir });
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
    const rows = JSON.parse(listed.stdout) as Array<{ id: string; seal: string }>;
    expect(rows.map((row) => [row.id, row.seal]).sort()).toEqual([[FORGED_ID, 'forged'], [honest.id, 'host']].sort());
  });
});

describe('the terminal UI (tmux) with such a row', () => {
  it('lists it as forged, shows it, refuses to approve it and rejects it with a reason (it crashed on a blob current file)', async () => {
    const honest = await host.queue.writeProposal('acme', { kind: 'egress-allow', payload: GOOD, origin: 'agent', justification: 'the honest one' });
    // Numbers a TEXT column stores as text; blobs it keeps, and a blob reached the diff as a Buffer.
    writeForgedRow(Buffer.from('routes:\n  - host: evil.example\n'), Buffer.from('justified \u001b[2J'), Buffer.from([0, 1, 2]));
    const terminal = new TmuxTerminal(dir);
    try {
      terminal.start(`cd ${JSON.stringify(REPO_ROOT)} && env HOME=${JSON.stringify(dir)} USER=tester ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --db ${JSON.stringify(dbFile)} supervise`);
      const list = await terminal.waitForText('[FORGED]');
      expect(list).toContain(honest.id.slice(0, 8));
      expect(list).toContain(FORGED_ID.slice(0, 8));
      // The honest proposal is first (oldest); the forged one is opened.
      terminal.keys('Down');
      terminal.keys('Enter');
      await terminal.waitForText(`Proposal ${FORGED_ID}`);
      terminal.keys('a');
      await terminal.waitForText('it can only be rejected (r)');
      terminal.keys('r');
      await terminal.waitForText('Reason');
      terminal.type('numbers where text belongs');
      terminal.keys('Enter');
      await terminal.waitForText(`rejected ${FORGED_ID.slice(0, 8)}`);
      terminal.keys('q');
      await terminal.waitForText('exit=0');
    } finally {
      terminal.kill();
    }
    expect(host.queue.listPendingProposals().map((p) => p.id)).toEqual([honest.id]);
    expect(host.queue.readResponse('evil', FORGED_ID)).toMatchObject({ status: 'rejected', notes: 'numbers where text belongs' });
  }, 60_000);
});

describe('an audit entry with blob columns, appended with raw SQL', () => {
  it('is listed and shown, and verify names it as the break in the chain (list and show crashed on it)', async () => {
    await host.queue.writeProposal('acme', { kind: 'egress-allow', payload: GOOD, origin: 'agent' });
    const honest = host.audit.head();
    const raw = new Database(dbFile);
    try {
      // Appending is all the triggers allow, and all a bottle needs.
      raw
        .prepare(`INSERT INTO audit_entries (ts, slug, component, action, status, notes, actor, diff, prev_hash, hash) VALUES (?, 'evil', ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(Date.now(), Buffer.from('egress'), Buffer.from('proposal-decision'), Buffer.from('approved'), Buffer.from('notes \u001b[2J'), Buffer.from('operator:me'), Buffer.from([0, 1, 2]), Buffer.from(honest.hash), Buffer.from('f'.repeat(64)));
    } finally {
      raw.close();
    }
    const seq = honest.count + 1;
    for (const args of [['audit', 'list'], ['audit', 'list', '--json'], ['audit', 'show', String(seq)]]) {
      const run = await runCli(['--db', dbFile, ...args], { home: dir });
      expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 0, stderr: '' });
      expect(run.stdout).toContain('evil');
      // Shown, never obeyed: the escape that would clear the screen is made visible.
      expect(run.stdout).not.toContain('\u001b[2J');
    }
    const verified = await runCli(['--db', dbFile, 'audit', 'verify'], { home: dir });
    expect(verified.code).toBe(1);
    expect(verified.stdout + verified.stderr).toContain(`at entry ${seq}`);
  });
});
