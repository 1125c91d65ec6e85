import fs from 'node:fs';
import { MAX_COLUMN_BYTES } from '../core/limits.js';
import type { Group, QueueFile } from './queue-scan.js';
import { LegacyShapeError, parseJsonObject, parseLegacyProposal, parseLegacyResponse, type FileContext, type LegacyProposal, type LegacyResponse } from './shapes.js';
import { cannotRead } from './summary.js';
import { openInTree } from './tree.js';

/** No queue file of the old system comes near this; a bigger one is not one of them (and no column the import writes can exceed it). */
export const MAX_LEGACY_FILE_BYTES = MAX_COLUMN_BYTES;

/** A file read and parsed: its value, or the reason it has none. */
export interface Parsed<T> {
  file: QueueFile;
  value?: T;
  reason?: string;
}

export interface ParsedGroup {
  group: Group;
  proposals: Array<Parsed<LegacyProposal>>;
  responses: Array<Parsed<LegacyResponse>>;
}

function readQueueFile<T>(file: QueueFile, context: FileContext, parse: (object: Record<string, unknown>, context: FileContext) => T): Parsed<T> {
  if (file.refused !== undefined) return { file, reason: file.refused };
  let opened: { fd: number; stat: fs.Stats };
  try {
    opened = openInTree(file.source);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { file, reason: code === 'ELOOP' ? 'became a symlink after the import looked at it, so it was not followed' : cannotRead(error) };
  }
  try {
    const { fd, stat } = opened;
    if (stat.size > MAX_LEGACY_FILE_BYTES) return { file, reason: `${stat.size} bytes, larger than any queue file (limit ${MAX_LEGACY_FILE_BYTES})` };
    return { file, value: parse(parseJsonObject(fs.readFileSync(fd, 'utf8')), { ...context, mtimeMs: stat.mtimeMs }) };
  } catch (error) {
    if (error instanceof LegacyShapeError) return { file, reason: error.message };
    return { file, reason: cannotRead(error) };
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** Reads a group's files, the processed/ copies first: they are the later state of the same proposal, so they are the ones imported. */
export function parseGroup(group: Group): ParsedGroup {
  const context: FileContext = { slug: group.slug, stem: group.stem, mtimeMs: 0 };
  const files = [...group.files].sort((a, b) => Number(b.processed) - Number(a.processed));
  return {
    group,
    proposals: files.filter((f) => f.role === 'proposal').map((f) => readQueueFile(f, context, parseLegacyProposal)),
    responses: files.filter((f) => f.role === 'response').map((f) => readQueueFile(f, context, parseLegacyResponse)),
  };
}
