/**
 * `bot-bottle audit export` of a long log: entries per second and the exporting process's peak
 * memory, at two log sizes, to show that streaming keeps memory flat however long the log is.
 * The whole command runs as a child (the built CLI), as an operator would run it, next to a plain
 * streaming export (better-sqlite3's iterate() and JSON.stringify, written with fs.writeSync): the
 * floor a JSONL export's memory can get to in Node.
 *
 *   tsx bench/audit-export.ts [--quick]      needs the built CLI (npm run build)
 *
 * AUDIT_EXPORT_BEFORE=<another build's dist/src/cli/main.js> also runs the JSONL and CSV exports of
 * the big log with that build, side by side in the same run (e.g. a git worktree of the previous
 * commit, built there).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AuditStore } from '../src/audit/audit-store.js';
import { openConnection } from '../src/storage/connection.js';
import { renderDiff } from '../src/kinds/diff.js';
import { runBench } from './lib/cli.js';
import { CLI, runMeasuredCli } from './lib/measured-cli.js';
import { createDatabase, currentRoutesYaml, routesYaml, slugFor } from './lib/fixtures.js';
import { rate, ratio, type Table } from './lib/format.js';

const FILL_BATCH = 50_000;
/** Issue 10: a 1,000,000-entry export's peak RSS, the whole process. */
const TARGET_RSS_MIB = 100;
/** Flat: the big log may cost at most this much more peak memory than the small one. */
const FLAT_RATIO = 1.25;
const TARGET_RATE = 50_000;
/** A heap this small holds a few thousand entries at most: finishing under it proves the export streams. */
const CAPPED_HEAP_MIB = 24;

interface Run {
  label: string;
  entries: number;
  seconds: number;
  maxRssMiB: number;
  outputMiB: number;
}

/** Decided proposals as the queue writes them: a routes diff per entry, through the real chain. */
function fill(file: string, entries: number): void {
  const db = openConnection(file, { fileMustExist: true });
  try {
    db.pragma('synchronous = OFF');
    const store = new AuditStore(db);
    const diffs = Array.from({ length: 64 }, (_, i) => renderDiff(currentRoutesYaml(), routesYaml(i), 'egress-allow'));
    const statuses = ['approved', 'modified', 'rejected'];
    const start = Date.now() - entries * 1000;
    for (let made = 0; made < entries; ) {
      const end = Math.min(entries, made + FILL_BATCH);
      db.transaction(() => {
        for (let i = made; i < end; i++) {
          store.appendWithinTransaction(slugFor(i), {
            ts: start + i * 1000,
            component: 'egress',
            action: 'proposal-decision',
            actor: 'operator:alice',
            proposalId: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
            kind: 'egress-allow',
            status: statuses[i % 3] as string,
            notes: `decision ${i}: the mirror is on the allowlist of the project`,
            diff: diffs[i % diffs.length] as string,
          });
        }
      })();
      made = end;
      process.stdout.write(`\r  ${path.basename(file)}: ${made.toLocaleString('en-US')} / ${entries.toLocaleString('en-US')} entries`);
    }
    process.stdout.write('\n');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

async function exportRun(label: string, file: string, entries: number, args: string[], output: string | undefined, nodeFlags: string[] = []): Promise<Run> {
  const run = await runMeasuredCli(label, ['--db', file, 'audit', 'export', ...args], { nodeFlags, stdout: 'ignore' });
  return { label, entries, seconds: run.seconds, maxRssMiB: run.maxRssMiB, outputMiB: output ? fs.statSync(output).size / 2 ** 20 : Number.NaN };
}

/** Reports the child's peak resident memory (KiB, from getrusage) on stderr as it exits, as runMeasuredCli's hook does. */
const MAXRSS_HOOK = 'data:text/javascript,process.on("exit",()=>process.stderr.write(`maxrss ${process.resourceUsage().maxRSS}\\n`))';

/** The plain streaming export: no CLI, no chunks, no escaping; one JSON.stringify and one writeSync per entry. */
const PLAIN_EXPORT = `
import fs from 'node:fs';
import Database from 'better-sqlite3';
const db = new Database(process.argv[1], { readonly: true });
for (const row of db.prepare('SELECT * FROM audit_entries ORDER BY seq').iterate()) fs.writeSync(1, JSON.stringify(row) + '\\n');
`;

/** Runs `node [nodeArgs]` as a child with stdout to /dev/null; its time and peak RSS. */
function runMeasuredNode(label: string, nodeArgs: string[]): Promise<{ seconds: number; maxRssMiB: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', MAXRSS_HOOK, ...nodeArgs], { stdio: ['ignore', 'ignore', 'pipe'], cwd: path.join(path.dirname(CLI), '..', '..', '..') });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const maxRss = /maxrss (\d+)/.exec(stderr);
      if (code !== 0 || !maxRss) return reject(new Error(`${label} exited ${code}: ${stderr}`));
      resolve({ seconds: (performance.now() - started) / 1000, maxRssMiB: Number(maxRss[1]) / 1024 });
    });
  });
}

