/**
 * Runs the benchmarks one after another, each in its own process, then prints every target check
 * and writes bench/results/summary.md (the tables as markdown, for docs/BENCHMARKS.md).
 *
 *   tsx bench/run.ts [--quick] [name …]      names: enqueue reads wake idle roundtrip many-bottles audit-export import-legacy supervise-once prune heartbeat cli-startup dashboard broker
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { renderMarkdown } from './lib/format.js';
import { BENCH_DIR, RESULTS_DIR, type BenchResult } from './lib/results.js';

const BENCHMARKS = ['enqueue', 'reads', 'wake', 'idle', 'roundtrip', 'many-bottles', 'audit-export', 'import-legacy', 'supervise-once', 'prune', 'heartbeat', 'cli-startup', 'dashboard', 'broker'] as const;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => a !== '--quick');
const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark or option: ${unknown.join(' ')}. Benchmarks: ${BENCHMARKS.join(', ')}; option: --quick.`);
  process.exit(2);
}
const selected = names.length > 0 ? BENCHMARKS.filter((b) => names.includes(b)) : [...BENCHMARKS];

const failed: string[] = [];
const started = Date.now();
for (const name of selected) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, `${name}.ts`), ...(quick ? ['--quick'] : [])], { stdio: 'inherit' });
  if (result.status !== 0) failed.push(`${name} (exit ${result.status ?? result.signal})`);
  console.log('');
}

const results = selected
  .map((name) => path.join(RESULTS_DIR, `${name}.json`))
  .filter((file) => fs.existsSync(file))
  .map((file) => JSON.parse(fs.readFileSync(file, 'utf8')) as BenchResult)
  .filter((r) => Date.parse(r.startedAt) >= started);

console.log('# Summary');
for (const r of results) {
  for (const t of r.targets) console.log(`  ${t.met ? 'MET   ' : 'MISSED'} [${r.name}] ${t.name}: target ${t.target}, got ${t.actual}`);
}
const machine = results[0]?.machine;
const markdown = [
  `# Benchmark results${quick ? ' (--quick)' : ''}, ${new Date(started).toISOString()}`,
  machine ? `\n${machine.nproc} CPUs (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}, SQLite ${machine.sqlite} (better-sqlite3 ${machine.betterSqlite3}), Linux ${machine.kernel}, ${machine.filesystem}` : '',
  ...results.flatMap((r) => [
    `\n## ${r.name} (${r.durationS} s, load average at start ${r.machine.loadAverage.join(' ')})\n`,
    ...r.tables.map((t) => `${renderMarkdown(t)}\n`),
    ...(r.targets.length > 0 ? ['| target | wanted | got | |', '| --- | --- | --- | --- |', ...r.targets.map((t) => `| ${t.name.replaceAll('|', '\\|')} | ${t.target} | ${t.actual.replaceAll('|', '\\|')} | ${t.met ? 'met' : '**missed**'} |`), ''] : []),
    ...r.notes.map((n) => `- ${n}`),
  ]),
].join('\n');
fs.mkdirSync(RESULTS_DIR, { recursive: true });
fs.writeFileSync(path.join(RESULTS_DIR, 'summary.md'), `${markdown}\n`);
console.log(`\nsummary: ${path.relative(process.cwd(), path.join(RESULTS_DIR, 'summary.md'))}`);
if (failed.length > 0) {
  console.error(`benchmarks that failed to run: ${failed.join(', ')}`);
  process.exit(1);
}
