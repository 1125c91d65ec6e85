import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { canonicalAuditEntry, chainHash, type AuditEntry, type AuditFilter } from '../../audit/audit-store.js';
import { checkKeptHead, parseKeptHead } from '../../audit/kept-head.js';
import { validateSlug } from '../../core/validation.js';
import { ImportLedger } from '../../legacy/ledger.js';
import { verifyAnswers, type AnswerVerification } from '../../queue/answer-verification.js';
import { EXPORT_FORMATS, LIST_DEFAULT_LIMIT, type ExportFormat } from './defaults.js';
import { auditRecord, exportToFile, streamAuditExport } from './export.js';
import { checkLabelFilters } from './filter-values.js';
import { TerminalProgress } from './progress.js';
import { isClosedPipe } from '../closed-output.js';
import { colorsFor, parsePositiveInt, parseTime, printJson, UserError, withHostDatabase } from '../common.js';
import { VERB_EXIT } from '../../core/exit-codes.js';
import { safeLine } from '../../core/safe-text.js';
import { colorDiff, safeLines } from '../supervise/detail.js';
import type { Palette } from '../supervise/list-model.js';
import { isoTime, shortTime } from '../../core/time.js';

export interface FilterFlags {
  bottle?: string;
  component?: string;
  kind?: string;
  status?: string;
  action?: string;
  since?: string;
  until?: string;
}

function filterFrom(flags: FilterFlags): AuditFilter {
  const filter: AuditFilter = {};
  if (flags.bottle !== undefined) filter.slug = validateSlug(flags.bottle);
  if (flags.component !== undefined) filter.component = flags.component;
  if (flags.kind !== undefined) filter.kind = flags.kind;
  if (flags.status !== undefined) filter.status = flags.status;
  if (flags.action !== undefined) filter.action = flags.action;
  if (flags.since !== undefined) filter.since = parseTime(flags.since, '--since');
  if (flags.until !== undefined) filter.until = parseTime(flags.until, '--until');
  if (filter.since !== undefined && filter.until !== undefined && filter.since >= filter.until) {
    throw new UserError(`--since (${new Date(filter.since).toISOString()}) is not before --until (${new Date(filter.until).toISOString()}): nothing could match. Swap or widen them.`, VERB_EXIT.usage);
  }
  return filter;
}

function colorStatus(status: string | null, colors: Palette): string {
  const text = status ?? '-';
  switch (status) {
    case 'approved':
      return colors.green(text);
    case 'modified':
      return colors.yellow(text);
    case 'rejected':
      return colors.red(text);
    default:
      return colors.dim(text);
  }
}

/** The first line of `text`, display-safe and cut to `width` characters, with … when anything was left out. */
function firstLine(text: string, width: number): string {
  const line = [...safeLine(text.split('\n', 1)[0] ?? '')];
  return line.length > width || text.includes('\n') ? `${line.slice(0, width - 1).join('')}…` : line.join('');
}

/**
 * Entries hold what bottles sent (notes and diffs quote it) and sidecars write entries of their
 * own, so every cell is display-safe.
 */
