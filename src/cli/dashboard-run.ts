import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { startCheckpointing } from '../database.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { operatorName } from './supervise/actions.js';
import { UserError, withHostDatabase } from './common.js';

export interface DashboardFlags {
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

/** `bot-bottle dashboard`: serves until Ctrl-C or SIGTERM. */
export async function serveDashboard(flags: DashboardFlags, command: Command): Promise<void> {
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
}
