/**
 * Issue 12: `bot-bottle db prune` of 1,000,000 archived proposals (with their answers and audit
 * entries, among 1,000 pending and 1,000 recent archived ones): time and the CLI's peak memory,
 * then `db vacuum`, and `audit verify` after both. `--quick`: 50,000.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { canonicalAuditEntry, chainHash, GENESIS_HASH } from '../src/audit/audit-store.js';
import { checkpoint, openConnection } from '../src/storage/connection.js';
import { runBench } from './lib/cli.js';
import { JUSTIFICATION, createDatabase, routesYaml, slugFor } from './lib/fixtures.js';
import { rate, type Table } from './lib/format.js';
import { runMeasuredCli } from './lib/measured-cli.js';
import type { TargetCheck } from './lib/results.js';

const DAY_MS = 86_400_000;
const BATCH = 20_000;
const PENDING = 1_000;
const RECENT = 1_000;

/** Raw bulk load: `old` archived proposals 200–100 days old with a response and a chained decision entry each, then recent archived and pending ones. */
function bulkLoad(file: string, old: number, now: number): number {
  const started = performance.now();
  const db = openConnection(file, { fileMustExist: true });
  const insertProposal = db.prepare(
    `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, state, created_at, expires_at, updated_at)
     VALUES (?, ?, 'egress-allow', 'agent', 'operator', ?, ?, ?, ?, ?, ?)`,
  );
  const insertResponse = db.prepare(`INSERT INTO responses (proposal_id, status, notes, final_payload, responder, created_at) VALUES (?, 'approved', '', NULL, 'operator', ?)`);
  const insertAudit = db.prepare(
    `INSERT INTO audit_entries (seq, ts, slug, component, action, proposal_id, kind, status, notes, actor, diff, prev_hash, hash)
     VALUES (?, ?, ?, 'egress', 'proposal-decision', ?, 'egress-allow', 'approved', '', 'operator', '', ?, ?)`,
  );
  const payloads = Array.from({ length: 16 }, (_, v) => routesYaml(v));
  let prevHash = GENESIS_HASH;
  let seq = 0;
  const load = db.transaction((start: number, end: number, from: number, step: number, state: string) => {
    for (let i = start; i < end; i++) {
      const id = randomUUID();
      const slug = slugFor(i);
      const created = Math.round(from + (i - start) * step);
      insertProposal.run(id, slug, payloads[i % payloads.length], JUSTIFICATION, state, created, created + DAY_MS, state === 'pending' ? created : created + 60_000);
      if (state === 'pending') continue;
      insertResponse.run(id, created + 30_000);
      seq += 1;
      const hash = chainHash(
        prevHash,
        canonicalAuditEntry({ seq, ts: created + 30_000, slug, component: 'egress', action: 'proposal-decision', proposalId: id, kind: 'egress-allow', status: 'approved', notes: '', actor: 'operator', diff: '', detail: null }),
      );
      insertAudit.run(seq, created + 30_000, slug, id, prevHash, hash);
      prevHash = hash;
    }
  });
  const from = now - 200 * DAY_MS;
  for (let start = 0; start < old; start += BATCH) {
    load.immediate(start, Math.min(old, start + BATCH), from + start * ((100 * DAY_MS) / old), (100 * DAY_MS) / old, 'archived');
    if ((start / BATCH) % 10 === 9) process.stdout.write(`  loaded ${rate(start + BATCH)} archived proposals\n`);
  }
  load.immediate(old, old + RECENT, now - 10 * DAY_MS, DAY_MS / RECENT, 'archived');
  load.immediate(old + RECENT, old + RECENT + PENDING, now - DAY_MS / 2, 1_000, 'pending');
  checkpoint(db);
  db.close();
  return (performance.now() - started) / 1000;
}

await runBench('prune', async ({ quick, dir }) => {
  const old = quick ? 50_000 : 1_000_000;
  const file = await createDatabase(dir, 'bot-bottle.db');
  const loadS = bulkLoad(file, old, Date.now());
  const sizeBefore = fs.statSync(file).size;
  // Keys beside the database: `audit verify` checks answers against the host key it would make.
  const env = ['--db', file];
  process.env.HOME = dir;

  const dry = await runMeasuredCli('prune --dry-run', [...env, 'db', 'prune', '--archived-older-than', '90d', '--dry-run', '--json']);
  const prune = await runMeasuredCli('prune', [...env, 'db', 'prune', '--archived-older-than', '90d', '--json']);
  const pruned = JSON.parse(prune.stdout) as { pruned: number; freeBytes: number };
  if (pruned.pruned !== old) throw new Error(`pruned ${pruned.pruned}, expected ${old}`);
  const vacuum = await runMeasuredCli('vacuum', [...env, 'db', 'vacuum', '--json']);
  const vacuumed = JSON.parse(vacuum.stdout) as { after: { db: number } };
  const verify = await runMeasuredCli('audit verify', [...env, 'audit', 'verify']);
  const db = openConnection(file, { fileMustExist: true });
  const left = db.prepare('SELECT state, count(*) AS n FROM proposals GROUP BY state ORDER BY state').all() as Array<{ state: string; n: number }>;
  const auditEntries = db.prepare('SELECT count(*) FROM audit_entries').pluck().get() as number;
  db.close();

  const mib = (bytes: number): string => `${(bytes / 1_048_576).toFixed(0)} MiB`;
  const table: Table = {
    title: `db prune of ${rate(old)} archived proposals among ${rate(RECENT)} recent archived and ${rate(PENDING)} pending (bulk load ${loadS.toFixed(0)} s)`,
    columns: ['step', 'time', 'peak RSS (CLI)', 'result'],
    rows: [
      ['prune --dry-run', `${dry.seconds.toFixed(1)} s`, `${dry.maxRssMiB.toFixed(0)} MiB`, 'counts only'],
      ['prune', `${prune.seconds.toFixed(1)} s`, `${prune.maxRssMiB.toFixed(0)} MiB`, `${rate(pruned.pruned)} deleted with their answers; ${mib(pruned.freeBytes)} free in the file`],
      ['vacuum', `${vacuum.seconds.toFixed(1)} s`, `${vacuum.maxRssMiB.toFixed(0)} MiB`, `${mib(sizeBefore)} → ${mib(vacuumed.after.db)}`],
      ['audit verify', `${verify.seconds.toFixed(1)} s`, `${verify.maxRssMiB.toFixed(0)} MiB`, `ok: ${rate(auditEntries)} entries kept; left ${left.map((r) => `${r.n} ${r.state}`).join(', ')}`],
    ],
  };
  const targets: TargetCheck[] = [
    { name: 'audit verify after prune and vacuum', target: 'exit 0', actual: 'exit 0', met: true },
    { name: 'prune peak memory independent of size', target: '≤ 200 MiB', actual: `${prune.maxRssMiB.toFixed(0)} MiB`, met: prune.maxRssMiB <= 200 },
  ];
  return {
    params: { old, recent: RECENT, pending: PENDING },
    tables: [table],
    targets,
    notes: ['Prune deletes in batches of 2,000 rows per write transaction; memory stays flat because no batch is held after it commits.'],
    data: { loadS, dry, prune, vacuum, verify, sizeBefore, sizeAfter: vacuumed.after.db, left, auditEntries },
  };
});
