import fs from 'node:fs';
import { SuperviseError } from '../core/errors.js';
import { MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { validateActor } from '../core/validation.js';
import type { KindRegistry } from '../kinds/registry.js';

/**
 * What the two `propose` commands (the host's and the sidecar's) take from their flags, checked
 * the same way in both before anything is opened or written.
 */

export interface SecondsRange {
  allowZero: boolean;
  max?: number;
}

/** `--wait 2.5` → 2500 ms. Only plain decimals: no signs, exponents or units. */
export function parseSeconds(raw: string, flag: string, range: SecondsRange): number {
  const seconds = Number(raw);
  const inRange = (range.allowZero || seconds > 0) && (range.max === undefined || seconds <= range.max);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(seconds) || !inRange) {
    const allowed = range.max !== undefined ? `(${range.allowZero ? 0 : 'above 0'} to ${range.max})` : range.allowZero ? '(0 or more)' : '(above 0)';
    throw new SuperviseError('usage', `${flag} ${JSON.stringify(raw)} is not valid: give a number of seconds ${allowed}, e.g. ${flag} 30.`);
  }
  return Math.round(seconds * 1000);
}

/** Reads a payload (or the file it replaces) named on the command line; `label` names it in errors. */
export function readPayloadFile(file: string, label: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
    if (!stat.isDirectory() && stat.size <= MAX_PAYLOAD_BYTES) return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new SuperviseError('invalid-input', `cannot read ${label} ${file} (${code}): pass a readable file.`);
  }
  if (stat.isDirectory()) throw new SuperviseError('invalid-input', `${label} ${file} is a directory; give the file itself.`);
  throw new SuperviseError('too-large', `${label} ${file} is ${stat.size} bytes, over the payload limit of ${MAX_PAYLOAD_BYTES} bytes.`);
}

/** Standard input as the CLIs see it: a terminal or a pipe. */
export type PayloadStream = AsyncIterable<Buffer | string> & { isTTY?: boolean };

/**
 * Reads the payload from standard input, giving up as soon as it passes the payload limit so an
 * endless pipe cannot exhaust memory. A terminal is refused rather than waited on.
 */
export async function readPayloadStream(stream: PayloadStream, flag: string): Promise<string> {
  if (stream.isTTY) throw new SuperviseError('usage', `${flag} reads the payload from a pipe, but stdin is a terminal. Pipe the payload in, or give a file instead.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    size += bytes.length;
    if (size > MAX_PAYLOAD_BYTES) throw new SuperviseError('too-large', `the payload on stdin is over the limit of ${MAX_PAYLOAD_BYTES} bytes.`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface ProposalDraft {
  kind: string;
  payload: string;
  /** Defaults to the kind's component (`git-gate` for `gitleaks-allow`). */
  origin?: string;
}

/**
 * The kind exists, the payload is valid for it and the origin is a valid actor. From a bottle
 * only upward kinds are accepted: a downward proposal is the launcher's to send.
 */
export function checkDraft(kinds: KindRegistry, draft: ProposalDraft, from: 'bottle' | 'host'): Required<ProposalDraft> {
  const kind = kinds.get(draft.kind);
  if (from === 'bottle' && kind.target !== 'operator') {
    const upward = kinds.names().filter((name) => kinds.get(name).target === 'operator');
    throw new SuperviseError('invalid-input', `${kind.name} proposals are sent by the launcher to this sidecar; a bottle cannot propose them. Upward kinds: ${upward.join(', ')}.`);
  }
  kinds.validate(kind.name, draft.payload);
  const origin = validateActor(draft.origin ?? kind.component, '--origin');
  return { kind: kind.name, payload: draft.payload, origin };
}
