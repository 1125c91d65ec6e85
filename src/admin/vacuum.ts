import fs from 'node:fs';
import { SuperviseError } from '../core/errors.js';
import { checkpoint, openConnection, retryOnBusy } from '../storage/connection.js';
import { fileSizes, type FileSizes } from './status.js';

export interface VacuumResult {
  path: string;
  before: FileSizes;
  after: FileSizes;
  ms: number;
}

/**
 * Rebuilds the file without its free pages (what a prune left) and empties the WAL. SQLite writes
 * the new copy through the WAL while sidecars keep reading, so it needs about the file's size free
 * beside it; that is checked first, so a full disk is named before anything is written.
 */
export async function vacuumDatabase(file: string): Promise<VacuumResult> {
  const db = openConnection(file, { fileMustExist: true });
  try {
    const realPath = fs.realpathSync(file);
    const before = fileSizes(realPath);
    const free = fs.statfsSync(realPath);
    const available = free.bavail * free.bsize;
    const needed = 2 * before.db;
    if (available < needed) {
      throw new SuperviseError('disk-full', `vacuuming ${realPath} needs about ${needed} bytes free beside it and ${available} are. Free space on that filesystem (or prune less first) and run it again.`);
    }
    const started = performance.now();
    await retryOnBusy(() => db.exec('VACUUM'));
    checkpoint(db);
    return { path: realPath, before, after: fileSizes(realPath), ms: Math.round(performance.now() - started) };
  } finally {
    db.close();
  }
}
