/**
 * Side-by-side figures for two or more git revisions on the same machine in one run: each
 * revision is checked out into its own worktree (sharing this tree's node_modules), and the
 * enqueue and round-trip benchmarks of each run interleaved, round by round, so drift in machine
 * load hits every revision alike. Ratios are against the first revision.
 *
 *   tsx bench/compare-revisions.ts [--rounds N] [--quick] REV [REV …]      e.g. 231cd8d HEAD
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH_DIR } from './lib/results.js';
import { median } from './lib/stats.js';
import { ms, rate, ratio, renderMarkdown, type Table } from './lib/format.js';

interface EnqueueRun {
  mode: string;
  processes: number;
  rate: number;
  p99: number;
}

interface Figures {
  [measure: string]: number[];
}

const ROOT = path.dirname(BENCH_DIR);
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 3;
const revisions = args.filter((a, i) => !a.startsWith('--') && !(roundsAt >= 0 && i === roundsAt + 1));
if (revisions.length < 2 || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: tsx bench/compare-revisions.ts [--rounds N] [--quick] REV REV [REV …]');
  process.exit(2);
}

function git(...gitArgs: string[]): string {
  return execFileSync('git', gitArgs, { cwd: ROOT, encoding: 'utf8' }).trim();
}

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-revisions-'));
const trees = revisions.map((revision, i) => {
  const commit = git('rev-parse', '--short', revision);
  const dir = path.join(base, `${i}-${commit}`);
  git('worktree', 'add', '--detach', dir, commit);
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return { revision, commit, dir, figures: {} as Figures };
});

/** A benchmark's data, or undefined when it failed twice (reported, and left out of that round's figures). */
function runBenchIn(dir: string, name: string): Record<string, unknown> | undefined {
  for (let attempt = 1; attempt <= 2; attempt++) {
    const result = spawnSync(process.execPath, ['--import', 'tsx', path.join('bench', `${name}.ts`), ...(quick ? ['--quick'] : [])], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.status === 0) return JSON.parse(fs.readFileSync(path.join(dir, 'bench', 'results', `${name}.json`), 'utf8')).data as Record<string, unknown>;
    console.error(`${name} failed in ${dir} (exit ${result.status ?? result.signal}), attempt ${attempt} of 2`);
  }
  return undefined;
}

function add(figures: Figures, measure: string, value: number): void {
  (figures[measure] ??= []).push(value);
}

try {
  for (let round = 1; round <= rounds; round++) {
    for (const tree of trees) {
      const enqueue = (runBenchIn(tree.dir, 'enqueue')?.runs ?? []) as EnqueueRun[];
      // The measures every revision has; peers a newer bench added are not compared here.
      for (const run of enqueue.filter((r) => r.mode === 'store' || r.mode === 'store-unvalidated')) {
        add(tree.figures, `enqueue ${run.mode}, ${run.processes}p (ops/s)`, run.rate);
        add(tree.figures, `enqueue ${run.mode}, ${run.processes}p p99 (ms)`, run.p99);
      }
      const roundtrip = runBenchIn(tree.dir, 'roundtrip') as { roundTripsPerSecond: number[]; latencies: number[] } | undefined;
      if (roundtrip) {
        add(tree.figures, 'round trips (per s)', median(roundtrip.roundTripsPerSecond));
        add(tree.figures, 'round trip p50 (ms)', median(roundtrip.latencies));
      }
      console.log(`round ${round}: ${tree.commit} done`);
    }
    console.log(`\n${renderMarkdown(table(round))}\n`);
  }
} finally {
  for (const tree of trees) git('worktree', 'remove', '--force', tree.dir);
  fs.rmSync(base, { recursive: true, force: true });
}

/** Medians over the rounds so far; printed after every round, so a run cut short still reports. */
function table(roundsDone: number): Table {
  const measures = [...new Set(trees.flatMap((t) => Object.keys(t.figures)))];
  return {
    title: `${revisions.join(' vs ')}: medians of ${roundsDone} interleaved round${roundsDone > 1 ? 's' : ''}${quick ? ' (--quick)' : ''}`,
    columns: ['measure', ...trees.map((t) => `${t.revision} (${t.commit})`), ...trees.slice(1).map((t) => `${t.commit} / ${trees[0]?.commit}`)],
    rows: measures.map((measure) => {
      const values = trees.map((t) => median(t.figures[measure] ?? []));
      const format = (v: number) => (measure.includes('(ms)') ? ms(v) : rate(v));
      return [measure, ...values.map(format), ...values.slice(1).map((v) => ratio(v / (values[0] ?? 1)))];
    }),
  };
}
