import type { Command } from 'commander';

function testCommand(notify: Command): void {
  notify
    .command('test')
    .description('Run the notify hook and the desktop notification once with a sample proposal, to check the setup.')
    .option('--json', 'print the results as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { notifyTest } = await import('./notify-run.js');
      await notifyTest(flags);
    });
}

function watchCommand(notify: Command): void {
  notify
    .command('watch')
    .description('Stay in the foreground and tell the operator of each proposal waiting for them: the hook and the desktop notification, once per proposal across every watcher.')
    .action(async (_flags: unknown, command: Command) => {
      const { notifyWatch } = await import('./notify-run.js');
      await notifyWatch(_flags, command);
    });
}

/** The `notify` command tree; what its actions do is in ./notify-run.ts, loaded when one runs. */
export function registerNotify(program: Command): void {
  const notify = program.command('notify').description('Be told of new proposals without a terminal open: a hook command and desktop notifications (settings in ~/.bot-bottle/settings.json).');
  testCommand(notify);
  watchCommand(notify);
}
