/**
 * `bot-bottle supervise --once --json` with 1,000 pending proposals among 1,000,000 archived:
 * the whole command (process start, open, list, JSON out), timed with hyperfine when it is
 * installed and with a spawn loop otherwise, against the same command on an empty database.
 *
 *   tsx bench/supervise-once.ts [--quick]      needs the built CLI (npm run build)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openConnection } from '../src/storage/connection.js';
import { runBench } from './lib/cli.js';
import { fillArchived } from './lib/archive-fill.js';
import { createDatabase } from './lib/fixtures.js';
import { ms, type Table } from './lib/format.js';
import { CLI } from './lib/measured-cli.js';
import { distribution, type Distribution } from './lib/stats.js';

/** Under a second is what an operator's script calling it in a loop can live with. */
const TARGET_MS = 1_000;

interface Timing {
  label: string;
  tool: 'hyperfine' | 'spawn loop';
  runs: Distribution;
}

function hasHyperfine(): boolean {
  return spawnSync('hyperfine', ['--version']).status === 0;
}

function command(file: string): string[] {
  return [process.execPath, CLI, '--db', file, 'supervise', '--once', '--json'];
}

function shellQuote(words: string[]): string {
  return words.map((word) => `'${word.replaceAll("'", `'\\''`)}'`).join(' ');
}

function timeWithHyperfine(label: string, words: string[], runs: number, dir: string): Timing {
  const exported = path.join(dir, `hyperfine-${label.replace(/\W+/g, '-')}.json`);
  const result = spawnSync('hyperfine', ['--warmup', '3', '--runs', String(runs), '--export-json', exported, '--output', 'null', shellQuote(words)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error(`hyperfine failed for ${label} (exit ${result.status})`);
  const times = (JSON.parse(fs.readFileSync(exported, 'utf8')) as { results: Array<{ times: number[] }> }).results[0]?.times ?? [];
  return { label, tool: 'hyperfine', runs: distribution(times.map((seconds) => seconds * 1000)) };
}

function timeWithLoop(label: string, words: string[], runs: number): Timing {
  const [program, ...args] = words as [string, ...string[]];
  const times: number[] = [];
  for (let i = 0; i < runs + 3; i++) {
    const started = performance.now();
    const result = spawnSync(program, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (result.status !== 0) throw new Error(`${label} exited ${result.status}`);
    if (i >= 3) times.push(performance.now() - started);
  }
  return { label, tool: 'spawn loop', runs: distribution(times) };
}

/** The query alone, in process, on the big database: what the command costs beyond starting Node. */
function timeQuery(file: string, runs: number): Distribution {
  const db = openConnection(file, { fileMustExist: true });
  try {
    const statement = db.prepare(`SELECT * FROM proposals WHERE state = 'pending' AND target = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq LIMIT -1`);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      statement.all('operator', Date.now());
      times.push(performance.now() - started);
    }
    return distribution(times);
  } finally {
    db.close();
  }
}

await runBench('supervise-once', async ({ quick, dir }) => {
  if (!fs.existsSync(CLI)) throw new Error(`the built CLI is missing (${CLI}); run \`npm run build\` first.`);
  const archived = quick ? 100_000 : 1_000_000;
  const pending = 1_000;
  const runs = quick ? 10 : 30;

  const empty = await createDatabase(dir, 'empty.db');
  const big = await createDatabase(dir, 'big.db');
  const fillStarted = Date.now();
  fillArchived(big, archived, pending);
  const fillS = (Date.now() - fillStarted) / 1000;
  const sizeMiB = fs.statSync(big).size / 2 ** 20;

  const check = spawnSync(command(big)[0] as string, command(big).slice(1), { encoding: 'utf8', maxBuffer: 1 << 30 });
  const listed = (JSON.parse(check.stdout) as Array<{ id: string }>).length;
  if (check.status !== 0 || listed !== pending) throw new Error(`supervise --once --json listed ${listed} proposals (exit ${check.status}), expected ${pending}: ${check.stderr}`);
  const outputKiB = Buffer.byteLength(check.stdout) / 1024;

  const time = hasHyperfine() ? (label: string, words: string[]) => timeWithHyperfine(label, words, runs, dir) : (label: string, words: string[]) => timeWithLoop(label, words, runs);
  const timings = [
    time('node -e "" (Node start-up alone)', [process.execPath, '-e', '']),
    time('supervise --once --json, empty database', command(empty)),
    time(`supervise --once --json, ${pending.toLocaleString('en-US')} pending among ${archived.toLocaleString('en-US')} archived`, command(big)),
  ];
  const query = timeQuery(big, 50);
  const whole = timings[2] as Timing;
  const overEmpty = whole.runs.p50 - (timings[1] as Timing).runs.p50;

  const table: Table = {
    title: `Whole-command time (${whole.tool}, ${runs} runs after warm-up), milliseconds`,
    columns: ['command', 'p50', 'p90', 'max', 'mean'],
    rows: timings.map((t) => [t.label, ms(t.runs.p50, 1), ms(t.runs.p90, 1), ms(t.runs.max, 1), ms(t.runs.mean, 1)]),
  };
  const queryTable: Table = {
    title: 'The pending-list query alone, in process on the big database (50 runs), milliseconds',
    columns: ['query', 'p50', 'p90', 'max'],
    rows: [[`${pending} pending rows via the partial index`, ms(query.p50, 2), ms(query.p90, 2), ms(query.max, 2)]],
  };
  return {
    params: { archived, pending, runs, tool: whole.tool },
    tables: [table, queryTable],
    targets: [
      { name: 'supervise --once --json, 1,000 pending among the archived', target: `< ${TARGET_MS} ms (p50)`, actual: `${ms(whole.runs.p50, 1)} ms`, met: whole.runs.p50 < TARGET_MS },
    ],
    notes: [
      `Database: ${sizeMiB.toFixed(0)} MiB, ${archived.toLocaleString('en-US')} archived proposals with responses (~900-byte routes payloads plus the current file), ${pending} pending spread evenly among them; filled in ${fillS.toFixed(0)} s with raw inserts (not measured).`,
      `Output: ${outputKiB.toFixed(0)} KiB of JSON (every pending proposal with payload and current file).`,
      `p50 of the big database minus p50 of the empty one: ${ms(overEmpty, 1)} ms (the query itself takes ${ms(query.p50, 1)} ms; a negative difference is run-to-run noise). The rest is Node start-up and module loading.`,
    ],
    data: { timings, query, fillS, sizeMiB, outputKiB },
  };
});
