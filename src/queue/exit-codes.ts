/**
 * Exit codes of both `propose` commands (the host's `bot-bottle propose` and the sidecar's
 * `bot-bottle-sidecar propose`): the outcome first, so a shell caller such as git-gate's
 * pre-receive hook can branch on it, then what went wrong.
 */
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
  internal: 70,
} as const;
