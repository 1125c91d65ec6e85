/**
 * Issue 12: the heartbeat cost of 64 sidecars on the host, as CPU per minute. Each sidecar beats
 * every 30 s (HEARTBEAT_INTERVAL_MS): it reads its live routes file, hashes it, MACs the beat and
 * upserts its row. Measured twice: the beats themselves (64 real SidecarHeartbeats on real
 * connections, back to back, CPU per beat × 128 beats a minute), and what they cost an operator's
 * process that stays open (the TUI, `notify watch`): its CPU with the beats at their real rate
 * against the same window without any. `--quick`: 8 s windows instead of 30 s.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEARTBEAT_INTERVAL_MS } from '../src/bottles/bottle-overview.js';
import { openSidecarDatabase, type BottleDatabase } from '../src/database.js';
import { SidecarHeartbeat } from '../sidecar/heartbeat.js';
import { benchBottleKeysDir } from './keys.js';
import { Worker } from './lib/children.js';
import { runBench } from './lib/cli.js';
import { createDatabase, routesYaml } from './lib/fixtures.js';
import { ms, type Table } from './lib/format.js';
import type { TargetCheck } from './lib/results.js';
import { distribution } from './lib/stats.js';

const SIDECARS = 64;
const ROUNDS = 20;

interface Usage {
  type: 'usage';
  userMs: number;
  systemMs: number;
  elapsedMs: number;
}

await runBench('heartbeat', async ({ quick, dir }) => {
  const windowMs = quick ? 8_000 : 30_000;
  const file = await createDatabase(dir, 'bot-bottle.db');
  const sidecars: BottleDatabase[] = [];
  const beats: SidecarHeartbeat[] = [];
  for (let i = 0; i < SIDECARS; i++) {
    const slug = `hb-${String(i).padStart(2, '0')}`;
    const routesFile = path.join(dir, `${slug}.yaml`);
    fs.writeFileSync(routesFile, routesYaml(i));
    const sidecar = openSidecarDatabase(slug, { path: file, watch: false, keysDir: benchBottleKeysDir(file, slug) });
    sidecars.push(sidecar);
    beats.push(new SidecarHeartbeat({ bottle: sidecar.bottle, sidecarVersion: '0.1.0', routesFile, log: (line) => console.error(line) }));
  }

  // The beats themselves, back to back, in one process: CPU per beat.
  for (const beat of beats) await beat.beat();
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    for (const beat of beats) {
      const t = performance.now();
      await beat.beat();
      latencies.push(performance.now() - t);
    }
  }
  const used = process.cpuUsage(cpu);
  const beatCount = ROUNDS * SIDECARS;
  const cpuPerBeatMs = (used.user + used.system) / 1000 / beatCount;
  const wallS = (performance.now() - started) / 1000;
  const beatsPerMinute = (SIDECARS * 60_000) / HEARTBEAT_INTERVAL_MS;

  // What they cost an operator's process that stays open: a window without beats, then one with them at their real rate.
  const host = new Worker('heartbeat-host', [file]);
  await host.next('ready');
  const measure = async (beating: boolean): Promise<Usage> => {
    host.send({ type: 'start' });
    const end = performance.now() + windowMs;
    if (beating) {
      const gap = HEARTBEAT_INTERVAL_MS / SIDECARS;
      for (let i = 0; performance.now() < end; i++) {
        await (beats[i % SIDECARS] as SidecarHeartbeat).beat();
        await sleep(Math.max(0, Math.min(gap, end - performance.now())));
      }
    } else {
      await sleep(windowMs);
    }
    host.send({ type: 'measure' });
    return host.next<Usage>('usage');
  };
  const idle = await measure(false);
  const beating = await measure(true);
  await host.stop();
  for (const sidecar of sidecars) await sidecar.close();

  const perMinute = (usage: Usage): number => ((usage.userMs + usage.systemMs) * 60_000) / usage.elapsedMs;
  const hostExtra = Math.max(0, perMinute(beating) - perMinute(idle));
  const latency = distribution(latencies);
  const tables: Table[] = [
    {
      title: `${SIDECARS} sidecars beating every ${HEARTBEAT_INTERVAL_MS / 1000} s (${beatsPerMinute} beats a minute)`,
      columns: ['measure', 'value (ms)'],
      rows: [
        ['CPU per beat (read + sha256 the routes file, MAC, upsert, commit)', ms(cpuPerBeatMs)],
        ['beat latency p50 / p99 (back to back)', `${ms(latency.p50)} / ${ms(latency.p99)}`],
        [`beats: CPU per minute for all ${SIDECARS}`, `${ms(cpuPerBeatMs * beatsPerMinute, 1)} (${((cpuPerBeatMs * beatsPerMinute) / 600).toFixed(3)}% of one core)`],
        ['an open operator process (TUI / notify watch): CPU per minute without beats', ms(perMinute(idle), 1)],
        ['the same with the 64 sidecars beating', ms(perMinute(beating), 1)],
        ['host-side extra per minute', ms(hostExtra, 1)],
      ],
    },
  ];
  const total = cpuPerBeatMs * beatsPerMinute + hostExtra;
  const targets: TargetCheck[] = [{ name: `heartbeats of ${SIDECARS} sidecars, CPU per minute (beats + one open operator process)`, target: '≤ 600 ms (1% of a core)', actual: ms(total, 1), met: total <= 600 }];
  return {
    params: { sidecars: SIDECARS, rounds: ROUNDS, windowMs, intervalMs: HEARTBEAT_INTERVAL_MS },
    tables,
    targets,
    notes: [
      `Back-to-back run: ${beatCount} beats in ${wallS.toFixed(1)} s of wall time.`,
      'A heartbeat rings no doorbell (it appends no event), so an operator process learns of it only through its one-second poll of PRAGMA data_version, which then finds no new event.',
    ],
    data: { cpuPerBeatMs, latency, idle, beating, hostExtra, beatsPerMinute },
  };
});
