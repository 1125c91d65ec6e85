import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LegacyImportSummary } from '../src/legacy/summary.js';
import { uuidV5 } from '../src/legacy/shapes.js';
import { assertBuilt, killCliChildren, runCli, snapshotTree, spawnCli, type CliRun } from './fixtures/cli-support.js';
import { writeLegacyTree } from './fixtures/cli-legacy-tree.js';
import { FIXTURES_DIR, REPO_ROOT, tempDir } from './fixtures/storage-support.js';

const TREE = path.join(FIXTURES_DIR, 'legacy', 'tree');

let home: string;
let from: string;
let dbFile: string;

const importLegacy = (...args: string[]): Promise<CliRun> => runCli(['--db', dbFile, 'import-legacy', '--from', from, ...args], { home });

function summaryOf(run: CliRun): LegacyImportSummary {
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as LegacyImportSummary;
}

function query<T>(sql: string, file = dbFile): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/** What the fixture tree holds (docs/LEGACY-IMPORT.md walks through each file). */
const FIRST_RUN = {
  proposals: { read: 11, imported: 6, alreadyPresent: 1, malformed: 4 },
  responses: { read: 6, imported: 5, alreadyPresent: 0, malformed: 1 },
  auditLines: { read: 8, imported: 5, alreadyPresent: 1, malformed: 2 },
};
const SECOND_RUN = {
  proposals: { read: 11, imported: 0, alreadyPresent: 7, malformed: 4 },
  responses: { read: 6, imported: 0, alreadyPresent: 5, malformed: 1 },
  auditLines: { read: 8, imported: 0, alreadyPresent: 6, malformed: 2 },
};
const PROBLEMS = [
  { path: 'audit/egress.jsonl', line: 6, reason: 'no bottle: expected "bottle_slug" (or "slug")' },
  { path: 'audit/egress.jsonl', line: 7, reason: expect.stringMatching(/^not valid JSON/) },
  { path: 'queue/_bad/77777777-7777-4777-8777-777777777777.json', reason: expect.stringMatching(/^its directory is not a valid bottle slug: bottle slug "_bad"/) },
  { path: 'queue/acme/broken.json', reason: expect.stringMatching(/^not valid JSON/) },
  { path: 'queue/acme/nokind.json', reason: 'no proposal kind: expected "tool" (or "kind")' },
  { path: 'queue/acme/orphan.response.json', reason: 'no proposal for this response: expected orphan.json beside it or in processed/' },
  { path: 'queue/zeta/wrongslug.json', reason: 'it names bottle "acme" but lies in the queue directory of "zeta"' },
];

beforeAll(assertBuilt);
beforeEach(() => {
  home = tempDir('cli-import');
  from = path.join(home, 'legacy');
  fs.cpSync(TREE, from, { recursive: true });
  dbFile = path.join(home, 'bot-bottle.db');
});
afterEach(killCliChildren);

