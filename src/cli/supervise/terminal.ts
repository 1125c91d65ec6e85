import { UserError } from '../common.js';
import { VERB_EXIT } from '../../core/exit-codes.js';

/** The TUI needs a terminal on both ends; without one it could only hang or garble a pipe. */
export function assertInteractiveTerminal(what: string): void {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UserError(
      `${what} needs an interactive terminal, but ${process.stdin.isTTY ? 'stdout' : 'stdin'} is not a TTY. From scripts use \`bot-bottle supervise --once\` (or \`--json\`) to list pending proposals and \`bot-bottle supervise approve|modify|reject ID\` to answer them.`,
      VERB_EXIT.environment,
    );
  }
}
