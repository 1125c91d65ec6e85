import type { Command } from 'commander';

/** The `bottles` command tree; what its action does is in ./bottles-run.ts, loaded when it runs. */
export function registerBottles(program: Command): void {
  program
    .command('bottles')
    .description('List the bottles: alive, stale or gone, proposals waiting, the sidecar\'s last heartbeat and what the launcher registered.')
    .option('--json', 'print as JSON')
    .addHelpText(
      'after',
      `
alive: the sidecar's heartbeat, sealed with its bottle's key, is at most 90 s old (it beats every 30 s).
stale: older, up to 10 minutes, or registered and not heard from yet. gone: retired by the launcher,
silent for longer, or never heard from with its own key.

A bottle can write its own row, so a heartbeat that its key did not seal is shown as [FORGED] or
[UNSEALED] and never counts as alive, and a registration the host did not sign as [FORGED registration].`,
    )
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { listBottles } = await import('./bottles-run.js');
      await listBottles(flags, command);
    });
}