describe('import-legacy on the fixture tree', () => {
  it('dry run, import, import again: counts add up, match, and the originals stay untouched', async () => {
    const original = snapshotTree(from);

    const dry = await importLegacy('--dry-run', '--json');
    expect(dry.code).toBe(1);
    expect(summaryOf(dry)).toMatchObject({ dryRun: true, ...FIRST_RUN, countsVerified: true, problems: PROBLEMS });
    expect(fs.existsSync(dbFile)).toBe(false);

    const first = await importLegacy('--json');
    expect(first.code).toBe(1);
    expect(summaryOf(first)).toMatchObject({ dryRun: false, ...FIRST_RUN, countsVerified: true, problems: PROBLEMS, ignored: { count: 2, examples: ['queue/acme/notes.txt', 'audit/README.md'] } });

    const second = await importLegacy('--json');
    expect(summaryOf(second)).toMatchObject({ ...SECOND_RUN, countsVerified: true, problems: PROBLEMS });
    const dryAfter = summaryOf(await importLegacy('--dry-run', '--json'));
    expect(dryAfter).toMatchObject(SECOND_RUN);

    expect(snapshotTree(from)).toEqual(original);
    expect(query<{ n: number }>('SELECT count(*) AS n FROM legacy_imports')[0]?.n).toBe(6 + 5 + 5);
  });

  it('lands every proposal, answer and audit line where it belongs', async () => {
    expect((await importLegacy('--json')).code).toBe(1);
    const legacyA = uuidV5('acme/legacy-20260601-a', '7973474d-8865-466d-a397-782e4fad5dd6');
    const rows = query<{ id: string; slug: string; kind: string; origin: string; state: string; created_at: number; current_file_hash: string | null }>(
      'SELECT id, slug, kind, origin, state, created_at, current_file_hash FROM proposals ORDER BY id',
    );
    expect(rows.map((r) => [r.id, r.slug, r.kind, r.origin, r.state])).toEqual(
      [
        ['11111111-1111-4111-8111-111111111111', 'acme', 'egress-allow', 'agent', 'pending'],
        ['22222222-2222-4222-8222-222222222222', 'acme', 'egress-block', 'agent', 'answered'],
        ['33333333-3333-4333-8333-333333333333', 'acme', 'egress-allow', 'agent', 'archived'],
        ['44444444-4444-4444-8444-444444444444', 'acme', 'egress-allow', 'agent', 'archived'],
        ['55555555-5555-4555-8555-555555555555', 'zeta', 'gitleaks-allow', 'git-gate', 'archived'],
        [legacyA, 'acme', 'egress-allow', 'agent', 'answered'],
      ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)),
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get('11111111-1111-4111-8111-111111111111')).toMatchObject({ created_at: Date.parse('2026-06-01T10:00:00.123Z'), current_file_hash: '6c5b7d2b41d3a6a2b1e9a1e0c6e1d6f3b2a4c5d6e7f8091a2b3c4d5e6f708192' });
    expect(byId.get('22222222-2222-4222-8222-222222222222')?.created_at).toBe(Date.parse('2026-06-01T09:00:00Z'));
    expect(byId.get(legacyA)?.created_at).toBe(1_780_000_000_000);

    const responses = query<{ proposal_id: string; status: string; notes: string; responder: string; final_payload: string | null; created_at: number }>('SELECT * FROM responses');
    expect(responses.find((r) => r.proposal_id === legacyA)).toMatchObject({ status: 'rejected', notes: 'not now', responder: 'alice', created_at: 1_780_000_600_500 });
    expect(responses.find((r) => r.proposal_id === '33333333-3333-4333-8333-333333333333')).toMatchObject({ status: 'modified', final_payload: 'routes:\n  - host: example.com\n    path_allowlist: [/docs]\n' });
    const gitleaks = query<{ payload: string }>(`SELECT payload FROM proposals WHERE kind = 'gitleaks-allow'`)[0];
    expect(JSON.parse(gitleaks?.payload ?? '')).toMatchObject({ findings: [{ rule: 'generic-api-key' }] });

    const exported = await runCli(['--db', dbFile, 'audit', 'export'], { home });
    const audit = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { time: string; slug: string; component: string; action: string; kind: string | null; actor: string; notes: string });
    expect(audit.map((e) => [e.time, e.slug, e.component, e.action, e.kind, e.actor])).toEqual([
      ['2026-05-29T23:59:59.999Z', 'zeta', 'git-gate', 'operator-edit', null, 'alice'],
      ['2026-05-30T08:10:00.000Z', 'acme', 'egress', 'proposal-decision', 'egress-allow', 'legacy-import'],
      ['2026-05-31T12:30:00.000Z', 'acme', 'egress', 'proposal-decision', 'egress-block', 'legacy-import'],
      ['2026-06-01T09:05:00.000Z', 'acme', 'egress', 'proposal-decision', 'egress-block', 'bob'],
      ['2026-06-02T09:01:00.000Z', 'zeta', 'git-gate', 'proposal-decision', 'gitleaks-allow', 'legacy-import'],
    ]);
    expect(audit[1]?.notes).toBe('only the docs path\n[legacy] {"justification":"docs"}');
    expect((await runCli(['--db', dbFile, 'audit', 'verify'], { home })).code).toBe(0);
  });

  it('prints a readable summary and exits 0 when nothing is malformed', async () => {
    for (const bad of ['queue/_bad', 'queue/acme/broken.json', 'queue/acme/nokind.json', 'queue/acme/orphan.response.json', 'queue/zeta/wrongslug.json']) fs.rmSync(path.join(from, bad), { recursive: true });
    const lines = fs.readFileSync(path.join(from, 'audit', 'egress.jsonl'), 'utf8').split('\n');
    fs.writeFileSync(path.join(from, 'audit', 'egress.jsonl'), `${lines.slice(0, 5).join('\n')}\n`);
    const run = await importLegacy();
    expect(run.code, run.stdout).toBe(0);
    expect(run.stdout).toMatch(/^Imported from .*legacy \(the originals are left in place\)\.\n/);
    expect(run.stdout).toMatch(/proposals\s+7\s+6\s+1\s+0\n/);
    expect(run.stdout).toMatch(/Counts check out: for each kind, read = imported \+ already there \+ malformed, and the database recorded every import\./);
    expect(run.stdout).not.toMatch(/problem/);
  });
});

