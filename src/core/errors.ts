/**
 * The one error class callers need to know. Its `code` is stable, so the CLIs, the MCP server and
 * the propose commands map it to an exit code or a tool error without parsing messages; the
 * message itself names the problem and what to do about it.
 */
export type SuperviseErrorCode =
  // Input the caller can fix.
  | 'usage'
  | 'invalid-slug'
  | 'invalid-input'
  | 'unknown-kind'
  | 'invalid-payload'
  | 'too-large'
  | 'not-found'
  | 'reason-required'
  | 'modify-not-allowed'
  // A bottle asked more than its quota allows; waiting for answers fixes it.
  | 'rate-limited'
  // A bottle's store asked for what only the host may do (answer the operator's proposals, speak as host or operator, another bottle's rows).
  | 'forbidden'
  // The proposal is no longer in a state that allows the action.
  | 'conflict'
  // What was reviewed is not what is there now: the proposal changed since it was displayed.
  | 'changed-since-review'
  // A row's seal does not verify: someone without the key wrote or altered it.
  | 'forged'
  // The environment needs fixing, not the input.
  | 'layout'
  | 'mount'
  | 'config'
  | 'schema-mismatch'
  | 'busy'
  | 'migration'
  | 'listen'
  | 'reload-failed'
  | 'disk-full'
  | 'read-only'
  | 'permission-denied'
  | 'damaged'
  | 'io-error'
  // The host broker could not be reached, or refused this bottle's key.
  | 'broker-unreachable'
  | 'unauthorized';

export type ErrorCategory = 'usage' | 'input' | 'conflict' | 'environment';

const CATEGORY: Record<SuperviseErrorCode, ErrorCategory> = {
  usage: 'usage',
  'invalid-slug': 'input',
  'invalid-input': 'input',
  'unknown-kind': 'input',
  'invalid-payload': 'input',
  'too-large': 'input',
  'not-found': 'input',
  'reason-required': 'input',
  'modify-not-allowed': 'input',
  'rate-limited': 'input',
  forbidden: 'input',
  conflict: 'conflict',
  'changed-since-review': 'conflict',
  forged: 'conflict',
  layout: 'environment',
  mount: 'environment',
  config: 'environment',
  'schema-mismatch': 'environment',
  busy: 'environment',
  migration: 'environment',
  listen: 'environment',
  'reload-failed': 'environment',
  'disk-full': 'environment',
  'read-only': 'environment',
  'permission-denied': 'environment',
  damaged: 'environment',
  'io-error': 'environment',
  'broker-unreachable': 'environment',
  unauthorized: 'environment',
};

/** One thing wrong with a payload. `line` is 1-based and only known for YAML payloads. */
export interface PayloadProblem {
  line?: number;
  /** Where in the payload, e.g. `routes[1].auth`; `(top level)` for the root value, `(document)` for its text. */
  path: string;
  rule: string;
  /** `line N: path: rule`, ready to show to whoever has to fix the payload. */
  message: string;
}

export interface SuperviseErrorOptions extends ErrorOptions {
  /** With `conflict`: the state the proposal is in now. */
  state?: string;
  /** With `invalid-payload`: each problem found, with its line when known. */
  problems?: readonly PayloadProblem[];
}

export class SuperviseError extends Error {
  readonly code: SuperviseErrorCode;
  readonly state: string | undefined;
  readonly problems: readonly PayloadProblem[];

  constructor(code: SuperviseErrorCode, message: string, options: SuperviseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SuperviseError';
    this.code = code;
    this.state = options.state;
    this.problems = options.problems ?? [];
  }

  get category(): ErrorCategory {
    return CATEGORY[this.code];
  }
}

/** Whether a code that came over the wire (the broker's answer) is one of ours. */
export function isSuperviseErrorCode(code: string): code is SuperviseErrorCode {
  return Object.hasOwn(CATEGORY, code);
}

export function isSuperviseError(error: unknown): error is SuperviseError {
  return error instanceof SuperviseError;
}
