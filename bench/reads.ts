/**
 * Issue 2: listPendingProposals with 1,000 pending among 1,000,000 archived proposals, and audit
 * reads by slug and time range over 1,000,000 entries: median per call and the query plans.
 */
import { randomUUID } from 'node:crypto';
import { canonicalAuditEntry, chainHash, GENESIS_HASH } from '../src/audit/audit-store.js';
import { checkpoint, openConnection, type Db } from '../src/storage/connection.js';
import { openHostDatabase } from '../src/database.js';
import { benchKeysDir } from './keys.js';
import { renderDiff } from '../src/kinds/diff.js';
import { sha256 } from '../src/core/hash.js';
import { runBench } from './lib/cli.js';
import { JUSTIFICATION, SLUG_COUNT, createDatabase, currentRoutesYaml, routesYaml, slugFor } from './lib/fixtures.js';
import { ms, rate, type Table } from './lib/format.js';
import type { TargetCheck } from './lib/results.js';
import { median } from './lib/stats.js';

const DAY_MS = 86_400_000;
const HISTORY_DAYS = 180;
const BATCH = 20_000;

interface ArchivedShape {
  kind: string;
  component: string;
  payload: string;
  currentFile: string | null;
  diff: string;
}

/** A mix like a real history: mostly routes files (with the file they replaced), some reports. */
function archivedShapes(): ArchivedShape[] {
  const current = currentRoutesYaml();
  const routes = Array.from({ length: 12 }, (_, v) => {
    const payload = routesYaml(v);
    return { kind: 'egress-allow', component: 'egress', payload, currentFile: current, diff: renderDiff(current, payload, 'egress-allow') };
  });
  const gitleaks = Array.from({ length: 5 }, (_, v) => ({
    kind: 'gitleaks-allow',
    component: 'git-gate',
    payload: JSON.stringify({
      ref: 'refs/heads/main',
      findings: [{ rule_id: 'generic-api-key', file: `config/settings-${v}.py`, line: 40 + v, commit: 'a'.repeat(40), line_text: 'API_KEY = "test-fixture-not-a-secret"  # gitleaks:allow' }],
    }),
    currentFile: null,
    diff: '',
  }));
  const tokens = Array.from({ length: 3 }, (_, v) => ({
    kind: 'egress-token-allow',
    component: 'egress',
    payload: JSON.stringify({ host: 'api.github.com', method: 'POST', path: `/repos/acme/app-${v}/issues`, detector: 'github-pat', snippet: 'Authorization: token ghp_****************************' }),
    currentFile: null,
    diff: '',
  }));
  return [...routes, ...routes, ...routes, ...gitleaks, ...gitleaks, ...tokens].map((s) => s);
}

