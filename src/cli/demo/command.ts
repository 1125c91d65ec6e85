import type { Command } from 'commander';
import { VERB_EXIT } from '../../core/exit-codes.js';
import { colorsFor, databasePathOption, UserError, withHostDatabase } from '../common.js';
import { assertInteractiveTerminal } from '../supervise/terminal.js';
import { withTemporaryDatabase } from './temporary-database.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'Walk one proposal through the supervise plane on a temporary database: a sidecar, an agent calling egress-allow over MCP, the operator’s view and answer, the audit entry, and audit verify.',
    )
    .option('--interactive', 'answer the proposal yourself in the supervise TUI instead of letting the demo approve it')
    .option('--real-db', 'run on your real database (~/.bot-bottle/bot-bottle.db, or --db) instead: its append-only audit log keeps the demo’s entry for good')
    .addHelpText('after', '\nExit codes: 0 the round trip worked and the audit log verifies, 1 the audit log does not verify, 2 --db without --real-db, 5 environment (sidecar, database, no TTY for --interactive).')
    .action(async (options: { interactive?: boolean; realDb?: boolean }, command: Command) => {
      if (!options.realDb && databasePathOption(command) !== undefined) {
        throw new UserError('--db names a database for the demo to write to, and its audit log would keep the demo’s entry for good: add --real-db to run it there, or leave --db out for a temporary database.', VERB_EXIT.usage);
      }
      if (options.interactive) assertInteractiveTerminal('bot-bottle demo --interactive');
      // The MCP client, ink and React load only when the demo runs, not with every other verb.
      const { Narrator, runDemo } = await import('./run.js');
      const narrator = new Narrator(colorsFor(process.stdout));
      const demo = { interactive: options.interactive ?? false };
      process.exitCode = options.realDb
        ? await withHostDatabase(command, (database) => runDemo({ database, temporary: false }, demo, narrator), { watch: true })
        : await withTemporaryDatabase((place) => runDemo({ ...place, temporary: true }, demo, narrator));
    });
}
