import { VERB_EXIT } from '../core/exit-codes.js';

/** A failure the user caused and can fix, reported without a stack trace. */
export class UserError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode: number = VERB_EXIT.input) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}
