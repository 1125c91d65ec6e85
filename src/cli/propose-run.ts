import fs from 'node:fs';
import type { Command } from 'commander';
import { SuperviseError } from '../core/errors.js';
import { exitCodeFor } from '../core/exit-codes.js';
import { MAX_PROPOSAL_TTL_MS } from '../core/limits.js';
import type { Target } from '../core/target.js';
import { validateSlug } from '../core/validation.js';
import { KindRegistry } from '../kinds/registry.js';
import { askAndWait, resumeWait, type ProposalRequest, type ProposalResult } from '../queue/proposal-flow.js';
import { reportForShell } from '../queue/proposal-result.js';
import { checkDraft, parseSeconds, readPayloadFile, readPayloadStream } from '../queue/propose-input.js';
import { environmentError } from '../storage/environment-errors.js';
import { printJson, reportFailure, withHostDatabase } from './common.js';
import { safeText } from '../core/safe-text.js';

export interface ProposeFlags {
  bottle: string;
  kind?: string;
  payloadFile?: string;
  payloadStdin?: boolean;
  currentFile?: string;
  justification?: string;
  target?: string;
  origin: string;
  idempotencyKey?: string;
  ttl?: string;
  wait?: string;
  resume?: string;
  finalFile?: string;
  json?: boolean;
}

/** Everything about a new proposal that can be checked before the database is opened. */
async function newProposal(flags: ProposeFlags): Promise<ProposalRequest> {
  if (flags.kind === undefined) throw new SuperviseError('usage', 'propose needs --kind (e.g. --kind egress-routes-apply), or --resume ID to wait on an earlier proposal.');
  if ((flags.payloadFile === undefined) === (flags.payloadStdin !== true)) {
    throw new SuperviseError('usage', 'give the payload with exactly one of --payload-file FILE or --payload-stdin.');
  }
  if (flags.target !== undefined && flags.target !== 'operator' && flags.target !== 'sidecar') {
    throw new SuperviseError('usage', `--target ${JSON.stringify(flags.target)} is not valid: use operator (a human answers) or sidecar (the bottle's sidecar answers).`);
  }
  const payload = flags.payloadFile !== undefined ? readPayloadFile(flags.payloadFile, '--payload-file') : await readPayloadStream(process.stdin, '--payload-stdin');
  const draft = checkDraft(KindRegistry.withBuiltins(), { kind: flags.kind, payload, origin: flags.origin }, 'host');
  return {
    ...draft,
    ...(flags.justification !== undefined ? { justification: flags.justification } : {}),
    ...(flags.target !== undefined ? { target: flags.target as Target } : {}),
    ...(flags.currentFile !== undefined ? { currentFile: readPayloadFile(flags.currentFile, '--current-file') } : {}),
    ...(flags.idempotencyKey !== undefined ? { idempotency: { key: flags.idempotencyKey } } : {}),
    ...(flags.ttl !== undefined ? { ttlMs: parseSeconds(flags.ttl, '--ttl', { allowZero: false, max: MAX_PROPOSAL_TTL_MS / 1000 }) } : {}),
  };
}

/** Ctrl-C (or a SIGTERM) ends the wait as pending and leaves the proposal queued. */
async function untilInterrupted(wait: (signal: AbortSignal) => Promise<ProposalResult>): Promise<ProposalResult> {
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    return await wait(abort.signal);
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
}

async function runPropose(flags: ProposeFlags, command: Command): Promise<number> {
  const slug = validateSlug(flags.bottle);
  const timeoutMs = flags.wait === undefined ? 0 : parseSeconds(flags.wait, '--wait', { allowZero: true });
  if (flags.resume !== undefined && (flags.kind !== undefined || flags.payloadFile !== undefined || flags.payloadStdin)) {
    throw new SuperviseError('usage', '--resume waits on an existing proposal; drop --kind and the payload flags.');
  }
  const request = flags.resume === undefined ? await newProposal(flags) : undefined;
  const result = await withHostDatabase(
    command,
    ({ queue }) =>
      untilInterrupted((signal) => {
        const bottle = queue.forSlug(slug);
        const wait = { timeoutMs, signal };
        return request ? askAndWait(bottle, request, wait) : resumeWait(bottle, flags.resume as string, wait);
      }),
    { watch: timeoutMs > 0 },
  );
  if (result.status === 'modified' && result.finalPayload !== null && flags.finalFile !== undefined) fs.writeFileSync(flags.finalFile, result.finalPayload, 'utf8');
  const report = reportForShell(result, {
    resume: (id) => `bot-bottle propose --bottle ${slug} --resume ${id} --wait 30`,
    askAgain: 'use a new --idempotency-key',
  });
  if (flags.json) printJson(report.json);
  else {
    // The summary quotes the answer's notes, which a sidecar writes for a downward proposal.
    process.stderr.write(`${safeText(report.summary)}\n`);
    process.stdout.write(report.stdout);
  }
  return report.exitCode;
}

/** `bot-bottle propose`: its exit code is the same as the sidecar's propose, whatever went wrong. */
export async function propose(flags: ProposeFlags, self: Command): Promise<void> {
  try {
    process.exitCode = await runPropose(flags, self);
  } catch (error) {
    const failure = environmentError(error) ?? error;
    reportFailure(failure);
    process.exitCode = exitCodeFor(failure, 'propose');
  }
}
