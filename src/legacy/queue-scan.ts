import fs from 'node:fs';
import path from 'node:path';
import { validateSlug } from '../core/validation.js';
import type { Collector } from './summary.js';
import { entryType, listDir } from './tree.js';

export interface QueueFile {
  rel: string;
  abs: string;
  role: 'proposal' | 'response';
  /** Found under `processed/`: its consumer had read the answer. */
  processed: boolean;
}

/** One proposal's files: its own, its response, and their processed/ copies. */
export interface Group {
  slug: string;
  stem: string;
  files: QueueFile[];
  /** Oldest modification time among its files: the import order, so pending proposals keep their FIFO order. */
  mtimeMs: number;
}

const RESPONSE_NAME = /^(.+?)(?:\.response|_response|-response|\.resp)\.json$/i;
const PROPOSAL_NAME = /^(.+?)(?:\.proposal)?\.json$/i;

function scanSlugDir(abs: string, rel: string, processed: boolean, collector: Collector, out: QueueFile[]): void {
  for (const entry of listDir(abs, rel, collector) ?? []) {
    const entryAbs = path.join(abs, entry.name);
    const entryRel = `${rel}/${entry.name}`;
    const type = entryType(entry, entryAbs);
    if (type === 'dir' && entry.name === 'processed' && !processed) {
      scanSlugDir(entryAbs, entryRel, true, collector, out);
    } else if (type === 'file' && entry.name.toLowerCase().endsWith('.json')) {
      out.push({ rel: entryRel, abs: entryAbs, role: RESPONSE_NAME.test(entry.name) ? 'response' : 'proposal', processed });
    } else {
      collector.ignore(entryRel);
    }
  }
}

function stemOf(file: QueueFile): string {
  const name = path.basename(file.abs);
  return ((file.role === 'response' ? RESPONSE_NAME : PROPOSAL_NAME).exec(name)?.[1] ?? name).toString();
}

function mtimeOf(abs: string): number {
  return fs.statSync(abs, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/**
 * Every file under `queue/<slug>/`, grouped per proposal, oldest group first. Files of a directory
 * that is not a valid slug cannot be imported at all; they come back as `invalid`, with the reason.
 */
export function scanQueue(from: string, collector: Collector): { groups: Group[]; invalid: Array<{ file: QueueFile; reason: string }> } {
  const queueAbs = path.join(from, 'queue');
  const groups = new Map<string, Group>();
  const invalid: Array<{ file: QueueFile; reason: string }> = [];
  if (!fs.existsSync(queueAbs)) return { groups: [], invalid };
  for (const entry of listDir(queueAbs, 'queue', collector) ?? []) {
    const abs = path.join(queueAbs, entry.name);
    const rel = `queue/${entry.name}`;
    if (entryType(entry, abs) !== 'dir') {
      collector.ignore(rel);
      continue;
    }
    const files: QueueFile[] = [];
    scanSlugDir(abs, rel, false, collector, files);
    let slugProblem: string | undefined;
    try {
      validateSlug(entry.name);
    } catch (error) {
      slugProblem = `its directory is not a valid bottle slug: ${(error as Error).message}`;
    }
    for (const file of files) {
      if (slugProblem) {
        invalid.push({ file, reason: slugProblem });
        continue;
      }
      const stem = stemOf(file);
      const key = `${entry.name}\0${stem}`;
      const group = groups.get(key) ?? { slug: entry.name, stem, files: [], mtimeMs: Number.POSITIVE_INFINITY };
      group.files.push(file);
      group.mtimeMs = Math.min(group.mtimeMs, mtimeOf(file.abs));
      groups.set(key, group);
    }
  }
  const ordered = [...groups.values()].sort((a, b) => a.mtimeMs - b.mtimeMs || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : a.stem < b.stem ? -1 : 1));
  return { groups: ordered, invalid };
}
