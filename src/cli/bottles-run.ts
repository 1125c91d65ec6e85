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

/** `bot-bottle bottles`: the list, as a table or JSON. */
export async function listBottles(flags: { json?: boolean }, command: Command): Promise<void> {
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
}
