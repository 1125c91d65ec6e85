import type { Command } from 'commander';
import type { BottleOverview } from '../bottles/bottle-overview.js';
import { safeText } from '../core/safe-text.js';
import { colorsFor, printJson, withHostDatabase } from './common.js';
import { formatAge } from './supervise/list-model.js';

type Colors = ReturnType<typeof colorsFor>;

/** Where a claim is not what its rightful writer sealed, the row says so in place of the claim. */
function registrationText(bottle: BottleOverview, colors: Colors): string {
  switch (bottle.registration) {
    case 'forged':
      return colors.red('[FORGED registration]');
    case 'unregistered':
      return colors.dim('not registered');
    default:
      return safeText(`${bottle.backend ?? '?'} ${bottle.image ?? '?'}${bottle.registration === 'retired' ? ' (retired)' : ''}`);
  }
}

function heartbeatText(bottle: BottleOverview, now: number, colors: Colors): string {
  const when = bottle.lastHeartbeat === null ? '' : `${formatAge(now - bottle.lastHeartbeat)} ago`;
  switch (bottle.heartbeat) {
    case 'none':
      return colors.dim('never');
    case 'forged':
      return colors.red(`[FORGED] ${when}`);
    case 'unsealed':
      return colors.red(`[UNSEALED] ${when}`);
    case 'sealed':
      return `${when} (sidecar ${safeText(bottle.sidecarVersion ?? '?')}, schema ${bottle.schemaVersion ?? '?'})`;
  }
}

function printTable(bottles: BottleOverview[], now: number): void {
  if (bottles.length === 0) {
    process.stdout.write('No bottles: none was registered, none has a heartbeat, and none has proposals waiting.\n');
    return;
  }
  const colors = colorsFor(process.stdout);
  const liveness = { alive: colors.green, stale: colors.yellow, gone: colors.dim } as const;
  const width = Math.max(6, ...bottles.map((bottle) => bottle.slug.length));
  process.stdout.write(`${colors.bold(`${'BOTTLE'.padEnd(width)}  STATE  PENDING  OLDEST  HEARTBEAT / REGISTRATION`)}\n`);
  for (const bottle of bottles) {
    const oldest = bottle.oldestPendingAt === null ? '-' : formatAge(now - bottle.oldestPendingAt);
    process.stdout.write(
      `${safeText(bottle.slug).padEnd(width)}  ${liveness[bottle.liveness](bottle.liveness.padEnd(5))}  ${String(bottle.pending).padStart(7)}  ${oldest.padStart(6)}  ` +
        `${heartbeatText(bottle, now, colors)}; ${registrationText(bottle, colors)}\n`,
    );
  }
}

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
      await withHostDatabase(
        command,
        (database) => {
          const now = Date.now();
          const bottles = database.bottles.overview(now);
          if (flags.json) return printJson({ now, bottles });
          printTable(bottles, now);
        },
        { existing: true },
      );
    });
}