/** Raw bulk load: archived proposals with their responses and a correctly chained audit entry each, then the pending ones. */
function bulkLoad(file: string, archived: number, pending: number, now: number): { loadS: number; from: number; to: number } {
  const started = performance.now();
  const db = openConnection(file, { fileMustExist: true });
  const shapes = archivedShapes();
  const insertProposal = db.prepare(
    `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, current_file, current_file_hash, idempotency_key, state, created_at, expires_at, updated_at)
     VALUES (?, ?, ?, ?, 'operator', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertResponse = db.prepare('INSERT INTO responses (proposal_id, status, notes, final_payload, responder, created_at) VALUES (?, ?, ?, NULL, ?, ?)');
  const insertAudit = db.prepare(
    `INSERT INTO audit_entries (seq, ts, slug, component, action, proposal_id, kind, status, notes, actor, diff, prev_hash, hash)
     VALUES (?, ?, ?, ?, 'proposal-decision', ?, ?, ?, ?, 'operator', ?, ?, ?)`,
  );
  const from = now - HISTORY_DAYS * DAY_MS;
  const step = (HISTORY_DAYS * DAY_MS - DAY_MS) / archived;
  let prevHash = GENESIS_HASH;
  const hashes = new Map(shapes.map((s) => [s, s.currentFile === null ? null : sha256(s.currentFile)]));
  const loadArchived = db.transaction((start: number, end: number) => {
    for (let i = start; i < end; i++) {
      const shape = shapes[i % shapes.length] as ArchivedShape;
      const id = randomUUID();
      const slug = slugFor(i);
      const created = Math.round(from + i * step);
      const answered = created + 120_000;
      const status = i % 7 === 0 ? 'rejected' : 'approved';
      const notes = status === 'rejected' ? 'not needed for this task; use the mirror that is already allowed' : '';
      const origin = shape.kind === 'gitleaks-allow' ? 'git-gate' : shape.kind === 'egress-token-allow' ? 'egress' : 'agent';
      insertProposal.run(id, slug, shape.kind, origin, shape.payload, JUSTIFICATION, shape.currentFile, hashes.get(shape), `key-${i}`, 'archived', created, created + DAY_MS, answered + 5);
      insertResponse.run(id, status, notes, 'operator', answered);
      const seq = i + 1;
      const hash = chainHash(
        prevHash,
        canonicalAuditEntry({ seq, ts: answered, slug, component: shape.component, action: 'proposal-decision', proposalId: id, kind: shape.kind, status, notes, actor: 'operator', diff: shape.diff, detail: null }),
      );
      insertAudit.run(seq, answered, slug, shape.component, id, shape.kind, status, notes, shape.diff, prevHash, hash);
      prevHash = hash;
    }
  });
  for (let start = 0; start < archived; start += BATCH) {
    loadArchived.immediate(start, Math.min(archived, start + BATCH));
    if ((start / BATCH) % 10 === 9) process.stdout.write(`  loaded ${rate(start + BATCH)} archived proposals + audit entries\n`);
  }
  const current = currentRoutesYaml();
  db.transaction(() => {
    for (let i = 0; i < pending; i++) {
      const created = now - DAY_MS + Math.round((i * DAY_MS) / (2 * pending));
      const payload = routesYaml(i);
      insertProposal.run(randomUUID(), slugFor(i), 'egress-allow', 'agent', payload, JUSTIFICATION, current, sha256(current), `pending-${i}`, 'pending', created, now + DAY_MS, created);
    }
  }).immediate();
  checkpoint(db);
  db.close();
  return { loadS: (performance.now() - started) / 1000, from, to: from + archived * step };
}

interface CapturedQuery {
  sql: string;
  args: unknown[];
}

/**
 * Records the queries the stores run (SQL and bound values), so the plans shown are those of the
 * real calls. Wraps this one connection's prepare() and the statements it returns; nothing else.
 */
function recordQueries(db: Db): { take(): CapturedQuery[] } {
  const seen: CapturedQuery[] = [];
  const prepare = db.prepare.bind(db);
  (db as { prepare: typeof db.prepare }).prepare = ((sql: string) => {
    const statement = prepare(sql) as unknown as Record<'all' | 'get' | 'iterate', (...args: unknown[]) => unknown>;
    for (const method of ['all', 'get', 'iterate'] as const) {
      const original = statement[method].bind(statement);
      statement[method] = (...args: unknown[]) => {
        seen.push({ sql, args });
        return original(...args);
      };
    }
    return statement;
  }) as unknown as typeof db.prepare;
  return { take: () => seen.splice(0) };
}

function queryPlan(db: Db, query: CapturedQuery): string[] {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.args) as Array<{ id: number; parent: number; detail: string }>;
  const depth = new Map<number, number>([[0, -1]]);
  return rows.map((row) => {
    const d = (depth.get(row.parent) ?? -1) + 1;
    depth.set(row.id, d);
    return `${'  '.repeat(d)}${row.detail}`;
  });
}

interface Case {
  name: string;
  call: () => number;
}

await runBench('reads', async ({ quick, dir }) => {
  const archived = quick ? 100_000 : 1_000_000;
  const pending = 1000;
  const calls = quick ? 15 : 51;
  const file = await createDatabase(dir, 'reads.db');
  const now = Date.now();
  console.log(`  bulk-loading ${rate(archived)} archived proposals (+ responses and chained audit entries) and ${pending} pending…`);
  const load = bulkLoad(file, archived, pending, now);
  console.log(`  loaded in ${load.loadS.toFixed(1)} s`);

  const database = await openHostDatabase({ path: file, watch: false, keysDir: benchKeysDir(file) });
  const recorder = recordQueries(database.db);
  const { queue, audit } = database;
  const middle = Math.round((load.from + load.to) / 2);
  const cases: Case[] = [
    { name: 'listPendingProposals() — all 1,000 pending, every bottle', call: () => queue.listPendingProposals().length },
    { name: 'listPendingProposals({limit: 50})', call: () => queue.listPendingProposals({ limit: 50 }).length },
    { name: `listPendingProposals({slug}) — one of ${SLUG_COUNT} bottles`, call: () => queue.forSlug(slugFor(7)).listPendingProposals().length },
    { name: 'readAuditEntries({slug, order: desc, limit: 100})', call: () => audit.readAuditEntries({ slug: slugFor(7), order: 'desc', limit: 100 }).length },
    { name: 'readAuditEntries({since, until}) — one hour', call: () => audit.readAuditEntries({ since: middle, until: middle + 3_600_000 }).length },
    { name: 'readAuditEntries({slug, since, until}) — one day', call: () => audit.readAuditEntries({ slug: slugFor(7), since: middle, until: middle + DAY_MS }).length },
    {
      name: 'iterateAuditEntries({slug}) — a bottle’s whole history',
      call: () => {
        let n = 0;
        for (const _entry of audit.iterateAuditEntries({ slug: slugFor(7) })) n++;
        return n;
      },
    },
  ];
  const rows: Table['rows'] = [];
  const plans: Record<string, string[]> = {};
  const targets: TargetCheck[] = [];
  const perCase: Record<string, number[]> = {};
  for (const c of cases) {
    recorder.take();
    let count = 0;
    const firstStarted = performance.now();
    count = c.call();
    const first = performance.now() - firstStarted;
    const queries = recorder.take().filter((q) => /^\s*SELECT/i.test(q.sql) && !/PRAGMA/i.test(q.sql));
    const times: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      c.call();
      times.push(performance.now() - t);
    }
    perCase[c.name] = times;
    const plan = queries.flatMap((q) => queryPlan(database.db, q));
    plans[c.name] = [...queries.map((q) => `SQL: ${q.sql.replace(/\s+/g, ' ').trim()}`), ...plan];
    const usesIndex = plan.some((line) => /USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/.test(line)) && !plan.some((line) => /^\s*SCAN (proposals|audit_entries)\s*$/.test(line));
    const sorts = plan.some((line) => /TEMP B-TREE/.test(line));
    rows.push([c.name, count, ms(first), ms(median(times)), usesIndex ? (sorts ? 'index + sort' : 'index') : 'FULL SCAN']);
    targets.push({ name: `${c.name}: index used, no full scan`, target: 'index', actual: plan.join(' / '), met: usesIndex });
    console.log(`  ${c.name}: ${count} rows, median ${ms(median(times))} ms`);
  }
  const verifyStarted = performance.now();
  const verification = audit.verify();
  const verifyS = (performance.now() - verifyStarted) / 1000;
  await database.close();
  const planTables: Table[] = Object.entries(plans).map(([name, lines]) => ({ title: `EXPLAIN QUERY PLAN — ${name}`, columns: ['plan'], rows: lines.map((l) => [l]) }));
  return {
    params: { archived, pending, auditEntries: archived, slugs: SLUG_COUNT, historyDays: HISTORY_DAYS, callsPerCase: calls },
    tables: [
      {
        title: `Reads over ${rate(archived)} archived proposals / ${rate(archived)} audit entries (${pending} pending; ms per call)`,
        columns: ['call', 'rows', 'first call', 'median', 'plan'],
        rows,
      },
      {
        title: 'Audit chain over the bulk-loaded log',
        columns: ['check', 'value'],
        rows: [
          ['bulk load (s)', load.loadS.toFixed(1)],
          ['audit.verify() (s)', verifyS.toFixed(2)],
          ['verify result', verification.ok ? `ok, head ${verification.head.count} entries` : `bad at ${verification.firstBad.seq}: ${verification.firstBad.reason}`],
        ],
      },
      ...planTables,
    ],
    targets,
    notes: [
      'Loaded with raw SQL in 20,000-row BEGIN IMMEDIATE transactions through openConnection; every archived proposal has its response and one proposal-decision audit entry whose hash chain is computed correctly (audit.verify() runs over it above).',
      `Rows: 60% egress-allow routes files (~960 B) with the replaced file, 40% gitleaks/token reports; ${SLUG_COUNT} bottles; ${HISTORY_DAYS} days of history. No ANALYZE is run: the planner sees what a real database sees.`,
      'The SQL shown is captured (with its bound values) from the stores’ own statements during the first call, then explained with EXPLAIN QUERY PLAN.',
    ],
    data: { perCaseMs: perCase, plans, loadS: load.loadS, verifyS },
  };
});
