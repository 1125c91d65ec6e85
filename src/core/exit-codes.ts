import { isSuperviseError, type ErrorCategory } from './errors.js';

/**
 * Every command's exit codes in one place. Verbs share the first table; both `propose` commands
 * (the host's `bot-bottle propose` and the sidecar's `bot-bottle-sidecar propose`) say the outcome
 * first, so a shell caller such as git-gate's pre-receive hook can branch on it, then what went wrong.
 */
export const VERB_EXIT = {
  ok: 0,
  /** The command ran and the answer is "no": verify found tampering, check found problems. */
  failed: 1,
  usage: 2,
  input: 3,
  conflict: 4,
  environment: 5,
  internal: 70,
} as const;

export const PROPOSE_EXIT = {
  approved: 0,
  rejected: 1,
  pending: 2,
  expired: 3,
  /** Bad flags or input the caller can fix: unknown kind, invalid payload, unknown proposal id. */
  input: 4,
  /** The environment needs fixing: slug, database, mount, layout, schema version, a lock held too long. */
  environment: 5,
  /** The proposal was withdrawn before anyone answered it. */
  cancelled: 6,
  /** Approved, but the live routes file changed since it was proposed and the change does not merge: nothing applied, propose again. */
  stale: 7,
  internal: 70,
} as const;

export type ExitTable = 'verb' | 'propose';

const FOR_CATEGORY: Record<ExitTable, Record<ErrorCategory, number>> = {
  verb: { usage: VERB_EXIT.usage, input: VERB_EXIT.input, conflict: VERB_EXIT.conflict, environment: VERB_EXIT.environment },
  propose: { usage: PROPOSE_EXIT.input, input: PROPOSE_EXIT.input, conflict: PROPOSE_EXIT.input, environment: PROPOSE_EXIT.environment },
};

/** The exit code a command of `table` ends with for `error`; anything unanticipated is internal. */
export function exitCodeFor(error: unknown, table: ExitTable): number {
  if (!isSuperviseError(error)) return table === 'verb' ? VERB_EXIT.internal : PROPOSE_EXIT.internal;
  return FOR_CATEGORY[table][error.category];
}
