import module from 'node:module';
import path from 'node:path';

type EnableCompileCache = (directory?: string) => unknown;

/**
 * Where the compiled code is kept: the user's own cache directory, never the shared default under
 * /tmp, where another user could plant code for this process to run. No home, no cache.
 */
export function compileCacheDirectory(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const base = env.XDG_CACHE_HOME || (env.HOME ? path.join(env.HOME, '.cache') : undefined);
  return base === undefined ? undefined : path.join(base, 'bot-bottle', 'compile-cache');
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
