import type { Command } from 'commander';

/** The `demo` command tree; what its action does is in ./run.ts, loaded when it runs. */
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
      // The MCP client, ink and React load only when the demo runs, not with every other verb.
      const { demo } = await import('./run.js');
      await demo(options, command);
    });
}
