import fs from 'node:fs';
import { SuperviseError } from '../src/core/errors.js';
import { PROPOSE_EXIT } from '../src/core/exit-codes.js';
import { safeJson } from '../src/core/safe-text.js';
import { KIND_EGRESS_ALLOW, KIND_EGRESS_BLOCK } from '../src/kinds/builtin-rules.js';
import { KindRegistry } from '../src/kinds/registry.js';
import { askAndWait, idempotencyBase, resumeWait, type ProposalRequest } from '../src/queue/proposal-flow.js';
import { reportForShell } from '../src/queue/proposal-result.js';
import { checkDraft, parseSeconds, readPayloadFile, readPayloadStream, type PayloadStream, type ProposalDraft } from '../src/queue/propose-input.js';
import { applyIfApproved, reportApplied } from './approved-routes.js';
import { MAX_RESPONSE_TIMEOUT_SECONDS, readConfig, type SidecarConfig } from './config.js';
import { readCurrentRoutes } from './current-routes.js';
import { SidecarHeartbeat } from './heartbeat.js';
import { LiveRoutesFile } from './live-routes.js';
import { PACKAGE_VERSION } from '../src/core/version.js';
import { proposalOutcome } from './proposal-outcome.js';
import { openSidecarStore, type SidecarStorage } from './startup.js';
import type { Log } from './log-line.js';

export interface ProposeOptions {
  kind?: string;
  payloadFile?: string;
  justification?: string;
  wait?: string;
  db?: string;
  keysDir?: string;
  proposalId?: string;
  origin?: string;
  finalFile?: string;
  /** Print the outcome as the route tools' structuredContent (a JSON object) instead of the notes and a summary. */
  json?: boolean;
}

export interface ProposeIo {
  env: Readonly<Record<string, string | undefined>>;
  stdout: (text: string) => void;
  stderr: (line: string) => void;
  stdin: PayloadStream;
  /** Resolves (with the signal's name) when the caller is interrupted; the wait then ends as pending. */
  interrupted: Promise<string>;
}

/**
 * The shell callers' way in (git-gate's pre-receive hook): propose, wait, and say the outcome in
 * the exit code (`PROPOSE_EXIT`). Standard output carries the notes (or, when pending, the
 * proposal id to resume). Failures are thrown as `SuperviseError`; `exitCodeFor(error, 'propose')`
 * gives their exit code.
 */
export async function propose(options: ProposeOptions, io: ProposeIo): Promise<number> {
  const config = readConfig(io.env);
  const timeoutMs = options.wait === undefined ? config.responseTimeoutMs : parseSeconds(options.wait, '--wait', { allowZero: true, max: MAX_RESPONSE_TIMEOUT_SECONDS });
  const kinds = KindRegistry.withBuiltins();
  const draft = options.proposalId === undefined ? await readDraft(options, io, kinds) : undefined;
  // Resuming with --kind refuses another kind's proposal; an unknown kind is refused before opening anything.
  if (options.kind !== undefined && draft === undefined) kinds.get(options.kind);

  const storage = await openSidecarStore(config.slug, {
    ...(options.db !== undefined ? { dbPath: options.db } : {}),
    ...(options.keysDir !== undefined ? { keysDir: options.keysDir } : {}),
    ...(config.brokerUrl !== undefined ? { brokerUrl: config.brokerUrl } : {}),
    flood: config.flood,
    log: io.stderr,
  });
  const abort = new AbortController();
  void io.interrupted.then(() => abort.abort());
  try {
    const { queue } = storage;
    const wait = { timeoutMs, signal: abort.signal };
    const result = draft
      ? await askAndWait(queue, await withCurrentRoutes(draft, options.justification ?? '', config.routesFile, io.stderr), wait)
      : await resumeWait(queue, options.proposalId as string, wait, { ...(options.kind !== undefined ? { kind: options.kind } : {}), target: 'operator' });
    const report = reportForShell(result, { resume: (id) => `bot-bottle-sidecar propose --proposal-id ${id}`, askAgain: 'change --justification (say what changed)' });
    const applied = await applyIfApproved(result, queue, liveRoutesFile(storage, config, io.stderr), abort.signal);
    const appliedReport = applied && reportApplied(applied);
    if (options.json) {
      io.stdout(`${safeJson(proposalOutcome(result, appliedReport))}\n`);
    } else {
      io.stderr(appliedReport ? `${report.summary} ${appliedReport.sentence}` : report.summary);
      io.stdout(report.stdout);
    }
    if (result.status === 'modified' && result.finalPayload !== null && options.finalFile !== undefined) fs.writeFileSync(options.finalFile, result.finalPayload, 'utf8');
    return appliedReport?.stale ? PROPOSE_EXIT.stale : report.exitCode;
  } finally {
    await storage.close();
  }
}

/** The live routes file an approved routes proposal is applied to, publishing the new hash once it changed. */
function liveRoutesFile(storage: SidecarStorage, config: SidecarConfig, log: Log): LiveRoutesFile | undefined {
  if (!config.routesFile) return undefined;
  const { bottle } = storage;
  const heartbeat = new SidecarHeartbeat({ bottle, sidecarVersion: PACKAGE_VERSION, routesFile: config.routesFile, log });
  return new LiveRoutesFile({ file: config.routesFile, reloadCommand: config.reloadCommand, bottle, log, onChanged: () => heartbeat.beat() });
}

/**
 * A routes proposal is shown to the operator as a diff against the live routes file, and its key
 * includes that file's hash: the same routes asked for after the live file changed are a new request.
 */
async function withCurrentRoutes(draft: Required<ProposalDraft>, justification: string, routesFile: string | undefined, log: Log): Promise<ProposalRequest> {
  const current = draft.kind === KIND_EGRESS_ALLOW || draft.kind === KIND_EGRESS_BLOCK ? await readCurrentRoutes(routesFile, log) : undefined;
  const request = {
    ...draft,
    justification,
    ...(current ? { currentFileHash: current.hash, ...(current.text !== undefined ? { currentFile: current.text } : {}) } : {}),
  };
  return { ...request, idempotency: { base: idempotencyBase(request.origin, request), earlierAnswer: 'report' } };
}

async function readDraft(options: ProposeOptions, io: ProposeIo, kinds: KindRegistry): Promise<Required<ProposalDraft>> {
  if (options.kind === undefined || options.payloadFile === undefined) {
    throw new SuperviseError('usage', 'propose needs --kind and --payload-file (or --proposal-id to resume a pending proposal).');
  }
  // Checked before the payload is read, so a wrong kind is named even when the file is missing.
  kinds.get(options.kind);
  const payload = options.payloadFile === '-' ? await readPayloadStream(io.stdin, '--payload-file -') : readPayloadFile(options.payloadFile, 'the payload file');
  return checkDraft(kinds, { kind: options.kind, payload, ...(options.origin !== undefined ? { origin: options.origin } : {}) }, 'bottle');
}
