import fs from 'node:fs/promises';
import { MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import { sha256 } from '../src/core/hash.js';
import type { Log } from './log-line.js';

export interface CurrentRoutes {
  /** The live file's text when it could be read and fits in a proposal; the operator's diff is against it. */
  text: string | undefined;
  /** sha256 of the live file, or of the empty file the diff is shown against when there is none. */
  hash: string;
}

export interface LiveRoutes {
  /** The whole file; empty when it does not exist yet (the proxy then has no routes). */
  text: string;
  hash: string;
}

/** The live routes file as it is now. Throws for anything but a missing file: an unreadable live file is not an empty one. */
export async function readLiveRoutes(routesFile: string): Promise<LiveRoutes> {
  let text: string;
  try {
    text = await fs.readFile(routesFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = '';
  }
  return { text, hash: sha256(text) };
}

/** Only a text within the payload limit goes into a proposal or a heartbeat; the hash always does. */
export function withinPayloadLimit(text: string): string | undefined {
  return Buffer.byteLength(text, 'utf8') <= MAX_PAYLOAD_BYTES ? text : undefined;
}

/**
 * What a routes proposal replaces (for the operator's diff and stale-proposal detection). A file
 * that does not exist yet is the empty file; an unreadable one is reported and treated as unknown.
 */
export async function readCurrentRoutes(routesFile: string | undefined, log: Log): Promise<CurrentRoutes> {
  if (!routesFile) return { text: undefined, hash: sha256('') };
  try {
    const live = await readLiveRoutes(routesFile);
    return { text: withinPayloadLimit(live.text), hash: live.hash };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    log(`cannot read the live routes file ${routesFile} (${code ?? String(error)}); proposals are shown against an empty file.`, 'warn');
    return { text: undefined, hash: sha256('') };
  }
}
