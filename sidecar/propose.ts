import fs from 'node:fs/promises';
import { isSuperviseError } from '../src/core/errors.js';
import { KIND_EGRESS_ALLOW } from '../src/kinds/egress-allow.js';
import { KIND_EGRESS_BLOCK } from '../src/kinds/egress-block.js';
import { KindRegistry } from '../src/kinds/registry.js';
import { MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import { validateActor, validateTextSize } from '../src/core/validation.js';
import { ConfigError, MAX_RESPONSE_TIMEOUT_SECONDS, readConfig } from './config.js';
import { readCurrentRoutes } from './current-routes.js';
import { idempotencyBase, resumeWait, submitAndWait, type ProposalResult } from './proposal-flow.js';
import { describeResult } from './result-text.js';
import { StartupRefusal, openSidecarStorage } from './startup.js';
import { PROPOSE_EXIT } from '../src/core/exit-codes.js';

export interface ProposeOptions {
  kind?: string;
  payloadFile?: string;
  justification?: string;
  wait?: string;
  db?: string;
  proposalId?: string;
  origin?: string;
  finalFile?: string;
}

export interface ProposeIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (line: string) => void;
  readStdin: () => Promise<string>;
  /** Resolves (with the signal's name) when the caller is interrupted; the wait then ends as pending. */
  interrupted: Promise<string>;
}

/** A failure with the exit code it maps to; its message is what the caller reads. */
export class ProposeFailure extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'ProposeFailure';
    this.exitCode = exitCode;
  }
}

function parseWaitSeconds(raw: string | undefined, fallbackMs: number): number {
  if (raw === undefined) return fallbackMs;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || seconds > MAX_RESPONSE_TIMEOUT_SECONDS) {
    throw new ProposeFailure(`--wait ${JSON.stringify(raw)} is not valid: give seconds from 0 to ${MAX_RESPONSE_TIMEOUT_SECONDS} (0 enqueues and returns at once).`, PROPOSE_EXIT.input);
  }
  return Math.round(seconds * 1000);
}

async function readPayload(file: string, io: ProposeIo): Promise<string> {
  try {
    return file === '-' ? await io.readStdin() : await fs.readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ProposeFailure(`cannot read the payload file ${file} (${code}); pass a readable file, or - for standard input.`, PROPOSE_EXIT.input);
  }
}

const exitFor: Record<ProposalResult['status'], number> = {
  approved: PROPOSE_EXIT.approved,
  modified: PROPOSE_EXIT.approved,
  rejected: PROPOSE_EXIT.rejected,
  pending: PROPOSE_EXIT.pending,
  expired: PROPOSE_EXIT.expired,
  cancelled: PROPOSE_EXIT.cancelled,
};

/**
 * The shell callers' way in (git-gate's pre-receive hook): propose, wait, and say the outcome in
 * the exit code. Standard output carries the notes (or, when pending, the proposal id to resume).
 */
export async function propose(options: ProposeOptions, io: ProposeIo): Promise<number> {
  let config;
  try {
    config = readConfig(io.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new ProposeFailure(error.message, PROPOSE_EXIT.environment);
    throw error;
  }
  const timeoutMs = parseWaitSeconds(options.wait, config.responseTimeoutMs);
  const kinds = KindRegistry.withBuiltins();
  const request = options.proposalId === undefined ? await prepareNew(options, io, kinds) : undefined;
  if (options.kind !== undefined && request === undefined) guard(() => kinds.get(options.kind as string));

  let storage;
  try {
    storage = openSidecarStorage(options.db !== undefined ? { dbPath: options.db } : {});
  } catch (error) {
    if (error instanceof StartupRefusal) throw new ProposeFailure(error.message, PROPOSE_EXIT.environment);
    throw error;
  }
  const abort = new AbortController();
  void io.interrupted.then(() => abort.abort());
  try {
    const queue = storage.queue.forSlug(config.slug);
    const wait = { timeoutMs, signal: abort.signal };
    let result: ProposalResult;
    if (request) {
      const current = request.kind === KIND_EGRESS_ALLOW || request.kind === KIND_EGRESS_BLOCK ? await readCurrentRoutes(config.routesFile, io.stderr) : undefined;
      const input = {
        ...request,
        ...(current ? { currentFileHash: current.hash, ...(current.text !== undefined ? { currentFile: current.text } : {}) } : {}),
      };
      result = await guardAsync(() => submitAndWait(queue, { ...input, idempotencyBase: idempotencyBase(input.origin, input) }, wait));
    } else {
      result = await guardAsync(() => resumeWait(queue, options.proposalId as string, wait, options.kind));
    }
    return await report(result, timeoutMs, options, io);
  } finally {
    await storage.close();
  }
}

async function prepareNew(options: ProposeOptions, io: ProposeIo, kinds: KindRegistry) {
  if (options.kind === undefined || options.payloadFile === undefined) {
    throw new ProposeFailure('propose needs --kind and --payload-file (or --proposal-id to resume a pending proposal).', PROPOSE_EXIT.input);
  }
  const kind = guard(() => kinds.get(options.kind as string));
  if (kind.target !== 'operator') {
    throw new ProposeFailure(`${kind.name} proposals are sent by the launcher to this sidecar; a bottle cannot propose them. Upward kinds: ${operatorKinds(kinds)}.`, PROPOSE_EXIT.input);
  }
  const payload = await readPayload(options.payloadFile, io);
  guard(() => validateTextSize(payload, MAX_PAYLOAD_BYTES, 'payload'));
  guard(() => kinds.validate(kind.name, payload));
  const origin = guard(() => validateActor(options.origin ?? kind.component, '--origin'));
  return { kind: kind.name, origin, payload, justification: options.justification ?? '' };
}

function operatorKinds(kinds: KindRegistry): string {
  return kinds
    .names()
    .filter((name) => kinds.get(name).target === 'operator')
    .join(', ');
}

/** Maps the library's input errors to exit code 4; anything else is not the caller's to fix. */
function guard<T>(op: () => T): T {
  try {
    return op();
  } catch (error) {
    throw asFailure(error);
  }
}

async function guardAsync<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw asFailure(error);
  }
}

function asFailure(error: unknown): unknown {
  if (!isSuperviseError(error)) return error;
  const environment = error.code === 'layout' || error.code === 'schema-mismatch' || error.code === 'busy';
  return new ProposeFailure(error.message, environment ? PROPOSE_EXIT.environment : PROPOSE_EXIT.input);
}

async function report(result: ProposalResult, timeoutMs: number, options: ProposeOptions, io: ProposeIo): Promise<number> {
  io.stderr(describeResult(result, timeoutMs, (id) => `run propose again with --proposal-id ${id}`));
  if (result.status === 'pending') io.stdout(`${result.proposalId}\n`);
  if (result.status === 'approved' || result.status === 'modified' || result.status === 'rejected') {
    if (result.notes !== '') io.stdout(result.notes.endsWith('\n') ? result.notes : `${result.notes}\n`);
    if (result.status === 'modified' && result.finalPayload !== null && options.finalFile !== undefined) {
      await fs.writeFile(options.finalFile, result.finalPayload, 'utf8');
    }
  }
  return exitFor[result.status];
}
