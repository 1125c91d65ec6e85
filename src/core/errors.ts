/**
 * Every error a caller can act on carries a stable `code` so CLIs, the MCP server and the
 * propose command can map it to an exit code or a JSON-RPC error without parsing messages.
 */
export type SuperviseErrorCode =
  | 'invalid-slug'
  | 'invalid-input'
  | 'unknown-kind'
  | 'invalid-payload'
  | 'too-large'
  | 'not-found'
  | 'conflict'
  | 'reason-required'
  | 'modify-not-allowed'
  | 'layout'
  | 'schema-mismatch'
  | 'busy'
  | 'migration';

export class SuperviseError extends Error {
  readonly code: SuperviseErrorCode;

  constructor(code: SuperviseErrorCode, message: string) {
    super(message);
    this.name = 'SuperviseError';
    this.code = code;
  }
}

/** A proposal is no longer in the state the caller needs (already answered, expired, cancelled…). */
export class ConflictError extends SuperviseError {
  readonly currentState: string;

  constructor(message: string, currentState: string) {
    super('conflict', message);
    this.name = 'ConflictError';
    this.currentState = currentState;
  }
}

export function isSuperviseError(error: unknown): error is SuperviseError {
  return error instanceof SuperviseError;
}
