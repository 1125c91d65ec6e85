import type { Command } from 'commander';
import { hookInput, ProposalAlerter, tellOperator, type AlertRecord } from '../alerts/alerter.js';
import { NotifyClaims } from '../alerts/claims.js';
import { findDesktopNotifier, type DesktopNotifier } from '../alerts/desktop.js';
import { describeHookResult } from '../alerts/hook.js';
import { hostSettingsPath, readHostSettings, type NotifySettings } from '../alerts/settings.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { safeLine } from '../core/safe-text.js';
import { printJson, withHostDatabase } from './common.js';

const TEST_PROPOSAL_ID = '00000000-0000-4000-8000-000000000000';

function describeSetup(settings: NotifySettings, desktop: DesktopNotifier | undefined): string {
  const hook = settings.hook === undefined ? 'no hook' : `hook ${JSON.stringify(settings.hook)} (timeout ${settings.hookTimeoutSeconds} s)`;
  const shown = !settings.desktop ? 'desktop notifications off' : desktop === undefined ? 'no desktop notifier on this host' : `desktop notifications by ${desktop.name}`;
  return `${hook}; ${shown}; at most ${settings.perBottlePerMinute} per bottle a minute`;
}


function alertLine(record: AlertRecord): string {
  const what = `${record.summary.kind} from ${record.summary.bottle} (${record.summary.id.slice(0, 8)})`;
  switch (record.outcome) {
    case 'taken':
      return `already told by another watcher: ${what}`;
    case 'suppressed':
      return `rate-limited, counted for the next notification: ${what}`;
    case 'fired': {
      const parts = [record.hook === undefined ? undefined : `hook ${describeHookResult(record.hook)}`, record.desktop === undefined ? undefined : `desktop ${describeHookResult(record.desktop)}`];
      return `told: ${what}${parts.some((part) => part !== undefined) ? ` — ${parts.filter((part) => part !== undefined).join(', ')}` : ''}`;
    }
  }
}

/** Resolves on SIGINT or SIGTERM: a foreground watcher ends cleanly, its hook runs finished. */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}


/** `bot-bottle notify test`: the hook and the desktop notification, once, with a sample proposal. */
export async function notifyTest(flags: { json?: boolean }): Promise<void> {
  const file = hostSettingsPath();
  const { notify: settings } = readHostSettings(file);
  const desktop = findDesktopNotifier();
  const input = hookInput(
    { id: TEST_PROPOSAL_ID, bottle: 'notify-test', kind: 'egress-allow', origin: 'agent', justification: 'bot-bottle notify test: nothing is waiting', createdAt: Date.now(), seal: 'host' },
    0,
    'test',
  );
  const told = await tellOperator(input, settings, desktop);
  const nothing = told.hook === undefined && told.desktop === undefined;
  const ok = !nothing && told.hook?.ok !== false && told.desktop?.ok !== false;
  if (!ok) process.exitCode = VERB_EXIT.failed;
  if (flags.json) return printJson({ ok, settings: file, setup: settings, desktop: desktop?.name ?? null, input, hook: told.hook ?? null, desktopResult: told.desktop ?? null });
  process.stdout.write(`settings: ${file}\n${describeSetup(settings, desktop)}\n`);
  if (told.hook !== undefined) process.stdout.write(`hook: ${safeLine(describeHookResult(told.hook))}\n`);
  if (told.desktop !== undefined) process.stdout.write(`desktop: ${safeLine(describeHookResult(told.desktop))}\n`);
  if (nothing) process.stdout.write(`Nothing to run: set notify.hook in ${file}, e.g. {"notify": {"hook": ["/usr/local/bin/page-me"]}}, or run where notify-send (Linux, with a desktop session) or osascript (macOS) is available.\n`);
}

/** `bot-bottle notify watch`: tells the operator of each new proposal until stopped. */
export async function notifyWatch(_flags: unknown, command: Command): Promise<void> {
  const { notify: settings } = readHostSettings();
  const desktop = findDesktopNotifier();
  await withHostDatabase(
    command,
    async (database) => {
      const claims = await NotifyClaims.open();
      const alerter = new ProposalAlerter({
        settings,
        claims,
        desktop,
        onAlert: (record) => process.stdout.write(`${safeLine(alertLine(record))}\n`),
        onError: (error, summary) => process.stderr.write(`bot-bottle: could not claim ${summary.id}: ${safeLine(error instanceof Error ? error.message : String(error))}\n`),
      });
      try {
        alerter.start(database.queue);
        process.stdout.write(`watching ${database.path} (${describeSetup(settings, desktop)}); Ctrl-C stops.\n`);
        await Promise.race([untilStopped(), database.notifier.failed.then((error) => Promise.reject(error))]);
      } finally {
        await alerter.stop();
        claims.close();
      }
    },
    { watch: true },
  );
}
