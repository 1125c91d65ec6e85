/**
 * Issue 10: a wake that scales with many bottles. Side by side in one run, the project's waiting
 * (waitForResponse in each sidecar, subscribe in each operator) against a 50 ms readResponse /
 * listPendingProposals poller (the original Python plane) and a 1 ms `PRAGMA data_version` poller
 * (the Honker queue's way: read the queue only when the version moved):
 *   (a) round trips/s and p50 with 1 and with 8 proposer/operator pairs (2 and 16 processes);
 *   (b) 32 concurrent waiters (32 processes, one pending proposal each) with answers arriving every
 *       20–60 ms from one host process to a random waiter: wake after the commit, the waiters' CPU,
 *       CPU per commit per waiting process;
 *   (c) the same 32 waiters idle (nobody answers) for 60 s (--quick: 10 s): CPU seconds per minute.
 * Only the public API (openSidecarDatabase, openHostDatabase, the queue's methods) is used, through
 * the workers rt-proposer, rt-operator, wake-waiter and answerer.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker, stopAll } from './lib/children.js';
import { runBench } from './lib/cli.js';
import { createDatabase } from './lib/fixtures.js';
import { ms, rate, ratio, type Table } from './lib/format.js';
import type { TargetCheck } from './lib/results.js';
import { median, percentile } from './lib/stats.js';
import { benchBottleKeysDir } from './keys.js';

interface Variant {
  key: 'notifier' | 'poll-50' | 'dv-1';
  label: string;
  mode: 'notifier' | 'poll' | 'data-version';
  intervalMs: number;
}

const VARIANTS: readonly Variant[] = [
  { key: 'notifier', label: 'project: waitForResponse / subscribe', mode: 'notifier', intervalMs: 0 },
  { key: 'poll-50', label: '50 ms poll (readResponse / listPendingProposals)', mode: 'poll', intervalMs: 50 },
  { key: 'dv-1', label: '1 ms PRAGMA data_version poll', mode: 'data-version', intervalMs: 1 },
];
const PAIR_COUNTS = [1, 8] as const;
const WAITERS = 32;
/** The last waiters are never answered in (b): what they spend is what other bottles' commits cost a bottle. */
const UNINVOLVED = 8;
/** Each answer is three commits: the answer, the waiter's archive and its next enqueue. */
const COMMITS_PER_ANSWER = 3;

interface PairsRun {
  variant: Variant['key'];
  pairs: number;
  round: number;
  trips: number;
  rate: number;
  p50: number;
  p99: number;
}

interface ProposerResult {
  type: 'result';
  count: number;
  latencies: number[];
  start: number;
  end: number;
}

interface WaitersRun {
  variant: Variant['key'];
  round: number;
  idleCpuMs: number;
  idleElapsedMs: number;
  busyCpuMs: number;
  busyElapsedMs: number;
  busyChecks: number;
  /** CPU of the waiters that were never answered, over the busy window. */
  uninvolvedCpuMs: number;
  answers: number;
  /** Per answer: the answer's commit (ms) and the answered waiter's wake after the commit (ms). */
  commitMs: number[];
  wakeAfterCommitMs: number[];
}

interface Cpu {
  type: 'cpu';
  ms: number;
  checks: number;
}

/** Bottle keys made here, before the workers start, so no two processes race to make them. */
function makeKeys(file: string, slugs: readonly string[]): void {
  for (const slug of slugs) benchBottleKeysDir(file, slug);
}

