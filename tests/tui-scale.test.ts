/**
 * The supervise TUI with a real backlog, in a real 80×24 terminal (tmux): 200 pending proposals
 * from three bottles, one with a 63-character slug, each bottle proposing through its own sealed
 * view as a sidecar does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, assertBuilt as assertCliBuilt } from './fixtures/cli-support.js';
import Database from 'better-sqlite3';
import { BottleStore } from '../src/bottles/bottle-store.js';
import { openHostDatabase, openSidecarDatabase } from '../src/database.js';
import { openBottleKeyring } from '../src/keys/keyring.js';
import { registerBottle, retireBottle } from '../src/launcher/bottles.js';
import { openConnection } from '../src/storage/connection.js';
import type { Proposal } from '../src/queue/proposal.js';
import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';
import { FIXTURES_DIR, GITLEAKS_REPORT, REPO_ROOT, routesFor, tempDir } from './fixtures/storage-support.js';
import { TmuxTerminal } from './fixtures/tui-terminal.js';

const LONG_SLUG = `a-very-long-bottle-name-${'x'.repeat(39)}`;
const BOTTLES = [
  { slug: 'acme', count: 100, kind: () => 'egress-allow', justification: (i: number) => `acme build needs mirror${i}.example.com for its dependencies` },
  { slug: LONG_SLUG, count: 60, kind: (i: number) => (i % 2 === 0 ? 'egress-allow' : 'gitleaks-allow'), justification: (i: number) => `long bottle request number ${i} with a long explanation` },
  { slug: 'gamma', count: 40, kind: () => 'gitleaks-allow', justification: (i: number) => `gamma test fixture key ${i} in the repository` },
] as const;

describe('supervise TUI with 200 pending proposals at 80×24 (tmux)', () => {
  let dir: string;
  let dbFile: string;
  let terminal: TmuxTerminal;
  const proposals: Proposal[] = [];

  /** A heartbeat at a chosen time, sealed with the bottle's own key as its sidecar seals it. */
  const sealedBeat = async (slug: string, at: number): Promise<void> => {
    const db = openConnection(dbFile, { fileMustExist: true });
    try {
      await new BottleStore(db, { keyring: openBottleKeyring(slug, bottleKeysDir(slug)) }).recordHeartbeat(slug, { sidecarVersion: '0.9.1', schemaVersion: SCHEMA_VERSION, liveRoutes: undefined }, at);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    assertCliBuilt();
    dir = tempDir('tui-scale');
    dbFile = path.join(dir, 'bot-bottle.db');
    const host = await openHostDatabase({ path: dbFile, watch: false });
    try {
      // acme beats again right before the bottles view opens (a beat dated ahead would show stale);
      // gamma's is two minutes old, stale until eight more have passed.
      await sealedBeat('acme', Date.now());
      await sealedBeat('gamma', Date.now() - 2 * 60_000);
      // delta was registered, beat, and was retired by its launcher.
      await registerBottle('delta', { backend: 'docker', image: 'agent:1', database: host });
      await sealedBeat('delta', Date.now() - 60 * 60_000);
      await retireBottle('delta', { database: host });
    } finally {
      await host.close();
    }
    // The long bottle, compromised, writes itself a fresh heartbeat with raw SQL, without its key.
    const raw = new Database(dbFile);
    try {
      raw.prepare(`INSERT INTO bottles (slug, last_heartbeat, sidecar_version, schema_version) VALUES (?, ?, '6.6.6', ?)`).run(LONG_SLUG, Date.now() + 10 * 60_000, SCHEMA_VERSION);
    } finally {
      raw.close();
    }
    for (const { slug, count, kind, justification } of BOTTLES) {
      const bottle = openSidecarDatabase(slug, { path: dbFile, keysDir: bottleKeysDir(slug), watch: false, flood: { maxPending: 1000, perMinute: 1000 } });
      try {
        for (let i = 0; i < count; i++) {
          const k = kind(i);
          proposals.push(await bottle.queue.writeProposal({ kind: k, origin: 'agent', payload: k === 'gitleaks-allow' ? GITLEAKS_REPORT : routesFor(`mirror${i}.example.com`), justification: justification(i) }));
        }
      } finally {
        await bottle.close();
      }
    }
    terminal = new TmuxTerminal(dir);
    terminal.start(`cd ${JSON.stringify(REPO_ROOT)} && env USER=tester EDITOR=${JSON.stringify(path.join(FIXTURES_DIR, 'tui-append-editor.sh'))} ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --db ${JSON.stringify(dbFile)} supervise`, { columns: 80, rows: 24 });
    await terminal.waitForText('200 pending proposals');
  });

  afterAll(() => {
    terminal?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('caps the bottle column, so the justification keeps most of the 80 columns', async () => {
    const screen = await terminal.waitForText(`${LONG_SLUG.slice(0, 15)}…`);
    expect(screen).not.toContain(LONG_SLUG.slice(0, 16));
    const row = screen.split('\n').find((line) => line.includes(`${LONG_SLUG.slice(0, 15)}…`)) ?? '';
    // Before the cap the slug took 63 columns and left about ten for the justification.
    const justification = /\d[smhd] {2}(long bottle request.*)$/.exec(row.trimEnd())?.[1] ?? '';
    expect(justification.length, row).toBeGreaterThanOrEqual(28);
    // Open it: the detail view names the bottle in full.
    terminal.keys('Down', 'Enter');
    await terminal.waitForText(LONG_SLUG);
    terminal.keys('q');
    await terminal.waitForText('JUSTIFICATION');
  });

  it('? shows every key over the list, scrolls at 24 rows, and closes back to the list', async () => {
    terminal.keys('?');
    const help = await terminal.waitForText('The pending list');
    expect(help).toMatch(/Enter +open the selected proposal/);
    expect(help).toMatch(/lines 1–\d+ of \d+/);
    terminal.keys('PgDn', 'PgDn', 'PgDn');
    await terminal.waitForText('An edit that is not valid');
    terminal.keys('?');
    await terminal.waitForText('JUSTIFICATION');
  });

  it('/ searches as it is typed; Enter keeps the search, Esc in the list shows everything again', async () => {
    terminal.keys('/');
    await terminal.waitForText('type to search id, bottle, kind, justification');
    terminal.type('mirror17.');
    const typed = await terminal.waitForText('1 of 200 match');
    expect(typed).toContain('/mirror17.█');
    expect(typed).toContain('acme build needs mirror17.example.com');
    expect(typed).not.toContain('mirror18.');
    terminal.keys('Enter');
    await terminal.waitForText('1 of 200 shown (Esc shows all): search "mirror17."');
    terminal.keys('Escape');
    await terminal.waitFor('the whole list again', (screen) => !screen.includes('Esc shows all') && screen.includes('gamma test fixture key'));
  });

  it('b shows only the selected bottle, t only its kind, o groups by bottle; Esc shows everything', async () => {
    terminal.keys('g', 'j');
    await terminal.waitFor('the long bottle selected', (screen) => /^> \S+ {2}a-very-long-bot…/m.test(screen));
    terminal.keys('b');
    const bottle = await terminal.waitForText(`60 of 200 shown (Esc shows all): bottle ${LONG_SLUG.slice(0, 30)}`);
    expect(bottle).not.toContain('acme build');
    terminal.keys('t');
    await terminal.waitForText('30 of 200 shown (Esc shows all): bottle');
    terminal.keys('Escape');
    await terminal.waitFor('the whole list again', (screen) => !screen.includes('Esc shows all') && screen.includes('acme build'));
    terminal.keys('t');
    await terminal.waitForText('130 of 200 shown (Esc shows all): kind egress-allow');
    terminal.keys('t');
    await terminal.waitFor('every kind again', (screen) => !screen.includes('Esc shows all'));
    terminal.keys('o');
    const grouped = await terminal.waitForText('grouped by bottle');
    // The cursor stayed on the long bottle's proposal, now under its group's heading.
    expect(grouped).toContain(`── ${LONG_SLUG} · 60 pending`);
    expect(grouped).toMatch(/^> \S+ {2}a-very-long-bot…/m);
    terminal.keys('g');
    await terminal.waitForText('── acme · 100 pending');
    terminal.keys('o');
    await terminal.waitFor('bottles in turns again', (screen) => !screen.includes('grouped by bottle'));
  });

  it('Space marks, R rejects every marked proposal with one reason, each answered and audited on its own', async () => {
    terminal.keys('g', 'j', 'j', 'b');
    await terminal.waitForText('40 of 200 shown (Esc shows all): bottle gamma');
    terminal.keys('Space', 'Space', 'Space');
    await terminal.waitForText('3 marked (R rejects them)');
    terminal.keys('Escape');
    const list = await terminal.waitFor('the marked rows in the whole list', (screen) => screen.includes('acme build') && (screen.match(/^[ >]\*/gm) ?? []).length === 3);
    expect(list).toContain('R reject the 3 marked');
    terminal.keys('R');
    const prompt = await terminal.waitForText('Reason for rejecting them all (required, sent to each agent)');
    expect(prompt).toContain('Reject these 3 marked proposals, each on its own');
    for (const i of [0, 1, 2]) expect(prompt).toContain(`gamma test fixture key ${i} in`);
    expect(prompt).not.toContain('acme build');
    terminal.keys('Enter');
    await terminal.waitForText('a rejection needs a reason');
    terminal.type('fixture noise\r');
    await terminal.waitForText('Rejected 3 proposals as operator:tester.');
    await terminal.waitForText('197 pending proposals');

    const database = await openHostDatabase({ path: dbFile, watch: false });
    try {
      const gamma = proposals.filter((p) => p.slug === 'gamma').slice(0, 3);
      for (const proposal of gamma) {
        expect(database.queue.readResponse('gamma', proposal.id)).toMatchObject({ status: 'rejected', notes: 'fixture noise', responder: 'operator:tester' });
        expect(database.audit.readAuditEntries({ proposalId: proposal.id })).toMatchObject([{ action: 'proposal-decision', status: 'rejected' }]);
      }
      expect(database.queue.listPendingProposals({ target: 'operator' })).toHaveLength(197);
      // The three rejections, after delta's registration and retirement.
      expect(database.audit.verify()).toMatchObject({ ok: true, head: { count: 5 } });
    } finally {
      await database.close();
    }
  });

  it('m: once $EDITOR has changed the file, the diff of the edit is on the screen above the reason prompt', async () => {
    terminal.keys('/');
    terminal.type('mirror5.\r');
    await terminal.waitForText('1 of 197 shown');
    terminal.keys('Enter');
    await terminal.waitForText('m modify in $EDITOR');
    terminal.keys('m');
    const prompt = await terminal.waitForText('Reason for the modification (optional, Enter to skip)');
    const lines = prompt.split('\n');
    const heading = lines.findIndex((line) => line.startsWith('Your edit (- the proposed file, + yours: what approving applies)'));
    expect(heading, prompt).toBeGreaterThan(0);
    expect(lines.slice(heading, heading + 8).join('\n')).toMatch(/ {2}- host: mirror5\.example\.com\n\+ {4}path_allowlist:\n\+ {6}- \/simple\//);
    terminal.type('only the index\r');
    await terminal.waitForText('modified');

    const database = await openHostDatabase({ path: dbFile, watch: false });
    try {
      const proposal = proposals.find((p) => p.justification.includes('mirror5.'));
      expect(database.queue.readResponse('acme', proposal?.id ?? '')).toMatchObject({
        status: 'modified',
        notes: 'only the index',
        finalPayload: 'routes:\n  - host: mirror5.example.com\n    path_allowlist:\n      - /simple/\n',
      });
    } finally {
      await database.close();
    }
  });

  it('shows a gitleaks report as a table of findings and says who asked', async () => {
    terminal.keys('Escape');
    await terminal.waitFor('the whole list again', (screen) => !screen.includes('Esc shows all'));
    const id = proposals.find((p) => p.justification === 'gamma test fixture key 7 in the repository')?.id ?? '';
    terminal.keys('/');
    terminal.type(`${id.slice(0, 8)}\r`);
    await terminal.waitForText('1 of 196 shown');
    terminal.keys('Enter');
    const detail = await terminal.waitForText('Report: 1 finding that gitleaks:allow suppressed');
    expect(detail).toContain('asked by the agent in bottle gamma');
    expect(detail).toMatch(/# {2}FILE:LINE +RULE +REF/);
    expect(detail).toMatch(/1 {2}config\.env:3 +generic-api-key +refs\/heads\/main/);
    expect(detail).not.toContain('"findings"');
    terminal.keys('q');
    await terminal.waitForText('1 of 196 shown');
    terminal.keys('Escape');
    await terminal.waitFor('the whole list again', (screen) => !screen.includes('Esc shows all'));
  });

  it('B lists the bottles as the host’s overview shows them, alive, stale or gone, with their seals and pending counts; Enter shows one bottle’s proposals', async () => {
    await sealedBeat('acme', Date.now());
    terminal.keys('B');
    const view = await terminal.waitForText('4 bottles: 1 alive, 1 stale, 2 gone');
    expect(view).toContain('Enter show its proposals');
    const row = (slug: string): string => (view.split('\n').find((line) => line.slice(2).startsWith(slug.slice(0, 20))) ?? '').trimEnd();
    expect(row('acme')).toMatch(/acme +alive +99 +\S+ ago +0\.9\.1 +no$/);
    // Its fresh heartbeat carries no seal: not alive, and its claims are not shown.
    expect(row(LONG_SLUG)).toMatch(/a-very-long-bottle-name-x*… +gone +60 +\[UNSEALED\] \d+[sm] +no$/);
    expect(row(LONG_SLUG)).not.toContain('6.6.6');
    expect(row('gamma')).toMatch(/gamma +stale +37 +\d+m ago +0\.9\.1 +no$/);
    expect(row('delta')).toMatch(/delta +gone +0 +1h ago +0\.9\.1 +retired$/);
    // Ordered by how many are waiting: acme first, selected.
    expect(view).toMatch(/^> acme /m);
    terminal.keys('j', 'j', 'Enter');
    await terminal.waitForText('37 of 196 shown (Esc shows all): bottle gamma');
    terminal.keys('o');
    await terminal.waitForText('── gamma · 37 pending · stale');
    terminal.keys('o', 'Escape');
    await terminal.waitFor('the whole list again', (screen) => !screen.includes('Esc shows all'));
  });
});
