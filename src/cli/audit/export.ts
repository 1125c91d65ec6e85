import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify/sync';
import { writeThroughPartial } from '../../admin/partial-file.js';
import type { AuditEntry } from '../../audit/audit-store.js';
import { safeJson } from '../../core/safe-text.js';
import { isoTime } from '../../core/time.js';

import type { ExportFormat } from './defaults.js';

/**
 * An entry as `audit list --json`, `audit show --json` and `audit export` print it: the stored
 * fields, with the time as ISO 8601 UTC like every time in the CLI's JSON (`Date.parse(time)` is the
 * hashed `ts` exactly: it keeps the milliseconds).
 */
export interface AuditRecord extends Omit<AuditEntry, 'ts'> {
  time: string;
}

export function auditRecord(entry: AuditEntry): AuditRecord {
  return {
    seq: entry.seq,
    time: isoTime(entry.ts),
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

const CSV_COLUMNS: Array<keyof AuditRecord> = ['seq', 'time', 'slug', 'component', 'action', 'proposalId', 'kind', 'status', 'actor', 'notes', 'diff', 'prevHash', 'hash'];

/**
 * The rendered text is encoded into one of two reused buffers of this size and written from
 * there: one is being filled while the other is written. Writing strings instead made a new
 * buffer per write outside the V8 heap, freed only when a collection found its wrapper dead, and
 * those piled up in malloc's heap.
 */
const BUFFER_BYTES = 256 * 1024;
/** UTF-8 needs at most 3 bytes per UTF-16 code unit. */
const MAX_BYTES_PER_CHAR = 3;

export interface ExportProgress {
  /** Called after each chunk with how many entries were written and the last one's seq. */
  onChunk?: (written: number, lastSeq: number) => void;
}

/**
 * One entry's text. An entry at a time on purpose: what is alive when V8 collects the young
 * generation is copied, and moved to the old generation the second time. The export used to hold
 * 1,000 entries and their text (a megabyte) at most collections, so the old generation filled with
 * dead chunks; and V8 doubles the young generation (16 MB more) once enough bytes have survived.
 */
function render(entry: AuditEntry, format: ExportFormat): string {
  // The same values as JSON.stringify, with a bottle's control characters as \u escapes: a terminal can show the export.
  return format === 'jsonl' ? `${safeJson(auditRecord(entry), 0)}\n` : csvRow(auditRecord(entry));
}

/**
 * One CSV record exactly as csv-stringify writes it with { columns: CSV_COLUMNS, escape_formulas:
 * true } (the header still comes from csv-stringify; tests/cli-audit.test.ts compares the two on
 * awkward cells). csv-stringify made several objects per cell, so CSV made far more garbage than
 * JSONL, and V8 doubled its young generation (16 MB) partway through a long export.
 */
function csvRow(record: AuditRecord): string {
  let row = '';
  for (let i = 0; i < CSV_COLUMNS.length; i++) {
    if (i > 0) row += ',';
    row += csvCell(record[CSV_COLUMNS[i] as keyof AuditRecord]);
  }
  return `${row}\n`;
}

/**
 * Quoted when it holds a quote, a comma, \n or \r, quotes doubled; empty for null. Spreadsheets run
 * cells that start with = + - @ (or a tab, \r, or their full-width forms); diffs start with '=':
 * such a cell gets a leading ' (not a number's minus sign). JSONL keeps the exact text. CSV is data
 * for a file and a spreadsheet, not for a terminal: its cells keep the exact text.
 */
function csvCell(field: string | number | null): string {
  if (field === null || field === '') return '';
  let value = typeof field === 'number' ? numberText(field) : field;
  const hasQuote = value.includes('"');
  const quoted = hasQuote || value.includes(',') || value.includes('\n') || value.includes('\r');
  if (FORMULA_STARTS.has(value[0] as string) && !(typeof field === 'number' && value[0] === '-')) value = `'${value}`;
  if (hasQuote) value = value.replaceAll('"', '""');
  return quoted ? `"${value}"` : value;
}

const FORMULA_STARTS = new Set(['-', '=', '+', '@', '\t', '\r', '\uFF1D', '\uFF0B', '\uFF0D', '\uFF20']);

/**
 * A number as csv-stringify writes it (`'' + value`), without V8's number-to-string cache: the
 * cache kept the text of every seq alive past young-generation collections, and those
 * strings filled the old generation. JSON.stringify writes the same digits for every finite number
 * without going through the cache.
 */
function numberText(value: number): string {
  return Number.isFinite(value) ? JSON.stringify(value) : `${value}`;
}

interface Slot {
  buffer: Buffer;
  /** Settles when the stream is done with the buffer's last write (or it was never written). */
  written: Promise<void>;
}

/**
 * Writes text to `out` through two reused buffers, so at most two buffers' worth is ever waiting
 * in the stream (its backpressure: a buffer is refilled only once the stream called back for it).
 * The first error the stream reports (a closed pipe, a full disk) is thrown by the next call.
 */
class BufferedWriter {
  readonly #out: Writable;
  readonly #slots: Slot[] = [0, 1].map(() => ({ buffer: Buffer.allocUnsafeSlow(BUFFER_BYTES), written: Promise.resolve() }));
  #current = 0;
  #used = 0;
  #failure: { error: unknown } | undefined;
  readonly #onError = (error: unknown): void => {
    this.#failure ??= { error };
  };

  constructor(out: Writable) {
    this.#out = out;
    out.on('error', this.#onError);
  }

  /** Copies `text` into the current buffer if it surely fits, and says whether it did. */
  put(text: string): boolean {
    if (this.#used + text.length * MAX_BYTES_PER_CHAR > BUFFER_BYTES || this.#failure) return false;
    this.#used += this.#slot().buffer.write(text, this.#used);
    return true;
  }

  /** Hands the current buffer to the stream, then copies `text` into the next one (or writes it as it is, if bigger). */
  async add(text: string): Promise<void> {
    await this.flush();
    this.#check();
    if (this.put(text)) return;
    // An entry bigger than a buffer (long diffs and detail) goes as it is.
    await this.#write(text);
    this.#check();
  }

  /** Hands the current buffer to the stream and moves to the other one. */
  async flush(): Promise<void> {
    if (this.#used === 0) return;
    const slot = this.#slot();
    const used = this.#used;
    this.#used = 0;
    this.#current = 1 - this.#current;
    this.#check();
    slot.written = this.#write(slot.buffer.subarray(0, used));
    // Waits for the other buffer, so that one can be refilled; this one is written meanwhile.
    await this.#slot().written;
  }

  /** Writes what is left and waits until the stream has it all; ends `out` (and waits for it) when `end`. */
  async finish(end: boolean): Promise<void> {
    await this.flush();
    await Promise.all(this.#slots.map((slot) => slot.written));
    this.#check();
    if (end) {
      this.#out.end();
      await finished(this.#out);
    }
    if (this.#failure) throw this.#failure.error;
  }

  release(): void {
    this.#out.off('error', this.#onError);
  }

  #slot(): Slot {
    return this.#slots[this.#current] as Slot;
  }

  /** Settles once the stream is done with `chunk`; never rejects (a failure is thrown by the next #check). */
  #write(chunk: Buffer | string): Promise<void> {
    return new Promise((resolve) => {
      this.#out.write(chunk, (error) => {
        if (error) this.#failure ??= { error };
        resolve();
      });
    });
  }

  #check(): void {
    if (this.#failure) throw this.#failure.error;
    if (this.#out.destroyed || this.#out.writableEnded) throw new Error('the export output was closed before the export finished');
  }
}

/**
 * Writes `entries` to `out` as JSONL or CSV. Pulls from the iterator only as fast as `out`
 * takes the text, a few entries at a time, so memory does not grow with the log.
 * Resolves with the number of entries written.
 */
export async function streamAuditExport(entries: Iterable<AuditEntry>, format: ExportFormat, out: Writable, progress: ExportProgress = {}): Promise<number> {
  const writer = new BufferedWriter(out);
  let written = 0;
  let lastSeq = 0;
  // Synchronous while the text fits in the current buffer: an await per entry costs time and
  // keeps promises alive across collections.
  const add = async (text: string): Promise<void> => {
    if (writer.put(text)) return;
    await writer.add(text);
    // A buffer went to the stream: what a person watching sees move.
    progress.onChunk?.(written, lastSeq);
  };
  try {
    if (format === 'csv') await add(stringify([], { header: true, columns: CSV_COLUMNS }));
    for (const entry of entries) {
      const text = render(entry, format);
      written += 1;
      lastSeq = entry.seq;
      if (!writer.put(text)) await add(text);
    }
    await writer.finish(out !== process.stdout);
    if (written > 0) progress.onChunk?.(written, lastSeq);
  } finally {
    writer.release();
  }
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
      // Not out.destroy(): it would close the fd, which writeThroughPartial closes itself (the
      // second close failed with EBADF and hid this error). Ending lets a write still in flight
      // finish before the partial file is closed and removed.
      out.end();
      await finished(out).catch(() => undefined);
      throw error;
    }
  });
}
