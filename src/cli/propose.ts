import type { Command, CommanderError } from 'commander';
import { PROPOSE_EXIT } from '../core/exit-codes.js';
import type { ProposeFlags } from './propose-run.js';
import { UserError } from './user-error.js';

/** The `propose` command tree; what its action does is in ./propose-run.ts, loaded when it runs. */
export function registerPropose(program: Command): void {
  const command = program
    .command('propose')
    .description('Enqueue a proposal for a bottle (up to the operator, or down to its sidecar) and optionally wait for the answer.')
    .addHelpText(
      'after',
      [
        '',
        'Exit codes (the same as the sidecar\'s propose):',
        '   0  approved or modified (stdout: the notes)',
        '   1  rejected (stdout: the notes)',
        '   2  still pending (stdout: the id; wait again with --resume ID --wait SECONDS)',
        '   3  expired unanswered',
        '   4  bad flags or input',
        '   5  the environment needs fixing (layout, schema version, a lock held too long)',
        '   6  cancelled before anyone answered',
        '  70  a bug',
      ].join('\n'),
    )
    .requiredOption('--bottle <slug>', 'the bottle the proposal is for')
    .option('--kind <kind>', 'the proposal kind (egress-allow, egress-routes-apply, …)')
    .option('--payload-file <file>', 'read the payload (the full proposed file or report) from this file')
    .option('--payload-stdin', 'read the payload from standard input')
    .option('--current-file <file>', 'the file the payload replaces, so the reviewer sees a diff')
    .option('--justification <text>', 'why; shown to whoever answers')
    .option('--target <who>', 'operator or sidecar (default: the kind\'s own)')
    .option('--origin <name>', 'who is asking, recorded with the proposal', 'host')
    .option('--idempotency-key <key>', 'enqueueing again with the same key returns the first proposal instead of a duplicate')
    .option('--ttl <seconds>', 'expire the proposal if unanswered this long (default one day)')
    .option('--wait <seconds>', 'wait this long for the answer (default 0: enqueue and exit 2 with the id)')
    .option('--resume <id>', 'wait on a proposal enqueued earlier instead of enqueueing')
    .option('--final-file <file>', 'when the answer is "modified", write the final file here')
    .option('--json', 'print the outcome as JSON');
  command
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => undefined })
    .exitOverride((error: CommanderError) => {
      if (error.exitCode === 0) throw error;
      throw new UserError(`${error.message.replace(/^error: /, '')}. Run \`bot-bottle propose --help\` for usage.`, PROPOSE_EXIT.input);
    })
    .action(async (flags: ProposeFlags, self: Command) => {
      const { propose } = await import('./propose-run.js');
      await propose(flags, self);
    });
}
