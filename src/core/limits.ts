/** Documented input limits (README "Limits"). Bytes are UTF-8 bytes. */
export const MAX_SLUG_LENGTH = 63;
export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const MAX_JUSTIFICATION_BYTES = 8 * 1024;
export const MAX_NOTES_BYTES = 8 * 1024;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
export const MAX_ACTOR_LENGTH = 64;
/** Unanswered proposals expire after a day unless the proposer asks otherwise. */
export const DEFAULT_PROPOSAL_TTL_MS = 24 * 60 * 60 * 1000;