function printTable(entries: AuditEntry[], colors: Palette): void {
  const header = ['SEQ', 'TIME', 'BOTTLE', 'COMPONENT', 'ACTION', 'KIND', 'STATUS', 'ACTOR', 'NOTES'];
  const rows = entries.map((e) => [
    String(e.seq),
    shortTime(e.ts),
    ...[e.slug, e.component, e.action, e.kind ?? '-', e.status ?? '-', e.actor].map(safeLine),
    e.notes === '' ? '' : firstLine(e.notes, 60),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const pad = (cells: string[], style: (cell: string, column: number) => string): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? style(cell, column) : style(cell, column) + ' '.repeat((widths[column] ?? 0) - cell.length)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${pad(header, (cell) => colors.bold(cell))}\n`);
  for (const row of rows) process.stdout.write(`${pad(row, (cell, column) => (column === 6 ? colorStatus(cell === '-' ? null : cell, colors) : cell))}\n`);
}

/** `bot-bottle audit list`: the newest entries, filtered. */
export async function auditList(flags: FilterFlags & { limit?: string; json?: boolean }, command: Command): Promise<void> {
  const filter: AuditFilter = { ...filterFrom(flags), order: 'desc', limit: flags.limit === undefined ? LIST_DEFAULT_LIMIT : parsePositiveInt(flags.limit, '--limit') };
  const entries = await withHostDatabase(
    command,
    ({ audit: store, queue }) => {
      const found = store.readAuditEntries(filter);
      // Nothing found may be a typo; a value that matched something is one there is.
      if (found.length === 0) checkLabelFilters(filter, store, queue.kinds);
      return found;
    },
    { existing: true },
  );
  if (flags.json) return printJson(entries.map(auditRecord));
  if (entries.length === 0) {
    const filtered = Object.keys(filter).some((key) => key !== 'order' && key !== 'limit');
    process.stderr.write(filtered ? 'No audit entries match. Widen the filters, or see everything with `bot-bottle audit list` alone.\n' : 'The audit log is empty.\n');
    return;
  }
  printTable(entries, colorsFor(process.stdout));
}

/** `bot-bottle audit show SEQ`: one entry in full. */
export async function auditShow(seqText: string, flags: { json?: boolean }, command: Command): Promise<void> {
  const seq = parsePositiveInt(seqText, 'the entry number');
  const { entry, head } = await withHostDatabase(command, ({ audit: store }) => ({ entry: store.readAuditEntry(seq), head: store.head() }), { existing: true });
  if (!entry) {
    throw new UserError(
      head.count === 0 ? `there is no audit entry ${seq}: the audit log is empty.` : `there is no audit entry ${seq}: the log has entries 1–${head.count}. List them with \`bot-bottle audit list\`.`,
      VERB_EXIT.input,
    );
  }
  const intact = chainHash(entry.prevHash, canonicalAuditEntry(entry)) === entry.hash;
  if (flags.json) return printJson({ ...auditRecord(entry), contentsMatchHash: intact });
  const colors = colorsFor(process.stdout);
  // Every stored text is shown display-safe: the entry quotes what a bottle sent, and a sidecar may have written it.
  const field = (name: string, value: string): string => `${colors.bold(name.padEnd(10))} ${value}\n`;
  process.stdout.write(
    [
      `${colors.bold(`Audit entry ${entry.seq}`)} of ${head.count}\n`,
      field('time', isoTime(entry.ts)),
      field('bottle', safeLine(entry.slug)),
      field('component', safeLine(entry.component)),
      field('action', safeLine(entry.action)),
      field('kind', safeLine(entry.kind ?? '-')),
      field('proposal', safeLine(entry.proposalId ?? '-')),
      field('status', colorStatus(entry.status === null ? null : safeLine(entry.status), colors)),
      field('actor', safeLine(entry.actor)),
      field('notes', entry.notes === '' ? colors.dim('(none)') : safeLines(entry.notes).join(`\n${' '.repeat(11)}`)),
      field('prev hash', safeLine(entry.prevHash)),
      field('hash', `${safeLine(entry.hash)} ${intact ? colors.green('(matches the contents)') : colors.red('(DOES NOT match the contents: run `bot-bottle audit verify`)')}`),
    ].join(''),
  );
  process.stdout.write(entry.diff === '' ? `\n${colors.dim('(no diff)')}\n` : `\n${colorDiff(entry.diff, colors).join('\n')}\n`);
}

function checkExportTarget(file: string, force: boolean): void {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new UserError(`cannot write ${file}: the directory ${dir} does not exist. Create it or pick another --output.`, VERB_EXIT.input);
  }
  const existing = fs.statSync(file, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw new UserError(`--output ${file} is a directory; name a file inside it.`, VERB_EXIT.input);
  if (existing && !force) throw new UserError(`${file} already exists. Pick another --output, or pass --force to replace it.`, VERB_EXIT.input);
}

