import fs from 'node:fs';
import path from 'node:path';
import { validateSlug } from '../core/validation.js';
import type { Collector } from './summary.js';
import { classifyEntry, listDir, treeDir } from './tree.js';

export interface QueueFile {
  rel: string;
  /** Where it sits in the tree; its name says its proposal and role. */
  abs: string;
  /** Where it is read: `abs`, or what a link inside the tree points to. */
  source: string;
  /** Why it is not read at all (a link out of the tree, a loop, a link to nothing). */
  refused?: string;
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

function scanSlugDir(abs: string, rel: string, processed: boolean, root: string, collector: Collector, out: QueueFile[]): void {
  for (const entry of listDir(abs, rel, collector) ?? []) {
    const entryAbs = path.join(abs, entry.name);
    const entryRel = `${rel}/${entry.name}`;
    const found = classifyEntry(entryAbs, root);
    const role = RESPONSE_NAME.test(entry.name) ? 'response' : 'proposal';
    const isJson = entry.name.toLowerCase().endsWith('.json');
    if (found.type === 'dir' && entry.name === 'processed' && !processed) {
      scanSlugDir(found.source, entryRel, true, root, collector, out);
    } else if (found.type === 'file' && isJson) {
      out.push({ rel: entryRel, abs: entryAbs, source: found.source, role, processed });
    } else if (found.type === 'refused' && isJson) {
      // Still a queue file by its name: counted, and reported as one that could not be read.
      out.push({ rel: entryRel, abs: entryAbs, source: entryAbs, refused: found.reason, role, processed });
    } else if (found.type === 'refused') {
      collector.refuse(entryRel, found.reason);
    } else {
      collector.ignore(entryRel);
    }
  }
}

function stemOf(file: QueueFile): string {
  const name = path.basename(file.abs);
  return ((file.role === 'response' ? RESPONSE_NAME : PROPOSAL_NAME).exec(name)?.[1] ?? name).toString();
}

function mtimeOf(file: QueueFile): number {
  return file.refused === undefined ? (fs.lstatSync(file.source, { throwIfNoEntry: false })?.mtimeMs ?? 0) : 0;
}

/**
 * Every file under `queue/<slug>/`, grouped per proposal, oldest group first. Files of a directory
 * that is not a valid slug cannot be imported at all; they come back as `invalid`, with the reason.
 */
export function scanQueue(from: string, collector: Collector): { groups: Group[]; invalid: Array<{ file: QueueFile; reason: string }> } {
  const root = fs.realpathSync(from);
  const queueAbs = treeDir(root, 'queue', collector);
  const groups = new Map<string, Group>();
  const invalid: Array<{ file: QueueFile; reason: string }> = [];
  if (queueAbs === undefined) return { groups: [], invalid };
  for (const entry of listDir(queueAbs, 'queue', collector) ?? []) {
    const rel = `queue/${entry.name}`;
    const found = classifyEntry(path.join(queueAbs, entry.name), root);
    if (found.type !== 'dir') {
      if (found.type === 'refused') collector.refuse(rel, found.reason);
      else collector.ignore(rel);
      continue;
    }
    const files: QueueFile[] = [];
    scanSlugDir(found.source, rel, false, root, collector, files);
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
      group.mtimeMs = Math.min(group.mtimeMs, mtimeOf(file));
      groups.set(key, group);
    }
  }
  const ordered = [...groups.values()].sort((a, b) => a.mtimeMs - b.mtimeMs || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : a.stem < b.stem ? -1 : 1));
  return { groups: ordered, invalid };
}
