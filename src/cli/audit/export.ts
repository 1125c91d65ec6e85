import fs from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { writeThroughPartial } from '../../admin/partial-file.js';
import type { AuditEntry } from '../../audit/audit-store.js';
import { safeJson } from '../../core/safe-text.js';

export type ExportFormat = 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

/** An entry as `audit list --json`, `audit show --json` and `audit export` print it: the stored fields plus a readable time. */
export interface AuditRecord extends AuditEntry {
  time: string;
}

export function auditRecord(entry: AuditEntry): AuditRecord {
  return {
    seq: entry.seq,
    time: new Date(entry.ts).toISOString(),
    ts: entry.ts,
    slug: entry.slug,
    component: entry.component,
    action: entry.action,
    proposalId: entry.proposalId,
    kind: entry.kind,
    status: entry.status,
    actor: entry.actor,
    notes: entry.notes,
    diff: entry.diff,
    detail: entry.detail,
    prevHash: entry.prevHash,
    hash: entry.hash,
  };
}

const CSV_COLUMNS: Array<keyof AuditRecord> = ['seq', 'time', 'ts', 'slug', 'component', 'action', 'proposalId', 'kind', 'status', 'actor', 'notes', 'diff', 'prevHash', 'hash'];

/** Entries per chunk: big enough that per-write overhead vanishes, small enough that memory stays flat. */
const CHUNK_ENTRIES = 1000;

export interface ExportProgress {
  /** Called after each chunk with how many entries were written and the last one's seq. */
  onChunk?: (written: number, lastSeq: number) => void;
}

function render(batch: AuditEntry[], format: ExportFormat): string {
  const records = batch.map(auditRecord);
  // The same values as JSON.stringify, with a bottle's control characters as \u escapes: a terminal can show the export.
  if (format === 'jsonl') return records.map((record) => `${safeJson(record, 0)}\n`).join('');
  // Spreadsheets run cells that start with = + - @; diffs start with '='. JSONL keeps the exact text.
  // CSV is data for a file and a spreadsheet, not for a terminal: its cells keep the exact text.
  return stringify(records, { columns: CSV_COLUMNS, escape_formulas: true });
}

/**
 * Writes `entries` to `out` as JSONL or CSV. Pulls from the iterator only as fast as `out`
 * drains (a pipeline from a one-chunk-deep Readable), so memory does not grow with the log.
 * Resolves with the number of entries written.
 */
export async function streamAuditExport(entries: Iterable<AuditEntry>, format: ExportFormat, out: Writable, progress: ExportProgress = {}): Promise<number> {
  let written = 0;
  function* chunks(): Generator<string> {
    if (format === 'csv') yield stringify([], { header: true, columns: CSV_COLUMNS });
    let batch: AuditEntry[] = [];
    for (const entry of entries) {
      batch.push(entry);
      if (batch.length === CHUNK_ENTRIES) {
        yield flush();
      }
    }
    if (batch.length > 0) yield flush();

    function flush(): string {
      const text = render(batch, format);
      written += batch.length;
      progress.onChunk?.(written, batch.at(-1)?.seq ?? 0);
      batch = [];
      return text;
    }
  }
  const source = Readable.from(chunks(), { objectMode: true, highWaterMark: 1 });
  await pipeline(source, out, { end: out !== process.stdout });
  return written;
}

/**
 * Exports into `file` by way of `file.partial`, renamed only once everything is written, so an
 * interrupted export never leaves a short file under the real name (nor, on Ctrl-C, the partial
 * one). The partial file is made exclusively, never through a link, with mode 0600: the log
 * holds what agents asked for and why.
 */
export async function exportToFile(file: string, run: (out: Writable) => Promise<number>): Promise<number> {
  return writeThroughPartial(file, `${file}.partial`, async (partial) => {
    const out = fs.createWriteStream('', { fd: partial.fd, autoClose: false });
    try {
      return await run(out);
    } catch (error) {
      out.destroy();
      throw error;
    }
  });
}
