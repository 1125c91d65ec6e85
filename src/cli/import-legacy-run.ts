import fs from 'node:fs';
import path from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { openConnection, type Db } from '../storage/connection.js';
import { DEFAULT_BATCH_SIZE } from '../legacy/batch-size.js';
import { importLegacy, type LegacyImportOptions } from '../legacy/import.js';
import type { LegacyImportSummary, UnitCounts } from '../legacy/summary.js';
import { assertLegacyRoot } from '../legacy/tree.js';
import { stateDir } from '../storage/layout.js';
import { colorsFor, databasePathFor, parsePositiveInt, printJson, withHostDatabase } from './common.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { safeLine } from '../core/safe-text.js';

export interface ImportFlags {
  from?: string;
  dryRun?: boolean;
  batchSize?: string;
  json?: boolean;
}

/** One bar per phase (queue files, then audit bytes), for a person watching a terminal. */
function progressReporter(): { onProgress: LegacyImportOptions['onProgress']; stop: () => void } {
  if (!process.stderr.isTTY) return { onProgress: undefined, stop: () => undefined };
  let bar: SingleBar | undefined;
  let phase: string | undefined;
  const stop = (): void => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onProgress: (progress) => {
      if (progress.total === 0) return;
      if (phase !== progress.phase) {
        stop();
        phase = progress.phase;
        const unit = progress.phase === 'queue' ? 'queue files' : 'bytes of audit logs';
        bar = new SingleBar({ stream: process.stderr, format: `${progress.phase.padEnd(5)} [{bar}] {percentage}% | {value}/{total} ${unit}`, hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
        bar.start(progress.total, 0);
      }
      bar?.update(progress.done);
    },
    stop,
  };
}

function printSummary(summary: LegacyImportSummary): void {
  const colors = colorsFor(process.stdout);
  const rows: Array<[string, UnitCounts]> = [
    ['proposals', summary.proposals],
    ['responses', summary.responses],
    ['audit lines', summary.auditLines],
  ];
  const out: string[] = [];
  out.push(summary.dryRun ? `Dry run of an import from ${summary.from}: nothing was written.\n` : `Imported from ${summary.from} (the originals are left in place).\n`);
  out.push(colors.bold(`${''.padEnd(12)}${'read'.padStart(9)}${(summary.dryRun ? 'would import' : 'imported').padStart(14)}${'already there'.padStart(15)}${'malformed'.padStart(11)}\n`));
  for (const [name, c] of rows) {
    out.push(`${name.padEnd(12)}${String(c.read).padStart(9)}${String(c.imported).padStart(14)}${String(c.alreadyPresent).padStart(15)}${(c.malformed ? colors.red : String)(String(c.malformed).padStart(11))}\n`);
  }
  if (summary.problems.length > 0) {
    out.push(colors.red(`\n${summary.problems.length} problem${summary.problems.length === 1 ? '' : 's'} (those files and lines were not imported; everything else was):\n`));
    // Bottles named these files: their names are shown display-safe.
    for (const problem of summary.problems) out.push(`  ${safeLine(problem.path)}${problem.line !== undefined ? ` line ${problem.line}` : ''}: ${safeLine(problem.reason)}\n`);
    out.push('Fix or remove them and run the import again: what was imported is recognized and skipped.\n');
  }
  if (summary.ignored.count > 0) {
    out.push(`\nLeft alone ${summary.ignored.count} path${summary.ignored.count === 1 ? '' : 's'} that are not part of the legacy layout (${summary.ignored.examples.slice(0, 5).map(safeLine).join(', ')}${summary.ignored.count > 5 ? ', …' : ''}).\n`);
  }
  out.push(
    summary.countsVerified
      ? `\n${colors.green('Counts check out:')} for each kind, read = ${summary.dryRun ? 'would import' : 'imported'} + already there + malformed${summary.dryRun ? '' : ', and the database recorded every import'}.\n`
      : `\n${colors.red('The counts do not add up:')} ${summary.countMismatch}. This is a bug; keep the originals and report it.\n`,
  );
  process.stdout.write(out.join(''));
}

/** A dry run writes nothing, not even a new database: it reads the existing one, if any. */
function openForDryRun(command: Command): Db | undefined {
  const file = databasePathFor(command);
  return fs.existsSync(file) && fs.statSync(file).size > 0 ? openConnection(file, { readonly: true }) : undefined;
}

/** `bot-bottle import-legacy`: the old state directory into the database, or a dry run that writes nothing. */
export async function importLegacyVerb(flags: ImportFlags, command: Command): Promise<void> {
  const from = path.resolve(flags.from ?? stateDir());
  const batchSize = flags.batchSize === undefined ? DEFAULT_BATCH_SIZE : parsePositiveInt(flags.batchSize, '--batch-size');
  // Before the database is opened (and perhaps created): a wrong --from writes nothing.
  assertLegacyRoot(from);
  const progress = progressReporter();
  const run = async (db: Db | undefined): Promise<LegacyImportSummary> => {
    try {
      return await importLegacy({ from, ...(db ? { db } : {}), dryRun: flags.dryRun ?? false, batchSize, onProgress: progress.onProgress });
    } finally {
      progress.stop();
    }
  };
  let summary: LegacyImportSummary;
  if (flags.dryRun) {
    const db = openForDryRun(command);
    try {
      summary = await run(db);
    } finally {
      db?.close();
    }
  } else {
    summary = await withHostDatabase(command, ({ db }) => run(db));
  }
  if (summary.problems.length > 0 || !summary.countsVerified) process.exitCode = VERB_EXIT.failed;
  if (flags.json) printJson(summary);
  else printSummary(summary);
}
