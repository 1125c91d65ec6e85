import fs from 'node:fs/promises';
import { MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import { sha256 } from '../src/core/hash.js';

export interface CurrentRoutes {
  /** The live file's text when it could be read and fits in a proposal; the operator's diff is against it. */
  text: string | undefined;
  /** sha256 of the live file, or of the empty file the diff is shown against when there is none. */
  hash: string;
}

/**
 * What a routes proposal replaces (for the operator's diff and stale-proposal detection). A file
 * that does not exist yet is the empty file; an unreadable one is reported and treated as unknown.
 */
export async function readCurrentRoutes(routesFile: string | undefined, log: (line: string) => void): Promise<CurrentRoutes> {
  if (!routesFile) return { text: undefined, hash: sha256('') };
  let text: string;
  try {
    text = await fs.readFile(routesFile, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { text: '', hash: sha256('') };
    log(`cannot read the live routes file ${routesFile} (${code ?? String(error)}); proposals are shown against an empty file.`);
    return { text: undefined, hash: sha256('') };
  }
  return { text: Buffer.byteLength(text, 'utf8') <= MAX_PAYLOAD_BYTES ? text : undefined, hash: sha256(text) };
}
