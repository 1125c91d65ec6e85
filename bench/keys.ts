import path from 'node:path';
import { ensureBottleKeys, ensureHostKeyPair } from '../src/keys/key-files.js';

/**
 * Benchmarks keep their keys beside their temporary database, never in the real home: the host's
 * pair and each bottle's MAC key, as prepareSupervise would make them.
 */
export function benchKeysDir(dbFile: string): string {
  return path.join(path.dirname(dbFile), 'keys');
}

/** The key directory a bottle's sidecar reads, made once. */
export function benchBottleKeysDir(dbFile: string, slug: string): string {
  const dir = benchKeysDir(dbFile);
  return ensureBottleKeys(slug, ensureHostKeyPair(dir), dir);
}
