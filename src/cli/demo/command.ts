import type { Command } from 'commander';
import { colorsFor, withHostDatabase } from '../common.js';
import { assertInteractiveTerminal } from '../supervise/terminal.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Walk one proposal through the supervise plane on your real database: a sidecar, an agent calling egress-allow over MCP, the operator’s view and answer, the audit entry, and audit verify.')
    .option('--interactive', 'answer the proposal yourself in the supervise TUI instead of letting the demo approve it')
    .addHelpText('after', '\nExit codes: 0 the round trip worked and the audit log verifies, 1 the audit log does not verify, 5 environment (sidecar, database, no TTY for --interactive).')
    .action(async (options: { interactive?: boolean }, command: Command) => {
      if (options.interactive) assertInteractiveTerminal('bot-bottle demo --interactive');
      // The MCP client, ink and React load only when the demo runs, not with every other verb.
      const { Narrator, runDemo } = await import('./run.js');
      const narrator = new Narrator(colorsFor(process.stdout));
      process.exitCode = await withHostDatabase(command, (database) => runDemo(database, options, narrator), { watch: true });
    });
}