describe('import-legacy: bad input', () => {
  it('reports unreadable and non-object files with their paths while the rest imports', async () => {
    fs.symlinkSync(path.join(home, 'gone.json'), path.join(from, 'queue', 'acme', 'dangling.json'));
    fs.writeFileSync(path.join(from, 'queue', 'acme', 'list.json'), '[1, 2, 3]');
    fs.symlinkSync(path.join(home, 'gone.jsonl'), path.join(from, 'audit', 'lost.jsonl'));
    const summary = summaryOf(await importLegacy('--json'));
    expect(summary.problems).toEqual(
      expect.arrayContaining([
        { path: 'queue/acme/dangling.json', reason: 'cannot be read (it vanished, or is a link to nothing)' },
        { path: 'queue/acme/list.json', reason: 'not a JSON object' },
        { path: 'audit/lost.jsonl', reason: 'cannot be read (it vanished, or is a link to nothing)' },
      ]),
    );
    expect(summary.proposals).toEqual({ read: 13, imported: 6, alreadyPresent: 1, malformed: 6 });
    expect(summary.countsVerified).toBe(true);
  });

  it('refuses a missing or unrelated --from and a bad --batch-size, creating no database', async () => {
    const missing = await runCli(['--db', dbFile, 'import-legacy', '--from', path.join(home, 'nope')], { home });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/nope is not a directory\. Point --from at the old bot-bottle state directory/);
    const unrelated = await runCli(['--db', dbFile, 'import-legacy', '--from', REPO_ROOT], { home });
    expect(unrelated.code).toBe(3);
    expect(unrelated.stderr).toMatch(/holds neither queue\/ nor audit\/, so there is nothing to import from it/);
    const batch = await importLegacy('--batch-size', 'lots');
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/--batch-size must be a positive whole number/);
    expect(fs.existsSync(dbFile)).toBe(false);
    const defaultFrom = await runCli(['import-legacy'], { home });
    expect(defaultFrom.code).toBe(3);
    expect(defaultFrom.stderr).toMatch(/\.bot-bottle is not a directory/);
  });
});

describe('import-legacy: interrupted and run again', () => {
  it('killed between batches, a second run completes it to exactly what one run gives', async () => {
    from = path.join(home, 'generated');
    const written = writeLegacyTree(from, 1200);
    const child = spawnCli(['--db', dbFile, 'import-legacy', '--from', from, '--batch-size', '5'], { home }, ['ignore', 'ignore', 'ignore']);
    const exited = new Promise((resolve) => child.on('close', resolve));
    let seenBeforeKill = 0;
    for (;;) {
      if (fs.existsSync(dbFile)) {
        try {
          seenBeforeKill = query<{ n: number }>('SELECT count(*) AS n FROM legacy_imports')[0]?.n ?? 0;
        } catch {
          // Not migrated yet.
        }
      }
      if (seenBeforeKill >= 100 || child.exitCode !== null) break;
      await sleep(10);
    }
    child.kill('SIGKILL');
    await exited;
    expect(seenBeforeKill).toBeGreaterThanOrEqual(100);
    expect(seenBeforeKill).toBeLessThan(written.files + written.auditLines);

    const resumed = summaryOf(await importLegacy('--json'));
    expect(resumed.countsVerified).toBe(true);
    expect(resumed.problems).toEqual([]);
    expect(resumed.proposals.read).toBe(written.proposals);
    expect(resumed.proposals.imported + resumed.proposals.alreadyPresent).toBe(written.proposals);
    expect(resumed.responses.imported + resumed.responses.alreadyPresent).toBe(written.responses);
    expect(resumed.auditLines.imported + resumed.auditLines.alreadyPresent).toBe(written.auditLines);
    expect(resumed.proposals.alreadyPresent + resumed.responses.alreadyPresent + resumed.auditLines.alreadyPresent).toBeGreaterThanOrEqual(seenBeforeKill);

    const once = path.join(home, 'once.db');
    const single = summaryOf(await runCli(['--db', once, 'import-legacy', '--from', from, '--json'], { home }));
    expect(single.proposals.imported).toBe(written.proposals);
    const proposalsOf = (file: string): unknown[] => query('SELECT id, slug, kind, state, payload, created_at FROM proposals ORDER BY id', file);
    const responsesOf = (file: string): unknown[] => query('SELECT * FROM responses ORDER BY proposal_id', file);
    const auditOf = (file: string): unknown[] => query('SELECT ts, slug, component, action, proposal_id, status, notes, actor FROM audit_entries ORDER BY seq', file);
    expect(proposalsOf(dbFile)).toEqual(proposalsOf(once));
    expect(responsesOf(dbFile)).toEqual(responsesOf(once));
    expect(auditOf(dbFile)).toEqual(auditOf(once));
    expect((await runCli(['--db', dbFile, 'audit', 'verify'], { home })).code).toBe(0);
  });
});

describe('import-legacy --help', () => {
  it('documents the verb', async () => {
    const run = await runCli(['import-legacy', '--help'], { home });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/--dry-run\s+read and count everything, write nothing/);
  });
});
