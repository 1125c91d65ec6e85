/**
 * Issue 13: the host broker against the directory mount, in one run on one database. Round trip
 * and wake latency (answer committed → the waiting sidecar store resolved) through each, enqueue
 * throughput through each, and the broker's CPU while 64 idle broker-mode sidecars stay connected.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openHostDatabase } from '../src/database.js';
import { Worker, stopAll } from './lib/children.js';
import { runBench } from './lib/cli.js';
import { createDatabase } from './lib/fixtures.js';
import { ms, rate, ratio, type Table } from './lib/format.js';
import type { TargetCheck } from './lib/results.js';
import { distribution, sharedClockMs } from './lib/stats.js';
import { benchBottleKeysDir, benchKeysDir } from './keys.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'bin', 'bot-bottle.js');
const CLOCK_TICKS_PER_S = 100;

/** utime + stime of a process, in ms, from /proc (the broker is not ours to ask over IPC). */
function cpuMsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

async function startBroker(file: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm run bench does).`);
  const child = spawn(process.execPath, [CLI, '--db', file, 'broker', '--port', '0', '--keys-dir', benchKeysDir(file), '--max-pending', '10000', '--proposals-per-minute', '10000'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /^ready (\S+)$/m.exec(stdout);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`broker exited (${code}) before it was ready`)));
  });
  return {
    url,
    pid: child.pid as number,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

await runBench('broker', async ({ quick, dir }) => {
  const rounds = quick ? 60 : 400;
  const enqueues = quick ? 100 : 500;
  const idleCount = 64;
  const idleSeconds = quick ? 15 : 60;
  const file = await createDatabase(dir, 'broker.db');
  const keysDir = benchKeysDir(file);
  for (const slug of ['rt-mount', 'rt-broker', 'tp-mount', 'tp-broker', ...Array.from({ length: idleCount }, (_, i) => `idle-${i}`)]) benchBottleKeysDir(file, slug);
  const host = await openHostDatabase({ path: file, keysDir });
  const broker = await startBroker(file);
  const sides = ['mount', 'broker'] as const;
  const waiters = new Map(sides.map((side) => [side, new Worker('broker-client', [file, side, `rt-${side}`, broker.url])]));
  const samples = new Map<string, Array<{ commitStart: number; committed: number; started: number; woke: number; archived: number }>>(sides.map((s) => [s, []]));
  const throughput = new Map<string, number>();
  let idleCpuMs = Number.NaN;
  let baselineCpuMs = Number.NaN;
  try {
    await Promise.all([...waiters.values()].map((w) => w.next('ready')));
    for (let round = 0; round < rounds; round++) {
      for (const side of sides) {
        const waiter = waiters.get(side) as Worker;
        waiter.send({ type: 'round', round });
        const { id } = await waiter.next<{ type: 'waiting'; id: string }>('waiting');
        // Let the wait reach its notifier (mount) or the broker's long poll before answering.
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
        const commitStart = sharedClockMs();
        await host.queue.writeResponse(`rt-${side}`, id, { status: 'approved', notes: 'ok', responder: 'operator' });
        const committed = sharedClockMs();
        const woke = await waiter.next<{ type: 'woke'; started: number; woke: number; archived: number }>('woke');
        samples.get(side)?.push({ commitStart, committed, started: woke.started, woke: woke.woke, archived: woke.archived });
      }
      if (round % 100 === 99) console.log(`  ${round + 1}/${rounds} rounds`);
    }
    await stopAll([...waiters.values()]);
    for (const side of sides) {
      const worker = new Worker('broker-client', [file, side, `tp-${side}`, broker.url]);
      await worker.next('ready');
      worker.send({ type: 'enqueue', count: enqueues });
      throughput.set(side, enqueues / ((await worker.next<{ type: 'enqueued'; ms: number }>('enqueued')).ms / 1000));
      await worker.stop();
    }
    const quiet = cpuMsOf(broker.pid);
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    baselineCpuMs = cpuMsOf(broker.pid) - quiet;
    const idle = new Worker('broker-idle', [file, broker.url, String(idleCount)]);
    await idle.next('ready');
    const before = cpuMsOf(broker.pid);
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    idleCpuMs = cpuMsOf(broker.pid) - before;
    await idle.stop();
  } finally {
    await stopAll([...waiters.values()]);
    await broker.stop();
    await host.close();
  }

  const stats = new Map(
    sides.map((side) => {
      const list = samples.get(side) ?? [];
      return [side, { wake: distribution(list.map((s) => s.woke - s.committed)), trip: distribution(list.map((s) => s.archived - s.started - (s.committed - s.commitStart))) }];
    }),
  );
  const mount = stats.get('mount');
  const viaBroker = stats.get('broker');
  const targets: TargetCheck[] = [];
  if (mount && viaBroker) {
    const gap = viaBroker.wake.p50 - mount.wake.p50;
    targets.push({ name: 'p50 wake through the broker minus p50 wake through the mount', target: '≤ 2 ms', actual: `${ms(gap)} ms (${ms(viaBroker.wake.p50)} − ${ms(mount.wake.p50)})`, met: gap <= 2 });
  }
  const rows: Table['rows'] = sides.map((side) => {
    const s = stats.get(side);
    return [side, s?.wake.n ?? 0, ms(s?.wake.p50 ?? Number.NaN), ms(s?.wake.p90 ?? Number.NaN), ms(s?.wake.p99 ?? Number.NaN), ms(s?.trip.p50 ?? Number.NaN), ms(s?.trip.p99 ?? Number.NaN), rate(throughput.get(side) ?? Number.NaN)];
  });
  rows.push([
    'broker ÷ mount',
    '',
    ratio((viaBroker?.wake.p50 ?? Number.NaN) / (mount?.wake.p50 ?? Number.NaN)),
    '',
    '',
    ratio((viaBroker?.trip.p50 ?? Number.NaN) / (mount?.trip.p50 ?? Number.NaN)),
    '',
    ratio((throughput.get('broker') ?? Number.NaN) / (throughput.get('mount') ?? Number.NaN)),
  ]);
  return {
    params: { rounds, enqueues, idleCount, idleSeconds },
    tables: [
      {
        title: 'Through the broker vs the directory mount (same run, same database, interleaved), ms',
        columns: ['sidecar store', 'round trips', 'wake p50', 'wake p90', 'wake p99', 'round trip p50', 'round trip p99', 'enqueue /s (one client, sequential)'],
        rows,
      },
      {
        title: `The broker's CPU (utime + stime from /proc) over ${idleSeconds} s`,
        columns: ['broker state', 'CPU ms', 'CPU %'],
        rows: [
          ['no sidecars connected', ms(baselineCpuMs, 0), `${((baselineCpuMs / (idleSeconds * 1000)) * 100).toFixed(2)} %`],
          [`${idleCount} idle sidecars connected (change long poll each, heartbeat every 30 s)`, ms(idleCpuMs, 0), `${((idleCpuMs / (idleSeconds * 1000)) * 100).toFixed(2)} %`],
        ],
      },
    ],
    targets,
    notes: [
      'wake = answer committed (the host’s writeResponse returned, in this process) → the sidecar store’s waitForResponse resolved in the worker process, on the shared clock.',
      'round trip = the worker’s enqueue → wait → archive, minus the host’s own commit time; the host answers 5–15 ms after the wait started.',
      'The broker is `bot-bottle broker` from dist/ as a child process on loopback; the mount side opens the same database file directly. Both stores are opened with openSidecarStore, as the sidecar opens them.',
      `The 64 idle sidecars are ${idleCount} broker clients in one process (each its own bottle, key, change long poll and heartbeat), so the machine is not loaded with 64 Node processes; the broker sees 64 bottles’ connections either way. CPU resolution is one clock tick (10 ms).`,
      'The machine is shared with other engineers’ builds and tests (2 cores): absolute numbers move with their load; the ratios come from one interleaved run.',
    ],
    data: Object.fromEntries([...samples].map(([side, list]) => [side, list.map((s) => ({ wakeMs: s.woke - s.committed, tripMs: s.archived - s.started }))])),
  };
});
