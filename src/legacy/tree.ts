import fs from 'node:fs';
import path from 'node:path';
import { SuperviseError } from '../core/errors.js';
import type { Collector } from './summary.js';

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

/** A directory's entries in name order (so every run walks the same way), or none when it cannot be read. */
export function listDir(abs: string, rel: string, collector: Collector): fs.Dirent[] | undefined {
  try {
    return fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    collector.unreadable(rel, error);
    return undefined;
  }
}

/** Symlinks count as what they point to; one pointing nowhere is a file that cannot be read. */
export function entryType(entry: fs.Dirent, abs: string): 'file' | 'dir' | 'other' {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'dir';
  if (entry.isSymbolicLink()) {
    const stat = fs.statSync(abs, { throwIfNoEntry: false });
    if (!stat || stat.isFile()) return 'file';
    if (stat.isDirectory()) return 'dir';
  }
  return 'other';
}
