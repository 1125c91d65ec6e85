/** Documented input limits (README "Limits"). Bytes are UTF-8 bytes. */
export const MAX_SLUG_LENGTH = 63;
export const MAX_PAYLOAD_BYTES = 256 * 1024;
export const MAX_JUSTIFICATION_BYTES = 8 * 1024;
export const MAX_NOTES_BYTES = 8 * 1024;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;
export const MAX_ACTOR_LENGTH = 64;
/** A launcher kind's recorded definition (its JSON Schema included), and how deeply its schema may nest. */
export const MAX_KIND_DEFINITION_BYTES = 64 * 1024;
export const MAX_KIND_SCHEMA_DEPTH = 32;
/** Unanswered proposals expire after a day unless the proposer asks otherwise. */
export const DEFAULT_PROPOSAL_TTL_MS = 24 * 60 * 60 * 1000;
/** A year: far beyond any wait that makes sense, and its expiry time stays a valid date. */
export const MAX_PROPOSAL_TTL_MS = 365 * 24 * 60 * 60 * 1000;
/**
 * The most any writer of the plane stores in one column: a legacy queue file, imported whole.
 * A proposal or event holding more was written with raw SQL, and nothing reads it (a bottle's own
 * SQLite stores up to a gigabyte, more than better-sqlite3 can turn into a string).
 */
export const MAX_COLUMN_BYTES = 4 * MAX_PAYLOAD_BYTES;

/** The limits above as one value, for callers that check input before sending it. */
export const LIMITS = Object.freeze({
  MAX_SLUG_LENGTH,
  MAX_PAYLOAD_BYTES,
  MAX_JUSTIFICATION_BYTES,
  MAX_NOTES_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_ACTOR_LENGTH,
  MAX_KIND_DEFINITION_BYTES,
  MAX_KIND_SCHEMA_DEPTH,
  DEFAULT_PROPOSAL_TTL_MS,
});
