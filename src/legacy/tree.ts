import fs from 'node:fs';
import path from 'node:path';
import { SuperviseError } from '../core/errors.js';
import { cannotRead, type Collector } from './summary.js';

/** Refuses a directory that holds neither part of the legacy layout: probably the wrong --from. */
export function assertLegacyRoot(from: string): void {
  const stat = fs.statSync(from, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) {
    throw new SuperviseError('invalid-input', `${from} is not a directory. Point --from at the old bot-bottle state directory (the one holding queue/ and audit/).`);
  }
  if (!fs.existsSync(path.join(from, 'queue')) && !fs.existsSync(path.join(from, 'audit'))) {
    throw new SuperviseError('invalid-input', `${from} holds neither queue/ nor audit/, so there is nothing to import from it. Point --from at the old bot-bottle state directory.`);
  }
}

/**
 * `queue/` or `audit/` under the tree's root: where to list it, or undefined when it is absent or
 * a link out of the tree (reported). `root` is the tree's real path.
 */
export function treeDir(root: string, name: string, collector: Collector): string | undefined {
  const abs = path.join(root, name);
  if (!fs.lstatSync(abs, { throwIfNoEntry: false })) return undefined;
  const entry = classifyEntry(abs, root);
  if (entry.type === 'refused') collector.refuse(name, entry.reason);
  return entry.type === 'dir' ? entry.source : undefined;
}

/** A directory's entries in name order (so every run walks the same way), or none when it cannot be read. */
export function listDir(abs: string, rel: string, collector: Collector): fs.Dirent[] | undefined {
  try {
    return fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    collector.unreadable(rel, error);
    return undefined;
  }
}

/** What a directory entry is: where to read it when it is a file or directory of the tree, or why it is not read. */
export type TreeEntry = { type: 'file' | 'dir'; source: string } | { type: 'other' } | { type: 'refused'; reason: string };

/**
 * A symlink counts as what it points to while that stays inside the legacy tree (`root`, the
 * tree's real path). One pointing out of it is not followed: an old bottle could plant links in
 * its queue directory, and the import would read (and report) any file of the user's. A loop, or
 * a link to nothing, is a problem of that entry alone.
 */
export function classifyEntry(abs: string, root: string): TreeEntry {
  let entry: fs.Stats;
  try {
    entry = fs.lstatSync(abs);
  } catch (error) {
    return { type: 'refused', reason: cannotRead(error) };
  }
  if (entry.isFile()) return { type: 'file', source: abs };
  if (entry.isDirectory()) return { type: 'dir', source: abs };
  if (!entry.isSymbolicLink()) return { type: 'other' };
  let resolved: string;
  try {
    resolved = fs.realpathSync(abs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { type: 'refused', reason: code === 'ELOOP' ? 'is a symlink loop, so it was not followed' : cannotRead(error) };
  }
  if (resolved !== root && !resolved.startsWith(`${root}${path.sep}`)) return { type: 'refused', reason: 'is a symlink out of the legacy tree, so it was not followed' };
  const stat = fs.statSync(resolved, { throwIfNoEntry: false });
  if (stat?.isFile()) return { type: 'file', source: resolved };
  if (stat?.isDirectory()) return { type: 'dir', source: resolved };
  return { type: 'other' };
}

/**
 * Opens a file the scan classified, never through a link: one swapped in since the scan is
 * refused (ELOOP) instead of followed. Returns the descriptor and what it refers to.
 */
export function openInTree(source: string): { fd: number; stat: fs.Stats } {
  const fd = fs.openSync(source, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error(`${source} is not a regular file`), { code: 'EISDIR' });
    return { fd, stat };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}
