import type { Command } from 'commander';
import type { DashboardFlags } from './dashboard-run.js';

/** The `dashboard` command tree; what its action does is in ./dashboard-run.ts, loaded when it runs. */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('Serve the web dashboard on 127.0.0.1: pending proposals live, approve/modify/reject, the audit log and the bottles. Prints the URL with its access token.')
    .option('--host <address>', 'address to listen on (loopback only unless --force-host)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '0')
    .option('--force-host', 'allow a --host that is not loopback (anyone who can reach it and has the token answers for you)')
    .option('--open', 'open the URL in the desktop browser')
    .addHelpText(
      'after',
      `
The URL carries a random token, new at every start: whoever has it can answer for you, so do not
share it. The page trades it for a cookie and drops it from the address bar. Stop with Ctrl-C.

Exit codes: 0 stopped, 2 bad flags (a non-loopback --host without --force-host), 5 environment
(the port is taken, the database cannot be opened or failed while serving).`,
    )
    .action(async (flags: DashboardFlags, command: Command) => {
      const { serveDashboard } = await import('./dashboard-run.js');
      await serveDashboard(flags, command);
    });
}
