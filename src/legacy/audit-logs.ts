import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AuditEntry } from '../audit/audit-store.js';
import { MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { canonicalJson, LegacyShapeError, parseJsonObject, parseLegacyAuditLine, type LegacyAuditLine } from './shapes.js';
import type { Collector, Outcome } from './summary.js';
import type { ImportTarget } from './target.js';
import { classifyEntry, listDir, openInTree, treeDir } from './tree.js';

/** One line of a log: an entry with its dedup key, or the reason it is none (`''` for a blank line). */
export type AuditItem = { rel: string; line: number; bytes: number } & ({ entry: LegacyAuditLine; key: string } | { reason: string });

/** One `audit/<component>.jsonl`, read a line at a time; `head` is its next entry, not yet merged. */
interface LogReader {
  rel: string;
  component: string;
  lines: AsyncIterator<string>;
  lineNo: number;
  head?: AuditItem & { entry: LegacyAuditLine };
}

/** Opens every component's log; `bytes` is their total size, for progress. */
export function openAuditLogs(from: string, collector: Collector): { readers: LogReader[]; bytes: number } {
  const root = fs.realpathSync(from);
  const auditAbs = treeDir(root, 'audit', collector);
  const readers: LogReader[] = [];
  let bytes = 0;
  if (auditAbs === undefined) return { readers, bytes };
  for (const entry of listDir(auditAbs, 'audit', collector) ?? []) {
    const rel = `audit/${entry.name}`;
    const found = classifyEntry(path.join(auditAbs, entry.name), root);
    if (!entry.name.endsWith('.jsonl') || found.type === 'dir' || found.type === 'other') {
      collector.ignore(rel);
      continue;
    }
    if (found.type === 'refused') {
      collector.refuse(rel, found.reason);
      continue;
    }
    let stream: fs.ReadStream;
    try {
      // Opened now, so an unreadable log is reported as such rather than as an empty one.
      const { fd, stat } = openInTree(found.source);
      stream = fs.createReadStream('', { encoding: 'utf8', fd });
      bytes += stat.size;
    } catch (error) {
      collector.unreadable(rel, error);
      continue;
    }
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
    readers.push({ rel, component: entry.name.slice(0, -'.jsonl'.length), lines, lineNo: 0 });
  }
  return { readers, bytes };
}

function auditKey(component: string, object: Record<string, unknown>): string {
  return `audit:${createHash('sha256').update(component).update('\0').update(canonicalJson(object)).digest('hex')}`;
}

/** Moves `reader` to its next entry; the blank and malformed lines on the way go to `emit`. */
async function advance(reader: LogReader, emit: AuditItem[], collector: Collector): Promise<void> {
  reader.head = undefined;
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = await reader.lines.next();
    } catch (error) {
      collector.unreadable(reader.rel, error);
      return;
    }
    if (next.done) return;
    reader.lineNo += 1;
    const bytes = Buffer.byteLength(next.value, 'utf8') + 1;
    if (next.value.trim() === '') {
      emit.push({ rel: reader.rel, line: reader.lineNo, bytes, reason: '' });
      continue;
    }
    try {
      const object = parseJsonObject(next.value);
      const entry = parseLegacyAuditLine(object, reader.component);
      reader.head = { rel: reader.rel, line: reader.lineNo, bytes, entry, key: auditKey(entry.component, object) };
      return;
    } catch (error) {
      if (!(error instanceof LegacyShapeError)) throw error;
      emit.push({ rel: reader.rel, line: reader.lineNo, bytes, reason: error.message });
    }
  }
}

/** Every component's log merged by time, so the chain reads chronologically. */
export async function* auditItems(readers: LogReader[], collector: Collector): AsyncGenerator<AuditItem> {
  const emitted: AuditItem[] = [];
  for (const reader of readers) await advance(reader, emitted, collector);
  for (;;) {
    yield* emitted.splice(0);
    let oldest: LogReader | undefined;
    for (const reader of readers) if (reader.head && (!oldest?.head || reader.head.entry.ts < oldest.head.entry.ts)) oldest = reader;
    const item = oldest?.head;
    if (!oldest || !item) return;
    yield item;
    await advance(oldest, emitted, collector);
  }
}

/**
 * Whether a log entry is this legacy line as an import wrote it: every field the line sets, and no
 * detail (an import never writes one). Two lines that become the same entry are one line told twice.
 */
export function sameAuditEntry(entry: Omit<AuditEntry, 'seq' | 'prevHash' | 'hash'>, line: LegacyAuditLine): boolean {
  return (
    entry.detail === null &&
    entry.ts === line.ts &&
    entry.slug === line.slug &&
    entry.component === line.component &&
    entry.action === line.action &&
    entry.proposalId === line.proposalId &&
    entry.kind === line.kind &&
    entry.status === line.status &&
    entry.actor === line.actor &&
    entry.notes === line.notes &&
    entry.diff === line.diff
  );
}

/** Within the limits AuditStore enforces, so the write never refuses a line we counted as good. */
function auditLimitProblem(entry: LegacyAuditLine): string | undefined {
  if (Buffer.byteLength(entry.notes, 'utf8') > MAX_NOTES_BYTES) return `its notes (with the fields kept from the old entry) are over ${MAX_NOTES_BYTES} bytes`;
  if (Buffer.byteLength(entry.diff, 'utf8') > 2 * MAX_PAYLOAD_BYTES) return `its diff is over ${2 * MAX_PAYLOAD_BYTES} bytes`;
  return undefined;
}

/** Inside the batch's transaction: appends the line's entry unless an earlier run already did. */
export function applyAuditItem(target: ImportTarget, item: AuditItem): Outcome {
  const where = { path: item.rel, line: item.line };
  if (!('entry' in item)) return { unit: 'auditLines', result: 'malformed', ...where, reason: item.reason };
  // The ledger first; the log itself when the ledger lost its memory (rolled back past its migration).
  if (target.hasSource(item.key) || target.hasAuditEntry(item.entry)) return { unit: 'auditLines', result: 'alreadyPresent', ...where };
  const problem = auditLimitProblem(item.entry);
  if (problem) return { unit: 'auditLines', result: 'malformed', ...where, reason: problem };
  target.appendAudit(item.entry, { key: item.key, kind: 'audit', path: `${item.rel}:${item.line}` });
  return { unit: 'auditLines', result: 'imported', ...where };
}