async function roundTrips(dir: string, variant: Variant, pairs: number, tripsPerPair: number, warmup: number, round: number): Promise<PairsRun> {
  const file = await createDatabase(dir, `pairs-${variant.key}-${pairs}-r${round}.db`);
  const slugs = Array.from({ length: pairs }, (_, i) => `pair-${i}`);
  makeKeys(file, slugs);
  const interval = String(variant.intervalMs);
  const operators = slugs.map((slug) => new Worker('rt-operator', [file, variant.mode, interval, slug]));
  const proposers: Worker[] = [];
  try {
    await Promise.all(operators.map((w) => w.next('ready')));
    proposers.push(...slugs.map((slug) => new Worker('rt-proposer', [file, String(tripsPerPair), slug, variant.mode, interval, String(warmup)])));
    await Promise.all(proposers.map((w) => w.next('ready')));
    for (const w of proposers) w.send({ type: 'go' });
    const results = await Promise.all(proposers.map((w) => w.next<ProposerResult>('result')));
    const trips = results.reduce((sum, r) => sum + r.count, 0);
    const seconds = (Math.max(...results.map((r) => r.end)) - Math.min(...results.map((r) => r.start))) / 1000;
    const latencies = results.flatMap((r) => r.latencies);
    return { variant: variant.key, pairs, round, trips, rate: trips / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  } finally {
    await stopAll([...proposers, ...operators]);
  }
}

async function cpuOf(workers: readonly Worker[]): Promise<{ ms: number; checks: number }> {
  const usage = await Promise.all(
    workers.map((w) => {
      w.send({ type: 'cpu' });
      return w.next<Cpu>('cpu');
    }),
  );
  return { ms: usage.reduce((s, u) => s + u.ms, 0), checks: usage.reduce((s, u) => s + u.checks, 0) };
}

async function manyWaiters(dir: string, variant: Variant, idleMs: number, busyMs: number, round: number): Promise<WaitersRun> {
  const file = await createDatabase(dir, `waiters-${variant.key}-r${round}.db`);
  const slugs = Array.from({ length: WAITERS }, (_, i) => `waiter-${String(i).padStart(2, '0')}`);
  makeKeys(file, slugs);
  const answerer = new Worker('answerer', [file]);
  const waiters = slugs.map((slug) => new Worker('wake-waiter', [file, variant.mode === 'notifier' ? 'notifier' : variant.mode, String(variant.intervalMs), slug]));
  const waiting = new Map<number, string>();
  let rounds = 0;
  const arm = async (i: number): Promise<void> => {
    const waiter = waiters[i] as Worker;
    waiter.send({ type: 'round', round: rounds++ });
    const { id } = await waiter.next<{ type: 'waiting'; id: string }>('waiting');
    waiting.set(i, id);
  };
  try {
    await Promise.all([answerer, ...waiters].map((w) => w.next('ready')));
    await Promise.all(waiters.map((_, i) => arm(i)));
    await sleep(2000);

    // (c) idle: every waiter has one pending proposal, nobody answers.
    const uninvolved = waiters.slice(WAITERS - UNINVOLVED);
    const idleStart = await cpuOf(waiters);
    const idleT0 = performance.now();
    await sleep(idleMs);
    const idleEnd = await cpuOf(waiters);
    const idleElapsedMs = performance.now() - idleT0;
    const uninvolvedStart = await cpuOf(uninvolved);

    // (b) busy: an answer every 20–60 ms to a random waiting waiter; the answered one archives,
    // enqueues again and waits again, so about 32 processes are waiting throughout.
    const busyT0 = performance.now();
    const woke = new Map<string, number>();
    const inFlight: Promise<void>[] = [];
    let answers = 0;
    while (performance.now() - busyT0 < busyMs) {
      await sleep(20 + Math.random() * 40);
      const candidates = [...waiting.keys()].filter((k) => k < WAITERS - UNINVOLVED);
      if (candidates.length === 0) continue;
      const i = candidates[Math.floor(Math.random() * candidates.length)] as number;
      const id = waiting.get(i) as string;
      waiting.delete(i);
      answerer.send({ type: 'answer', slug: slugs[i] as string, id, delayMs: 0 });
      answers++;
      inFlight.push(
        (async () => {
          const message = await (waiters[i] as Worker).next<{ type: 'woke'; woke: number }>('woke');
          woke.set(id, message.woke);
          await arm(i);
        })(),
      );
    }
    await Promise.all(inFlight);
    const busyEnd = await cpuOf(waiters);
    const uninvolvedEnd = await cpuOf(uninvolved);
    const busyElapsedMs = performance.now() - busyT0;
    const commitMs: number[] = [];
    const wakeAfterCommitMs: number[] = [];
    for (let k = 0; k < answers; k++) {
      const answered = await answerer.next<{ type: 'answered'; id: string; started: number; committed: number }>('answered');
      commitMs.push(answered.committed - answered.started);
      const at = woke.get(answered.id);
      if (at !== undefined) wakeAfterCommitMs.push(at - answered.committed);
    }
    return {
      variant: variant.key,
      round,
      idleCpuMs: idleEnd.ms - idleStart.ms,
      idleElapsedMs,
      busyCpuMs: busyEnd.ms - idleEnd.ms,
      busyElapsedMs,
      busyChecks: busyEnd.checks - idleEnd.checks,
      uninvolvedCpuMs: uninvolvedEnd.ms - uninvolvedStart.ms,
      answers,
      commitMs,
      wakeAfterCommitMs,
    };
  } finally {
    await stopAll([answerer, ...waiters]);
  }
}

await runBench('many-bottles', async ({ quick, dir }) => {
  // BENCH_MANY_BOTTLES_PARTS=a runs only the round trips (a), for iterating on them.
  const waitersToo = (process.env.BENCH_MANY_BOTTLES_PARTS ?? 'abc').includes('b');
  const pairRounds = quick ? 1 : 3;
  const waiterRounds = !waitersToo ? 0 : quick ? 1 : 2;
  const tripsPerPair: Record<(typeof PAIR_COUNTS)[number], number> = quick ? { 1: 40, 8: 15 } : { 1: 200, 8: 60 };
  const warmup = quick ? 3 : 10;
  const idleMs = quick ? 10_000 : 60_000;
  const busyMs = quick ? 10_000 : 30_000;

  // (a) Interleaved: every variant and pair count once per round.
  const pairRuns: PairsRun[] = [];
  for (let round = 1; round <= pairRounds; round++) {
    for (const pairs of PAIR_COUNTS) {
      for (const variant of VARIANTS) {
        const run = await roundTrips(dir, variant, pairs, tripsPerPair[pairs], warmup, round);
        pairRuns.push(run);
        console.log(`  (a) round ${round}: ${variant.key.padEnd(8)} ${pairs} pair${pairs > 1 ? 's' : ' '}  ${rate(run.rate)} round trips/s  p50 ${ms(run.p50)} ms  p99 ${ms(run.p99)} ms`);
      }
    }
  }

  // (b) and (c) on the same 32 processes per variant: first the idle window, then the busy one.
  const waiterRuns: WaitersRun[] = [];
  for (let round = 1; round <= waiterRounds; round++) {
    for (const variant of VARIANTS) {
      const run = await manyWaiters(dir, variant, idleMs, busyMs, round);
      waiterRuns.push(run);
      console.log(
        `  (b/c) round ${round}: ${variant.key.padEnd(8)} idle ${ms((run.idleCpuMs / run.idleElapsedMs) * 60, 2)} CPU s/min; ${run.answers} answers, wake after commit p50 ${ms(percentile(run.wakeAfterCommitMs, 50))} ms p99 ${ms(percentile(run.wakeAfterCommitMs, 99))} ms, waiters ${ms(run.busyCpuMs / run.busyElapsedMs, 2)} cores`,
      );
    }
  }

  // Figures per variant: medians over rounds (rates), pooled samples (latencies).
  const pairsOf = (key: Variant['key'], pairs: number): PairsRun[] => pairRuns.filter((r) => r.variant === key && r.pairs === pairs);
  const tripRate = (key: Variant['key'], pairs: number): number => median(pairsOf(key, pairs).map((r) => r.rate));
  const tripP50 = (key: Variant['key'], pairs: number): number => median(pairsOf(key, pairs).map((r) => r.p50));
  const waitersOf = (key: Variant['key']): WaitersRun[] => waiterRuns.filter((r) => r.variant === key);
  const sum = (list: readonly WaitersRun[], pick: (r: WaitersRun) => number): number => list.reduce((s, r) => s + pick(r), 0);
  const w = (key: Variant['key']) => {
    const list = waitersOf(key);
    const wake = list.flatMap((r) => r.wakeAfterCommitMs);
    const commit = list.flatMap((r) => r.commitMs);
    const busyCpu = sum(list, (r) => r.busyCpuMs);
    const answers = sum(list, (r) => r.answers);
    const checks = sum(list, (r) => r.busyChecks);
    return {
      answers,
      wakeP50: percentile(wake, 50),
      wakeP99: percentile(wake, 99),
      wakeMax: Math.max(...wake),
      commitP50: percentile(commit, 50),
      commitP99: percentile(commit, 99),
      busyCores: busyCpu / sum(list, (r) => r.busyElapsedMs),
      cpuPerCommitPerWaiter: busyCpu / answers / WAITERS,
      cpuPerCommitPerUninvolved: sum(list, (r) => r.uninvolvedCpuMs) / (answers * COMMITS_PER_ANSWER) / UNINVOLVED,
      cpuPerCheck: checks > 0 ? busyCpu / checks : Number.NaN,
      idleCpuSPerMin: (sum(list, (r) => r.idleCpuMs) / sum(list, (r) => r.idleElapsedMs)) * 60,
    };
  };
  const stats = Object.fromEntries(VARIANTS.map((v) => [v.key, w(v.key)])) as Record<Variant['key'], ReturnType<typeof w>>;
  const ours = stats.notifier;
  const poll = stats['poll-50'];
  const dv = stats['dv-1'];

  const pairRows: Table['rows'] = PAIR_COUNTS.flatMap((pairs) =>
    VARIANTS.map((v) => {
      const list = pairsOf(v.key, pairs);
      return [
        v.label,
        pairs,
        pairs * 2,
        list[0]?.trips ?? 0,
        rate(tripRate(v.key, pairs)),
        `${rate(Math.min(...list.map((r) => r.rate)))}–${rate(Math.max(...list.map((r) => r.rate)))}`,
        ms(tripP50(v.key, pairs), 1),
        ms(median(list.map((r) => r.p99)), 1),
        ratio(tripRate('notifier', pairs) / tripRate(v.key, pairs)),
      ];
    }),
  );
  const waiterRows: Table['rows'] = VARIANTS.map((v) => {
    const s = stats[v.key];
    return [v.label, s.answers, ms(s.commitP50, 1), ms(s.commitP99, 1), ms(s.wakeP50), ms(s.wakeP99), ms(s.wakeMax, 1), ms(s.busyCores, 2), ms(s.cpuPerCommitPerWaiter, 3), ms(s.cpuPerCommitPerUninvolved, 4), ms(s.cpuPerCheck, 3)];
  });
  const idleRows: Table['rows'] = VARIANTS.map((v) => [v.label, WAITERS, ms(stats[v.key].idleCpuSPerMin, 2), ms((stats[v.key].idleCpuSPerMin / 60) * 100, 1), ratio(stats[v.key].idleCpuSPerMin / poll.idleCpuSPerMin)]);

  const rate8 = tripRate('notifier', 8);
  const vsPoll = rate8 / tripRate('poll-50', 8);
  const vsDv = rate8 / tripRate('dv-1', 8);
  const p50Ratio = tripP50('notifier', 8) / tripP50('poll-50', 8);
  const idleRatio = ours.idleCpuSPerMin / poll.idleCpuSPerMin;
  const targets: TargetCheck[] = [
    { name: '8 pairs: round trips/s vs the 50 ms poll', target: '≥ 3×', actual: `${ratio(vsPoll)} (${rate(rate8)}/s vs ${rate(tripRate('poll-50', 8))}/s)`, met: vsPoll >= 3 },
    { name: '8 pairs: round trips/s vs the 1 ms data_version poll', target: '≥ 1×', actual: `${ratio(vsDv)} (${rate(rate8)}/s vs ${rate(tripRate('dv-1', 8))}/s)`, met: vsDv >= 1 },
    { name: '8 pairs: round-trip p50 vs the 50 ms poll', target: '≤ 0.3×', actual: `${ratio(p50Ratio)} (${ms(tripP50('notifier', 8), 1)} vs ${ms(tripP50('poll-50', 8), 1)} ms)`, met: p50Ratio <= 0.3 },
    { name: `${WAITERS} waiters, answers every 20–60 ms: wake p50 after the commit`, target: '≤ 2 ms', actual: `${ms(ours.wakeP50)} ms (50 ms poll ${ms(poll.wakeP50)}, data_version poll ${ms(dv.wakeP50)})`, met: ours.wakeP50 <= 2 },
    { name: `${WAITERS} waiters: wake p99 after the commit`, target: '≤ 10 ms', actual: `${ms(ours.wakeP99)} ms (50 ms poll ${ms(poll.wakeP99)}, data_version poll ${ms(dv.wakeP99)})`, met: ours.wakeP99 <= 10 },
    { name: `${WAITERS} waiters: the waiters' CPU vs ${WAITERS} 50 ms pollers'`, target: '≤ 1×', actual: `${ratio(ours.busyCores / poll.busyCores)} (${ms(ours.busyCores, 2)} vs ${ms(poll.busyCores, 2)} cores)`, met: ours.busyCores <= poll.busyCores },
    {
      name: `${WAITERS} waiters: CPU per commit per uninvolved waiting process (the ${UNINVOLVED} never answered)`,
      target: '≤ 0.1 ms',
      actual: `${ms(ours.cpuPerCommitPerUninvolved, 4)} ms (50 ms poll ${ms(poll.cpuPerCommitPerUninvolved, 4)}, data_version poll ${ms(dv.cpuPerCommitPerUninvolved, 4)})`,
      met: ours.cpuPerCommitPerUninvolved <= 0.1,
    },
    { name: `idle ${WAITERS} waiters: CPU vs ${WAITERS} 50 ms pollers`, target: '≤ 0.2×', actual: `${ratio(idleRatio)} (${ms(ours.idleCpuSPerMin, 2)} vs ${ms(poll.idleCpuSPerMin, 2)} CPU s/min)`, met: idleRatio <= 0.2 },
  ];
  const roundsText = (n: number): string => `${n} interleaved round${n > 1 ? 's' : ''}`;
  return {
    params: { pairRounds, waiterRounds, tripsPerPair, warmupTripsPerPair: warmup, waiters: WAITERS, idleMs, busyMs, answerIntervalMs: [20, 60], variants: VARIANTS },
    tables: [
      {
        title: `(a) Round trips with N proposer/operator pairs (median of ${roundsText(pairRounds)}; latency in ms)`,
        columns: ['waiting', 'pairs', 'procs', 'trips/round', 'trips/s (median)', 'trips/s (range)', 'p50', 'p99', 'project vs this'],
        rows: pairRows,
      },
      {
        title: `(b) ${WAITERS} waiting processes, an answer every 20–60 ms to a random one (${roundsText(waiterRounds)} of ${busyMs / 1000} s; ms, shared clock)`,
        columns: ['waiting', 'answers', 'commit p50', 'commit p99', 'wake after commit p50', 'p99', 'max', "waiters' CPU (cores)", 'CPU ms per answer per waiter', 'CPU ms per commit per uninvolved waiter', 'CPU ms per poll/check'],
        rows: waiterRows,
      },
      {
        title: `(c) Idle: ${WAITERS} processes each waiting on a proposal nobody answers (${roundsText(waiterRounds)} of ${idleMs / 1000} s, scaled to a minute)`,
        columns: ['waiting', 'procs', 'CPU s per minute', '% of one core', 'vs 50 ms poll'],
        rows: idleRows,
      },
    ].slice(0, waitersToo ? 3 : 1),
    ...(waitersToo ? { targets } : { targets: targets.slice(0, 3) }),
    notes: [
      '(a) Each pair: a sidecar-view process (openSidecarDatabase, its own slug) enqueues an egress-allow proposal, waits for the answer and archives it, again and again; a host process (openHostDatabase) answers only that slug. Project: waitForResponse / subscribe to new pending proposals. 50 ms poll: readResponse every 50 ms / listPendingProposals every 50 ms. data_version poll: PRAGMA data_version every 1 ms on a connection of its own, readResponse / listPendingProposals only when it moved. The polling variants open with the file watcher off. Rate = all pairs’ trips / (last end − first start), shared clock; p50 and p99 per trip from the proposer.',
      `(b) One host process answers (writeResponse) a random waiting waiter among the first ${WAITERS - UNINVOLVED} every 20–60 ms; the last ${UNINVOLVED} wait throughout and are never answered, and their CPU / commits (${COMMITS_PER_ANSWER} per answer: the answer, the archive, the next enqueue) / ${UNINVOLVED} is the CPU per commit per uninvolved waiter; the answered waiter archives, enqueues again and waits again, so about 32 wait throughout. commit = the host’s writeResponse call; wake after commit = waiter resolved − commit returned (shared clock). Waiters’ CPU = the 32 processes’ process.cpuUsage over the busy window / its wall time; it includes the answered waiter’s own archive and re-enqueue, the same work in every variant. CPU per commit per waiter = waiters’ CPU / answers / 32, so it is an upper bound on the cost to an uninvolved waiter. CPU per poll/check = the same CPU / the number of readResponse polls or data_version checks.`,
      '(c) The same 32 processes, each with its one pending proposal, before the first answer: process.cpuUsage over the idle window, scaled to a minute. bench/idle.ts measures the same for the project and the 50 ms poll alone, with a DB-open-only baseline row.',
      'Each variant runs on a fresh database file; the variants take turns within each round so drift in machine load hits all of them.',
    ],
    data: { pairRuns, waiterRuns: waiterRuns.map((r) => ({ ...r })) },
  };
});
