import fs from 'node:fs';
import module from 'node:module';
import path from 'node:path';

type EnableCompileCache = (directory?: string) => unknown;

/**
 * Where the compiled code is kept: the user's own cache directory, never the shared default under
 * /tmp, where another user could plant code for this process to run. No home, no cache; and none
 * under a home that does not exist (Node's recursive mkdir never returns under a missing /proc path).
 */
export function compileCacheDirectory(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const home = env.XDG_CACHE_HOME || env.HOME;
  if (!home || !isDirectory(home)) return undefined;
  return path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'bot-bottle', 'compile-cache');
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Lets Node keep V8's compiled code of every module this process loads and reuse it on the next
 * start (Node ≥ 22.1; Node 20 has no such cache and nothing happens). The bins call it before they
 * import anything else.
 */
export function enableCompileCache(): void {
  const enable = (module as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  const directory = compileCacheDirectory();
  // A directory it cannot write is reported in the returned status, not thrown: the program runs uncached.
  if (enable !== undefined && directory !== undefined) enable(directory);
}