function countLines(file: string): number {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(1 << 20);
  let lines = 0;
  try {
    for (let read = fs.readSync(fd, buffer); read > 0; read = fs.readSync(fd, buffer)) {
      for (let i = 0; i < read; i++) if (buffer[i] === 10) lines++;
    }
  } finally {
    fs.closeSync(fd);
  }
  return lines;
}

await runBench('audit-export', async ({ quick, dir }) => {
  if (!fs.existsSync(CLI)) throw new Error(`the built CLI is missing (${CLI}); run \`npm run build\` first.`);
  const big = quick ? 100_000 : 1_000_000;
  const small = big / 10;
  const files = { small: await createDatabase(dir, 'small.db'), big: await createDatabase(dir, 'big.db') };
  const fillStarted = Date.now();
  fill(files.small, small);
  fill(files.big, big);
  const fillS = (Date.now() - fillStarted) / 1000;

  // What the process costs before it exports anything: Node, the CLI's modules, an open database.
  const runs: Run[] = [await exportRun('empty log (start-up baseline)', await createDatabase(dir, 'empty.db'), 0, [], undefined)];
  for (const [size, entries] of [['small', small], ['big', big]] as const) {
    const jsonl = path.join(dir, `${size}.jsonl`);
    const csv = path.join(dir, `${size}.csv`);
    runs.push(await exportRun(`JSONL to a file, ${entries.toLocaleString('en-US')} entries`, files[size], entries, ['--output', jsonl], jsonl));
    if (countLines(jsonl) !== entries) throw new Error(`${jsonl} has ${countLines(jsonl)} lines, expected ${entries}`);
    runs.push(await exportRun(`CSV to a file, ${entries.toLocaleString('en-US')} entries`, files[size], entries, ['--format', 'csv', '--output', csv], csv));
    runs.push(await exportRun(`JSONL to stdout (/dev/null), ${entries.toLocaleString('en-US')} entries`, files[size], entries, [], undefined));
    runs.push(await exportRun(`JSONL to stdout, heap capped at ${CAPPED_HEAP_MIB} MiB, ${entries.toLocaleString('en-US')} entries`, files[size], entries, [], undefined, [`--max-old-space-size=${CAPPED_HEAP_MIB}`]));
    fs.rmSync(jsonl);
    fs.rmSync(csv);
    const plain = await runMeasuredNode('plain', ['--input-type=module', '-e', PLAIN_EXPORT, files[size]]);
    runs.push({ label: `plain streaming export (better-sqlite3 + JSON.stringify + writeSync), ${entries.toLocaleString('en-US')} entries`, entries, ...plain, outputMiB: Number.NaN });
  }
  const before = process.env.AUDIT_EXPORT_BEFORE;
  if (before !== undefined) {
    for (const format of ['jsonl', 'csv']) {
      const output = path.join(dir, `before.${format}`);
      const run = await runMeasuredNode('before', [before, '--db', files.big, 'audit', 'export', '--format', format, '--output', output]);
      runs.push({ label: `BEFORE (${path.relative(process.cwd(), before)}): ${format.toUpperCase()} to a file, ${big.toLocaleString('en-US')} entries`, entries: big, ...run, outputMiB: fs.statSync(output).size / 2 ** 20 });
      fs.rmSync(output);
    }
  }

  const table: Table = {
    title: 'audit export, whole command (process start to exit)',
    columns: ['export', 'seconds', 'entries/s', 'peak RSS (MiB)', 'output (MiB)'],
    rows: runs.map((r) => [r.label, r.seconds.toFixed(2), r.entries === 0 ? '-' : rate(r.entries / r.seconds), r.maxRssMiB.toFixed(0), Number.isNaN(r.outputMiB) ? '-' : r.outputMiB.toFixed(0)]),
  };
  const bigJsonl = runs.find((r) => r.entries === big && r.label.startsWith('JSONL to a file')) as Run;
  const bigCli = runs.filter((r) => r.entries === big && !r.label.startsWith('plain') && !r.label.startsWith('BEFORE') && !r.label.includes('capped'));
  const bigPeak = Math.max(...bigCli.map((r) => r.maxRssMiB));
  const capped = runs.filter((r) => r.label.includes('capped'));
  const cappedGrowth = (capped[1]?.maxRssMiB ?? Number.NaN) / (capped[0]?.maxRssMiB ?? Number.NaN);
  const peak = (entries: number): number => Math.max(...runs.filter((r) => r.entries === entries && !r.label.startsWith('BEFORE') && !r.label.startsWith('plain')).map((r) => r.maxRssMiB));
  const growth = peak(big) / peak(small);
  return {
    params: { small, big, fillBatch: FILL_BATCH },
    tables: [table],
    targets: [
      {
        name: `peak RSS of every export of ${big.toLocaleString('en-US')} entries (JSONL and CSV, file and stdout, default heap)`,
        target: `<= ${TARGET_RSS_MIB} MiB`,
        actual: `${bigPeak.toFixed(0)} MiB`,
        met: bigPeak <= TARGET_RSS_MIB,
      },
      { name: `JSONL export rate, ${big.toLocaleString('en-US')} entries`, target: `>= ${rate(TARGET_RATE)} entries/s`, actual: `${rate(bigJsonl.entries / bigJsonl.seconds)} entries/s`, met: bigJsonl.entries / bigJsonl.seconds >= TARGET_RATE },
      { name: `peak memory flat in log size (${big.toLocaleString('en-US')} vs ${small.toLocaleString('en-US')} entries, default heap)`, target: `<= ${ratio(FLAT_RATIO)}`, actual: `${ratio(growth)} (${peak(big).toFixed(0)} vs ${peak(small).toFixed(0)} MiB)`, met: growth <= FLAT_RATIO },
      {
        name: `the same with the heap capped at ${CAPPED_HEAP_MIB} MiB`,
        target: `<= ${ratio(FLAT_RATIO)}`,
        actual: `${ratio(cappedGrowth)} (${capped[1]?.maxRssMiB.toFixed(0)} vs ${capped[0]?.maxRssMiB.toFixed(0)} MiB)`,
        met: cappedGrowth <= FLAT_RATIO,
      },
    ],
    notes: [
      `Logs filled through AuditStore (the real hash chain) with synchronous=OFF in ${fillS.toFixed(0)} s (not measured): one entry per decision with a ~${Math.round(renderDiff(currentRoutesYaml(), routesYaml(1), 'egress-allow').length / 10) * 10}-byte routes diff.`,
      'Peak RSS is the exporting process\'s own getrusage maxrss, reported as it exits; it includes Node and the CLI\'s modules. The capped runs are a diagnostic: a heap limit is no fix, and the CLI sets none.',
      'The plain streaming export is the floor for Node here: better-sqlite3 iterate(), JSON.stringify and fs.writeSync per entry, no CLI, no escaping.',
      'The JSONL files were checked to hold exactly one line per entry.',
    ],
    data: { runs, fillS },
  };
});
