/**
 * Issue 2: enqueue rate, QueueStore.writeProposal vs raw single-row insert transactions, 1 and 8 processes.
 * Issue 10: the same side by side with two peer SQLite queues, plainjob and liteque (dev
 * dependencies), each at synchronous=FULL in WAL mode, enqueueing a job with the same routes payload.
 *
 * BENCH_ENQUEUE_PROCS=8 and BENCH_ENQUEUE_MODES=plainjob,store run a subset (the targets then
 * compare only what ran).
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { buildDBClient } from 'liteque';
import { better, defineQueue } from 'plainjob';
import { Worker, stopAll } from './lib/children.js';
import { runBench } from './lib/cli.js';
import { createDatabase, createRawProposalsTable, proposalsDdl } from './lib/fixtures.js';
import { ms, rate, ratio, type Table } from './lib/format.js';
import { median, percentile } from './lib/stats.js';
import { openConnection } from '../src/storage/connection.js';
import type { TargetCheck } from './lib/results.js';

const MODES = ['raw', 'plainjob', 'liteque', 'store-unvalidated', 'store'] as const;
type Mode = (typeof MODES)[number];

const LABELS: Record<Mode, string> = {
  raw: 'raw INSERT transaction',
  plainjob: 'plainjob add (FULL)',
  liteque: 'liteque enqueue (FULL)',
  'store-unvalidated': 'writeProposal, unparsed kind',
  store: 'writeProposal, egress-allow',
};

interface RunResult {
  mode: Mode;
  processes: number;
  round: number;
  ops: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
}

interface WorkerResult {
  type: 'result';
  start: number;
  end: number;
  count: number;
  latencies: number[];
}

async function databaseFor(dir: string, mode: Mode, name: string, ddl: readonly string[]): Promise<string> {
  const file = path.join(dir, name);
  if (mode === 'plainjob') {
    // The peer's own schema, made once here so the workers do not race to create it.
    const db = new Database(file);
    defineQueue({ connection: better(db), maintenanceInterval: 3_600_000 }).close();
    db.close();
    return file;
  }
  if (mode === 'liteque') {
    buildDBClient(file, { runMigrations: true });
    return file;
  }
  if (mode !== 'raw') return createDatabase(dir, name);
  const db = openConnection(file);
  createRawProposalsTable(db, ddl);
  db.close();
  return file;
}

async function measure(dir: string, mode: Mode, processes: number, perProcess: number, round: number, ddl: readonly string[]): Promise<RunResult> {
  const file = await databaseFor(dir, mode, `enqueue-${mode}-${processes}p-r${round}.db`, ddl);
  const workers = Array.from({ length: processes }, (_, i) => new Worker('enqueue', [mode, file, String(perProcess), String(i)]));
  try {
    await Promise.all(workers.map((w) => w.next('ready')));
    for (const w of workers) w.send({ type: 'go' });
    const results = await Promise.all(workers.map((w) => w.next<WorkerResult>('result')));
    const start = Math.min(...results.map((r) => r.start));
    const end = Math.max(...results.map((r) => r.end));
    const ops = results.reduce((sum, r) => sum + r.count, 0);
    const latencies = results.flatMap((r) => r.latencies);
    return { mode, processes, round, ops, seconds: (end - start) / 1000, rate: ops / ((end - start) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await stopAll(workers);
  }
}

await runBench('enqueue', async ({ quick, dir }) => {
  const rounds = quick ? 1 : 3;
  const single = quick ? 500 : 5000;
  const perProcess = quick ? 200 : 1500;
  const ddl = proposalsDdl(await createDatabase(dir, 'ddl-source.db'));
  const runs: RunResult[] = [];
  // Interleaved rounds so drift in machine load hits both sides alike.
  for (let round = 1; round <= rounds; round++) {
    for (const processes of (process.env.BENCH_ENQUEUE_PROCS ?? '1,8').split(',').map(Number)) {
      for (const mode of MODES.filter((m) => (process.env.BENCH_ENQUEUE_MODES ?? MODES.join(',')).split(',').includes(m))) {
        const result = await measure(dir, mode, processes, processes === 1 ? single : perProcess, round, ddl);
        console.log(`  round ${round}: ${mode.padEnd(17)} ${processes}p  ${rate(result.rate)}/s  p50 ${ms(result.p50)} ms  p99 ${ms(result.p99)} ms`);
        runs.push(result);
      }
    }
  }
  const rows: Table['rows'] = [];
  const targets: TargetCheck[] = [];
  for (const [processes, goal] of [[1, 0.9], [8, 0.8]] as const) {
    const of = (mode: Mode): RunResult[] => runs.filter((r) => r.mode === mode && r.processes === processes);
    const rateOf = (mode: Mode): number => median(of(mode).map((r) => r.rate));
    const rawRate = rateOf('raw');
    const plainjobRate = rateOf('plainjob');
    for (const mode of MODES) {
      const list = of(mode);
      rows.push([
        LABELS[mode],
        processes,
        list[0]?.ops ?? 0,
        rate(rateOf(mode)),
        `${rate(Math.min(...list.map((r) => r.rate)))}–${rate(Math.max(...list.map((r) => r.rate)))}`,
        ms(median(list.map((r) => r.p50))),
        ms(median(list.map((r) => r.p99))),
        ratio(rateOf(mode) / rawRate),
        ratio(rateOf(mode) / plainjobRate),
      ]);
    }
    const plural = processes > 1 ? 'es' : '';
    for (const mode of ['store', 'store-unvalidated'] as const) {
      const r = rateOf(mode) / rawRate;
      targets.push({ name: `enqueue rate, ${processes} process${plural}, ${LABELS[mode]} / raw`, target: `≥ ${goal}×`, actual: ratio(r), met: r >= goal });
    }
    // Issue 10: at the peer's speed, same durability.
    const vsPlainjob = rateOf('store') / plainjobRate;
    targets.push({ name: `enqueue rate, ${processes} process${plural}, ${LABELS.store} / plainjob (both synchronous=FULL) (issue 10)`, target: '≥ 0.8×', actual: ratio(vsPlainjob), met: vsPlainjob >= 0.8 });
    if (processes > 1) {
      const p99 = median(of('store').map((r) => r.p99));
      targets.push({ name: `enqueue op p99, ${processes} processes, ${LABELS.store} (issue 10)`, target: '≤ 10 ms', actual: `${ms(p99)} ms (plainjob ${ms(median(of('plainjob').map((r) => r.p99)))} ms)`, met: p99 <= 10 });
    }
  }
  return {
    params: { rounds, singleProcessOps: single, perProcessOps: perProcess, warmupPerProcess: 50 },
    tables: [
      {
        title: `Enqueue rate (median of ${rounds} interleaved round${rounds > 1 ? 's' : ''}; per-op latency in ms)`,
        columns: ['variant', 'procs', 'ops/round', 'ops/s (median)', 'ops/s (range)', 'op p50', 'op p99', 'vs raw', 'vs plainjob'],
        rows,
      },
    ],
    targets,
    notes: [
      'raw = one INSERT of the same row shape into a table created from the proposals DDL (same indexes), BEGIN IMMEDIATE, openConnection pragmas (WAL, synchronous=FULL), busy_timeout 5 s so SQLite itself waits out contention.',
      'writeProposal, egress-allow = the sidecar view (forSlug) enqueueing a routes file (~960 B) with currentFile and an idempotency key: input checks, routes YAML parse + schema validation, expiry sweep, idempotency lookup, insert, event row, read-back.',
      'writeProposal, unparsed kind = the same call for a kind registered with a validator that accepts anything: the storage path alone, without the YAML parse.',
      'plainjob add / liteque enqueue = the peer queues (dev dependencies) adding one job whose JSON carries the same fields (slug, kind, routes payload, justification, current file, idempotency key), each on its own better-sqlite3 connection, WAL, synchronous switched from their default NORMAL to FULL, busy_timeout 5 s; no validation, no signature, no event row. plainjob: one autocommit INSERT with one index; liteque: a drizzle INSERT … ON CONFLICT DO NOTHING RETURNING into a table with nine indexes.',
    ],
    data: { runs },
  };
});
