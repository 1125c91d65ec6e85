/**
 * `bot-bottle import-legacy` of a pre-SQLite state directory with 100,000 queue files (proposals
 * and responses over 10 bottles, a third of them archived under processed/) plus one audit line per
 * answer: files per second for a dry run, the import, and a second import that finds everything
 * already there. The whole command runs as a child (the built CLI).
 *
 *   tsx bench/import-legacy.ts [--quick]      needs the built CLI (npm run build)
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LegacyImportSummary } from '../src/legacy/summary.js';
import { writeLegacyTree } from '../tests/fixtures/cli-legacy-tree.js';
import { runBench } from './lib/cli.js';
import { CLI, runMeasuredCli } from './lib/measured-cli.js';
import { rate, type Table } from './lib/format.js';

const TARGET_FILES_PER_S = 5_000;

interface Run {
  label: string;
  seconds: number;
  maxRssMiB: number;
  summary: LegacyImportSummary;
}

async function importRun(label: string, args: string[]): Promise<Run> {
  const run = await runMeasuredCli(label, [...args, '--json']);
  return { label, seconds: run.seconds, maxRssMiB: run.maxRssMiB, summary: JSON.parse(run.stdout) as LegacyImportSummary };
}

await runBench('import-legacy', async ({ quick, dir }) => {
  if (!fs.existsSync(CLI)) throw new Error(`the built CLI is missing (${CLI}); run \`npm run build\` first.`);
  // Proposals plus one response for every other one: 2/3 of the files are proposals.
  const files = quick ? 10_000 : 100_000;
  const proposals = Math.ceil((files * 2) / 3);
  const from = path.join(dir, 'legacy');
  const generated = Date.now();
  const written = writeLegacyTree(from, proposals);
  const generateS = (Date.now() - generated) / 1000;
  const db = path.join(dir, 'bot-bottle.db');
  const args = ['--db', db, 'import-legacy', '--from', from];

  const runs = [await importRun('dry run (reads and counts, writes nothing)', [...args, '--dry-run']), await importRun('import into an empty database', args), await importRun('second import (everything already there)', args)];
  const [dry, first, second] = runs as [Run, Run, Run];
  for (const run of runs) {
    const s = run.summary;
    if (!s.countsVerified || s.problems.length > 0 || s.proposals.read !== written.proposals || s.responses.read !== written.responses || s.auditLines.read !== written.auditLines) {
      throw new Error(`${run.label}: unexpected summary ${JSON.stringify({ proposals: s.proposals, responses: s.responses, auditLines: s.auditLines, problems: s.problems.length })}`);
    }
  }
  if (first.summary.proposals.imported !== written.proposals || second.summary.proposals.alreadyPresent !== written.proposals) throw new Error('the import or the second import counted wrong');

  const table: Table = {
    title: `import-legacy of ${written.files.toLocaleString('en-US')} queue files and ${written.auditLines.toLocaleString('en-US')} audit lines, whole command`,
    columns: ['run', 'seconds', 'files/s', 'audit lines/s (overall)', 'peak RSS (MiB)'],
    rows: runs.map((r) => [r.label, r.seconds.toFixed(2), rate(written.files / r.seconds), rate(written.auditLines / r.seconds), r.maxRssMiB.toFixed(0)]),
  };
  const filesPerS = written.files / first.seconds;
  const dbMiB = fs.statSync(db).size / 2 ** 20;
  return {
    params: { files: written.files, proposals: written.proposals, responses: written.responses, auditLines: written.auditLines, batchSize: 500 },
    tables: [table],
    targets: [{ name: `import of ${written.files.toLocaleString('en-US')} legacy files`, target: `>= ${rate(TARGET_FILES_PER_S)} files/s`, actual: `${rate(filesPerS)} files/s`, met: filesPerS >= TARGET_FILES_PER_S }],
    notes: [
      `Tree generated in ${generateS.toFixed(0)} s (not measured): ${written.proposals.toLocaleString('en-US')} proposals and ${written.responses.toLocaleString('en-US')} responses over 10 bottles, a quarter of the proposals (with their responses) under processed/, ${written.auditLines.toLocaleString('en-US')} audit lines in one log.`,
      `Files per second counts queue files only; each run also reads the audit log. The database ends at ${dbMiB.toFixed(0)} MiB. Default batch size (500 per transaction, synchronous=FULL).`,
      `The dry run took ${dry.seconds.toFixed(2)} s; the second import, which finds every row already there, ${second.seconds.toFixed(2)} s.`,
    ],
    data: { runs: runs.map(({ label, seconds, maxRssMiB }) => ({ label, seconds, maxRssMiB })), generateS, written },
  };
});
