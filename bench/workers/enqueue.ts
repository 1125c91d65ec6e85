/**
 * One enqueueing process. `store`: QueueStore.writeProposal of an egress-allow routes file through
 * a sidecar's view of the DB. `store-unvalidated`: the same through a registered kind whose
 * validator accepts anything, which isolates the storage path from the YAML validation.
 * `raw`: better-sqlite3 single-row INSERT in its own BEGIN IMMEDIATE transaction into a table
 * with the proposals table's own DDL, same pragmas (openConnection), SQLite's busy handler doing
 * any waiting (busy_timeout 5 s), no retry code of ours.
 * `plainjob` / `liteque`: the peer queues (dev dependencies) enqueueing a job that carries the same
 * fields (slug, kind, the routes payload, justification, current file, idempotency key), each on its
 * own better-sqlite3 connection, WAL, synchronous switched to FULL after the queue is set up (both
 * default to NORMAL), busy_timeout 5 s (plainjob sets it; better-sqlite3's default for liteque).
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { SqliteQueue, buildDBClient } from 'liteque';
import { better, defineQueue } from 'plainjob';
import { openConnection } from '../../src/storage/connection.js';
import { openSidecarDatabase } from '../../src/database.js';
import { benchBottleKeysDir } from '../keys.js';
import { KindRegistry } from '../../src/kinds/registry.js';
import { sha256 } from '../../src/core/hash.js';
import { JUSTIFICATION, currentRoutesYaml, routesYaml } from '../lib/fixtures.js';
import { sharedClockMs } from '../lib/stats.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [mode, file, countText, workerId] = process.argv.slice(2) as [string, string, string, string];
const count = Number(countText);
const WARMUP = 50;
const UNVALIDATED_KIND = 'bench-unvalidated';
const slug = `bottle-${workerId.padStart(2, '0')}`;
const currentFile = currentRoutesYaml();
const payloads = Array.from({ length: 16 }, (_, i) => routesYaml(i));

type Op = (i: number) => Promise<unknown> | unknown;
let op: Op;
let close: () => Promise<void> | void;

if (mode === 'store' || mode === 'store-unvalidated') {
  const kinds = KindRegistry.withBuiltins().register({
    name: UNVALIDATED_KIND,
    component: 'bench',
    target: 'operator',
    modifiable: true,
    reasonRequiredToApprove: false,
    format: 'text',
    schema: true,
    description: 'a kind whose payload is not parsed, to separate storage cost from YAML validation',
  });
  const database = openSidecarDatabase(slug, { path: file, kinds, keysDir: benchBottleKeysDir(file, slug) });
  const { queue } = database;
  const kind = mode === 'store' ? 'egress-allow' : UNVALIDATED_KIND;
  op = (i) =>
    queue.writeProposal({
      kind,
      origin: 'agent',
      payload: payloads[i % payloads.length] as string,
      justification: JUSTIFICATION,
      currentFile,
      idempotencyKey: `w${workerId}-${i}-${randomUUID()}`,
    });
  close = () => database.close();
} else if (mode === 'raw') {
  const db = openConnection(file, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const currentFileHash = sha256(currentFile);
  const insert = db.prepare(
    `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, current_file, current_file_hash, idempotency_key, state, created_at, expires_at, updated_at)
     VALUES (?, ?, 'egress-allow', 'agent', 'operator', ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
  );
  const transaction = db.transaction((i: number) => {
    const now = Date.now();
    insert.run(randomUUID(), slug, payloads[i % payloads.length], JUSTIFICATION, currentFile, currentFileHash, `w${workerId}-${i}-${randomUUID()}`, now, now + 86_400_000, now);
  });
  op = (i) => transaction.immediate(i);
  close = () => {
    db.close();
  };
} else if (mode === 'plainjob') {
  const db = new Database(file, { fileMustExist: true });
  // defineQueue sets WAL, synchronous=NORMAL and busy_timeout 5000; the comparison is at FULL.
  const jobs = defineQueue({ connection: better(db), maintenanceInterval: 3_600_000, logger: { error: console.error, warn: console.warn, info: () => {}, debug: () => {} } });
  db.pragma('synchronous = FULL');
  if (db.pragma('synchronous', { simple: true }) !== 2) throw new Error('plainjob: synchronous is not FULL');
  op = (i) => jobs.add('egress-allow', jobData(i));
  close = () => {
    jobs.close();
    db.close();
  };
} else if (mode === 'liteque') {
  const db = buildDBClient(file, { runMigrations: false });
  db.run(sql`PRAGMA synchronous = FULL`);
  if ((db.get(sql`PRAGMA synchronous`) as { synchronous: number }).synchronous !== 2) throw new Error('liteque: synchronous is not FULL');
  const jobs = new SqliteQueue<ReturnType<typeof jobData>>('egress-allow', db, { defaultJobArgs: { numRetries: 0 }, keepFailedJobs: false });
  op = (i) => {
    const data = jobData(i);
    return jobs.enqueue(data, { idempotencyKey: data.idempotencyKey });
  };
  close = () => {};
} else {
  throw new Error(`unknown mode ${mode}: use store, store-unvalidated, raw, plainjob or liteque`);
}

/** The job a peer queue carries: the fields of an egress-allow proposal, as a JSON object. */
function jobData(i: number): { slug: string; kind: string; payload: string; justification: string; currentFile: string; idempotencyKey: string } {
  return { slug, kind: 'egress-allow', payload: payloads[i % payloads.length] as string, justification: JUSTIFICATION, currentFile, idempotencyKey: `w${workerId}-${i}-${randomUUID()}` };
}

for (let i = 0; i < WARMUP; i++) await op(count + i);
send({ type: 'ready' });
await next('go');
const latencies = new Float64Array(count);
const start = sharedClockMs();
for (let i = 0; i < count; i++) {
  const t = performance.now();
  await op(i);
  latencies[i] = performance.now() - t;
}
const end = sharedClockMs();
send({ type: 'result', start, end, count, latencies: [...latencies] });
await next('stop');
await close();
process.exit(0);
