import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { startCheckpointing } from '../database.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { operatorName } from './supervise/actions.js';
import { UserError, withHostDatabase } from './common.js';

interface DashboardFlags {
  host: string;
  port: string;
  forceHost?: boolean;
  open?: boolean;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) throw new UserError(`--port must be a whole number from 0 (any free port) to 65535, got ${JSON.stringify(text)}.`, VERB_EXIT.usage);
  return port;
}

/** The desktop's URL opener; failing to open is told, never fatal: the URL is printed anyway. */
function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
  child.on('error', (error) => process.stderr.write(`bot-bottle dashboard: could not open a browser (${opener}: ${error.message}); open the URL above yourself.\n`));
  child.unref();
}

/** Resolves on Ctrl-C or SIGTERM: the dashboard runs until its operator stops it. */
function untilStopped(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (signal: string) => () => resolve(signal);
    process.once('SIGINT', stop('SIGINT'));
    process.once('SIGTERM', stop('SIGTERM'));
  });
}

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
      const port = parsePort(flags.port);
      await withHostDatabase(
        command,
        async (database) => {
          // The server loads only for this verb, so the other verbs start without it.
          const { startDashboard } = await import('../dashboard/server.js');
          const dashboard = await startDashboard(database, { host: flags.host, port, forceHost: flags.forceHost ?? false, responder: operatorName() });
          const stopCheckpointing = startCheckpointing(database.db);
          process.stdout.write(`bot-bottle dashboard: ${dashboard.url}\n(answers are recorded as ${operatorName()}; Ctrl-C stops it)\n`);
          if (flags.open) openInBrowser(dashboard.url);
          try {
            const ended = await Promise.race([untilStopped(), database.notifier.failed.then((error) => ({ error }))]);
            if (typeof ended !== 'string') throw ended.error;
          } finally {
            stopCheckpointing();
            await dashboard.close();
          }
        },
        { watch: true },
      );
    });
}
