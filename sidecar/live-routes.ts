import type { RoutesApplyRecord } from '../src/bottles/bottle-store.js';
import type { SidecarBottle } from '../src/queue/sidecar-view.js';
import { isSuperviseError } from '../src/core/errors.js';
import { sha256 } from '../src/core/hash.js';
import { renderDiff } from '../src/kinds/diff.js';
import { mergeRoutesFiles, type RouteConflict } from '../src/kinds/routes-merge.js';
import { readLiveRoutes, type LiveRoutes } from './current-routes.js';
import { applyRoutesFile, type AppliedRoutes } from './routes-file.js';
import type { Log } from './log-line.js';

/** An approved routes file and what it was proposed against. */
export interface ApprovedRoutes {
  proposalId: string;
  kind: string;
  /**
   * The file the proposal was made against: its hash, and its text when the proposal carried it
   * (needed to merge). Undefined when the proposer named none: the approved file then replaces
   * whatever is live, as it always did for the launcher.
   */
  base: { hash: string; text: string | null } | undefined;
  /** The proposal as approved, or the operator's modified version. */
  approved: string;
}

export type ApplyOutcome =
  /** Written as approved: the live file was the one it was proposed against. */
  | { outcome: 'replaced'; applied: AppliedRoutes }
  /** The live file had changed; the change merged cleanly and the merged file (`yaml`) was written. */
  | { outcome: 'merged'; applied: AppliedRoutes; yaml: string; previous: LiveRoutes }
  /** The live file already holds the approved change; nothing was written. */
  | { outcome: 'already-live'; file: string; sha256: string }
  /** The live file had changed and the change does not merge (or cannot be, its base unknown); nothing was written. */
  | { outcome: 'stale'; liveHash: string; conflicts: RouteConflict[]; reason: string }
  | { outcome: 'failed'; reason: string };

export interface LiveRoutesOptions {
  file: string;
  reloadCommand: string[] | undefined;
  bottle: SidecarBottle;
  log: Log;
  /** After the file was replaced: publish the new hash (the heartbeat). */
  onChanged: () => Promise<void>;
}

/** A file changed between reading it and replacing it is read and merged again, this many times. */
const ATTEMPTS = 3;

/**
 * The live routes file and the one rule for changing it: an approved file goes only onto the file
 * it was proposed against; onto a file changed since, only through a clean route-level merge; a
 * conflict is refused as stale and never applied. Applies run one at a time in this process.
 */
export class LiveRoutesFile {
  readonly #options: LiveRoutesOptions;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: LiveRoutesOptions) {
    this.#options = options;
  }

  get file(): string {
    return this.#options.file;
  }

  read(): Promise<LiveRoutes> {
    return readLiveRoutes(this.#options.file);
  }

  /** Throws only when `signal` aborted it (shutdown); every other failure is the `failed` outcome. */
  apply(request: ApprovedRoutes, signal?: AbortSignal): Promise<ApplyOutcome> {
    const run = this.#queue.then(() => this.#applyRecorded(request, signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #applyRecorded(request: ApprovedRoutes, signal: AbortSignal | undefined): Promise<ApplyOutcome> {
    let outcome: ApplyOutcome;
    try {
      outcome = await this.#applyWithRetries(request, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      outcome = { outcome: 'failed', reason: this.#failure(error) };
    }
    if (outcome.outcome === 'replaced' || outcome.outcome === 'merged') await this.#options.onChanged();
    await this.#record(request, outcome);
    return outcome;
  }

  async #applyWithRetries(request: ApprovedRoutes, signal: AbortSignal | undefined): Promise<ApplyOutcome> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#applyOnce(request, signal);
      } catch (error) {
        if (attempt >= ATTEMPTS || !isSuperviseError(error) || error.code !== 'conflict') throw error;
      }
    }
  }

  async #applyOnce(request: ApprovedRoutes, signal: AbortSignal | undefined): Promise<ApplyOutcome> {
    const { file, reloadCommand } = this.#options;
    const live = await this.read();
    const write = (yaml: string) => applyRoutesFile(file, yaml, reloadCommand, { expectedHash: live.hash, ...(signal ? { signal } : {}) });
    // Without a base the caller asked for exactly this file, reload included, as before stale detection.
    if (request.base === undefined) return { outcome: 'replaced', applied: await write(request.approved) };
    if (live.text === request.approved) return { outcome: 'already-live', file, sha256: live.hash };
    if (request.base.hash === live.hash) return { outcome: 'replaced', applied: await write(request.approved) };
    if (request.base.text === null || sha256(request.base.text) !== request.base.hash) {
      const reason = 'the live routes file changed since the proposal was made, and the proposal does not carry the file it was made against, so the change cannot be merged';
      return { outcome: 'stale', liveHash: live.hash, conflicts: [], reason };
    }
    const merge = mergeRoutesFiles(request.base.text, live.text, request.approved);
    if (!merge.clean) {
      const reason = 'the live routes file changed since the proposal was made, and the same routes were changed there';
      return { outcome: 'stale', liveHash: live.hash, conflicts: merge.conflicts, reason };
    }
    if (merge.unchangedLive) return { outcome: 'already-live', file, sha256: live.hash };
    return { outcome: 'merged', applied: await write(merge.yaml), yaml: merge.yaml, previous: live };
  }

  #failure(error: unknown): string {
    if (isSuperviseError(error)) {
      if (error.code === 'conflict') return `the live routes file ${this.file} kept changing while the approved file was being applied; nothing was written.`;
      return error.message;
    }
    const code = (error as NodeJS.ErrnoException).code;
    return `could not write ${this.file}: ${code ?? (error as Error).message}. Check that the sidecar can write its directory.`;
  }

  /** A plain replace is exactly the decision's own audit entry (current → final); anything else gets an entry of its own. */
  async #record(request: ApprovedRoutes, outcome: ApplyOutcome): Promise<void> {
    const record = auditRecord(request, outcome);
    if (!record) return;
    try {
      await this.#options.bottle.recordRoutesApply(record);
    } catch (error) {
      this.#options.log(`could not audit ${record.action} for proposal ${request.proposalId}: ${error instanceof Error ? error.message : String(error)}`, 'error');
    }
  }
}

function auditRecord(request: ApprovedRoutes, outcome: ApplyOutcome): RoutesApplyRecord | undefined {
  const { proposalId, kind } = request;
  switch (outcome.outcome) {
    case 'merged':
      return {
        proposalId,
        kind,
        action: 'routes-merged',
        status: 'merged',
        notes: `the live routes file changed since the proposal (sha256 ${request.base?.hash ?? 'unknown'} → ${outcome.previous.hash}); the approved change merged cleanly into it and was applied: sha256=${outcome.applied.sha256}.`,
        diff: renderDiff(outcome.previous.text, outcome.yaml, `${kind} live`),
      };
    case 'stale':
      return { proposalId, kind, action: 'routes-stale', status: 'stale', notes: `${outcome.reason}; nothing was applied.${conflictList(outcome.conflicts)}` };
    case 'failed':
      return { proposalId, kind, action: 'routes-apply-failed', status: 'failed', notes: outcome.reason };
    default:
      return undefined;
  }
}

/** ` Conflicts: host: reason; …` or nothing. */
export function conflictList(conflicts: readonly RouteConflict[]): string {
  return conflicts.length === 0 ? '' : ` Conflicts: ${conflicts.map((c) => `${c.host}: ${c.reason}`).join('; ')}.`;
}
