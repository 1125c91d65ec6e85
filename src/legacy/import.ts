/**
 * `bot-bottle import-legacy`: the pre-SQLite queue directories and JSONL audit logs into the
 * database (docs/LEGACY-IMPORT.md). Originals are only read. Each batch of files commits in one
 * transaction and everything already imported is recognized, so an interrupted import is simply
 * run again, and a second run changes nothing.
 */
import { KindRegistry } from '../kinds/registry.js';
import { DEFAULT_BATCH_SIZE } from './batch-size.js';
import type { Db } from '../storage/connection.js';
import { applyAuditItem, auditItems, openAuditLogs, type AuditItem } from './audit-logs.js';
import { DatabaseTarget } from './database-target.js';
import { DryRunTarget } from './dry-run-target.js';
import { applyGroup } from './queue-apply.js';
import { parseGroup, type ParsedGroup } from './queue-groups.js';
import { scanQueue, type Group } from './queue-scan.js';
import { Collector, type LegacyImportSummary } from './summary.js';
import type { ImportTarget } from './target.js';
import { assertLegacyRoot } from './tree.js';

export interface LegacyImportOptions {
  /** The legacy state directory (the old `~/.bot-bottle`). */
  from: string;
  /** The database; may be absent in a dry run against a database that does not exist yet. */
  db?: Db;
  dryRun?: boolean;
  /** Queue files (or audit lines) per transaction. */
  batchSize?: number;
  onProgress?: (progress: { phase: 'queue' | 'audit'; done: number; total: number }) => void;
}

interface Run {
  target: ImportTarget;
  collector: Collector;
  batchSize: number;
  onProgress: LegacyImportOptions['onProgress'];
}

export async function importLegacy(options: LegacyImportOptions): Promise<LegacyImportSummary> {
  assertLegacyRoot(options.from);
  const dryRun = options.dryRun ?? false;
  if (!dryRun && !options.db) throw new Error('importLegacy needs a database unless it is a dry run');
  const run: Run = {
    target: dryRun ? new DryRunTarget(options.db) : new DatabaseTarget(options.db as Db, Date.now()),
    collector: new Collector(),
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    onProgress: options.onProgress,
  };
  await importQueue(options.from, run);
  await importAuditLogs(options.from, run);
  return run.collector.summarize(options.from, dryRun, run.target.writtenBySource());
}

/** Proposals and their answers, a batch of groups per transaction, oldest group first. */
async function importQueue(from: string, { target, collector, batchSize, onProgress }: Run): Promise<void> {
  const knownKinds = new Set(KindRegistry.withBuiltins().names());
  const { groups, invalid } = scanQueue(from, collector);
  const total = invalid.length + groups.reduce((n, g) => n + g.files.length, 0);
  let done = 0;
  for (const { file, reason } of invalid) {
    const unit = file.role === 'proposal' ? 'proposals' : 'responses';
    collector.read(unit);
    collector.settle([{ unit, result: 'malformed', path: file.rel, reason }]);
    done += 1;
  }
  onProgress?.({ phase: 'queue', done, total });
  for (let start = 0; start < groups.length; ) {
    const batch: ParsedGroup[] = [];
    let files = 0;
    for (; start < groups.length && files < batchSize; start += 1) {
      const parsed = parseGroup(groups[start] as Group);
      batch.push(parsed);
      files += parsed.group.files.length;
      for (const file of parsed.group.files) collector.read(file.role === 'proposal' ? 'proposals' : 'responses');
    }
    collector.settle(await target.batch(() => batch.flatMap((parsed) => applyGroup(target, parsed, knownKinds))));
    done += files;
    onProgress?.({ phase: 'queue', done, total });
  }
}

/** The audit logs merged by time, a batch of lines per transaction; progress counts bytes. */
async function importAuditLogs(from: string, { target, collector, batchSize, onProgress }: Run): Promise<void> {
  const { readers, bytes } = openAuditLogs(from, collector);
  let bytesDone = 0;
  let pending: AuditItem[] = [];
  const flush = async (): Promise<void> => {
    const items = pending;
    pending = [];
    collector.settle(await target.batch(() => items.map((item) => applyAuditItem(target, item))));
    onProgress?.({ phase: 'audit', done: bytesDone, total: bytes });
  };
  for await (const item of auditItems(readers, collector)) {
    bytesDone += item.bytes;
    // Blank lines are not entries: neither read nor counted.
    if (!('entry' in item) && item.reason === '') continue;
    collector.read('auditLines');
    pending.push(item);
    if (pending.length >= batchSize) await flush();
  }
  await flush();
}
