import { SuperviseError } from '../core/errors.js';
import { GENESIS_HASH, type AuditHead, type AuditStore } from './audit-store.js';

/**
 * A head kept outside the database catches what the chain alone cannot: a log cut short, or one
 * rewritten from scratch, is self-consistent, but no longer holds the kept entry with its hash.
 */
export type KeptHeadCheck = { expected: AuditHead; matches: true; newEntries: number } | { expected: AuditHead; matches: false; problem: string };

/** Reads `HASH:COUNT` as `audit verify` prints it; `source` names where the text came from (a flag, a file). */
export function parseKeptHead(text: string, source: string): AuditHead {
  const match = /^([0-9a-fA-F]{64}):(\d+)$/.exec(text.trim());
  if (!match || !Number.isSafeInteger(Number(match[2]))) {
    throw new SuperviseError(
      'usage',
      `${source} ${JSON.stringify(text)} is not a head: give HASH:COUNT exactly as \`bot-bottle audit verify\` printed it (64 hex characters, a colon, the entry count).`,
    );
  }
  return { hash: (match[1] as string).toLowerCase(), count: Number(match[2]) };
}

/** The kept head must still be in the log: entry COUNT exists and still has that hash. */
export function checkKeptHead(store: AuditStore, expected: AuditHead): KeptHeadCheck {
  const head = store.head();
  const kept = `${expected.hash}:${expected.count}`;
  if (head.count < expected.count) {
    return {
      expected,
      matches: false,
      problem: `the log ends at entry ${head.count}, but the kept head ${kept} is entry ${expected.count}: entries ${head.count + 1}–${expected.count} were removed from the end of the log.`,
    };
  }
  const actual = expected.count === 0 ? GENESIS_HASH : store.readAuditEntry(expected.count)?.hash;
  if (actual !== expected.hash) {
    return {
      expected,
      matches: false,
      problem:
        actual === undefined
          ? `entry ${expected.count} of the kept head ${kept} is missing from the log.`
          : `entry ${expected.count} has hash ${actual}, not the kept ${expected.hash}: the log was rewritten at or before entry ${expected.count}.`,
    };
  }
  return { expected, matches: true, newEntries: head.count - expected.count };
}