/** `bot-bottle audit export`: the log, oldest first, as JSON Lines or CSV. */
export async function auditExport(flags: FilterFlags & { format: string; output?: string; force?: boolean }, command: Command): Promise<void> {
  if (!EXPORT_FORMATS.includes(flags.format as ExportFormat)) {
    throw new UserError(`--format ${JSON.stringify(flags.format)} is not supported: use ${EXPORT_FORMATS.join(' or ')}.`, VERB_EXIT.usage);
  }
  const format = flags.format as ExportFormat;
  const filter = filterFrom(flags);
  if (flags.output !== undefined) checkExportTarget(flags.output, flags.force ?? false);
  const count = await withHostDatabase(command, async ({ audit: store, queue }) => {
    checkLabelFilters(filter, store, queue.kinds);
    // Progress through the log by seq, so filtered exports move too.
    const bar = new TerminalProgress('exporting', 'entry');
    const total = store.head().count;
    bar.report(0, total);
    try {
      const run = (out: Writable): Promise<number> =>
        streamAuditExport(store.iterateAuditEntries(filter), format, out, { onChunk: (_written, lastSeq) => bar.report(lastSeq, total) });
      if (flags.output !== undefined) return await exportToFile(flags.output, run);
      try {
        return await run(process.stdout);
      } catch (error) {
        if (isClosedPipe(error)) return -1;
        throw error;
      }
    } finally {
      bar.stop();
    }
  }, { existing: true });
  if (flags.output !== undefined) process.stderr.write(`Exported ${count} audit entries to ${flags.output} (${format}).\n`);
}

/** `bot-bottle audit verify`: the chain, the kept head and every recorded answer. */
export async function auditVerify(flags: { expectHead?: string; json?: boolean }, command: Command): Promise<void> {
  const expected = flags.expectHead === undefined ? undefined : parseKeptHead(flags.expectHead, '--expect-head');
  const { result, expectation, answers } = await withHostDatabase(command, ({ audit: store, db, keyring }) => {
    const ledger = new ImportLedger(db, 0);
    const chain = new TerminalProgress('checking the audit chain', 'entry');
    const answered = new TerminalProgress('checking the recorded answers', 'answer');
    try {
      return {
        result: store.verify({ onProgress: (checked, total) => chain.report(checked, total) }),
        expectation: expected === undefined ? undefined : checkKeptHead(store, expected),
        answers: verifyAnswers(db, keyring, {
          isImported: (id) => ledger.has(`response:${id}`),
          onProgress: (checked, total) => {
            chain.stop();
            answered.report(checked, total);
          },
        }),
      };
    } finally {
      chain.stop();
      answered.stop();
    }
  }, { existing: true });
  const ok = result.ok && (expectation?.matches ?? true) && answers.problems.length === 0;
  if (!ok) process.exitCode = VERB_EXIT.failed;
  if (flags.json) return printJson({ ...result, ok, ...(expectation === undefined ? {} : { expectedHead: expectation }), answers });

  const colors = colorsFor(process.stdout);
  if (result.ok) {
    process.stdout.write(`${colors.green('The audit chain is intact:')} ${result.head.count} entries.\nhead ${result.head.hash}:${result.head.count}\n`);
  } else {
    process.stdout.write(
      `${colors.red(`The audit log was tampered with at entry ${result.firstBad.seq}:`)} ${result.firstBad.reason}.\n` +
        `Entries 1–${result.validPrefix.count} are intact (head ${result.validPrefix.hash}:${result.validPrefix.count}). Restore the database from a backup taken before the change, or keep this output as evidence.\n`,
    );
  }
  if (expectation?.matches === false) {
    process.stdout.write(`${colors.red('The log does not contain the kept head:')} ${expectation.problem}\n`);
  } else if (expectation?.matches) {
    const since = expectation.newEntries === 0 ? 'no entries since' : `${expectation.newEntries} entries since`;
    process.stdout.write(`The kept head ${expectation.expected.hash}:${expectation.expected.count} is in the log (${since}).\n`);
  }
  process.stdout.write(describeAnswers(answers, colors));
}

/** Whether every recorded answer is the rightful one, and each one that is not. */
function describeAnswers(answers: AnswerVerification, colors: Palette): string {
  const unsealed = answers.unsealed === 0 ? '' : ` (${answers.unsealed} recorded before seals existed: unsigned, but matching their decision entries)`;
  if (answers.problems.length === 0) {
    return `${colors.green('Every recorded answer checks out:')} ${answers.checked} answer${answers.checked === 1 ? '' : 's'}, each with its decision entry and its answerer's seal${unsealed}.\n`;
  }
  const lines = answers.problems.map((problem) => `  ${safeLine(problem.proposalId)} (bottle ${safeLine(problem.slug)}): ${safeLine(problem.reason)}`);
  return (
    `${colors.red(`${answers.problems.length} of ${answers.checked} recorded answers do not check out`)}${unsealed}; something with raw access to the database wrote or changed them, and no sidecar acts on such an answer:\n` +
    `${lines.join('\n')}\n`
  );
}
