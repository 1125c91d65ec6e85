import type { Command } from 'commander';
import { pruneArchived, UNCOLLECTED_ARCHIVE_AFTER_MS } from '../admin/prune.js';
import { vacuumDatabase } from '../admin/vacuum.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { requireExistingDatabase } from '../storage/layout.js';
import { databasePathFor, databasePathOption, printJson, UserError, withHostDatabase } from './common.js';
import { operatorName } from './supervise/actions.js';

const UNITS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

/** `90d`, `12h`, `2w`: a span, not a point in time. */
export function parseDuration(value: string, flag: string): number {
  const match = /^(\d+)(s|m|h|d|w)$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2] as keyof typeof UNITS] : Number.NaN;
  if (!Number.isSafeInteger(ms)) {
    throw new UserError(`${flag} ${JSON.stringify(value)} is not a duration: use a whole number with s, m, h, d or w, e.g. 90d or 12h.`, VERB_EXIT.usage);
  }
  return ms;
}

function mib(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MiB`;
}



/** `bot-bottle db prune`: archived proposals past the horizon go; audit entries stay. */
export async function dbPrune(flags: { archivedOlderThan: string; dryRun?: boolean; json?: boolean }, command: Command): Promise<void> {
  const olderThanMs = parseDuration(flags.archivedOlderThan, '--archived-older-than');
  await withHostDatabase(
    command,
    async (database) => {
      const result = await pruneArchived(database, { olderThanMs, actor: operatorName(), dryRun: flags.dryRun ?? false });
      if (flags.json) return printJson({ path: database.path, ...result });
      const verb = result.dryRun ? 'Would delete' : 'Deleted';
      const archived = result.dryRun ? 'would archive' : 'archived';
      process.stdout.write(
        `${verb} ${result.pruned} archived proposal${result.pruned === 1 ? '' : 's'} archived before ${new Date(result.cutoff).toISOString()}` +
          ` (${Object.keys(result.bySlug).length} bottle${Object.keys(result.bySlug).length === 1 ? '' : 's'}); ${archived} ${result.uncollectedArchived} answer${result.uncollectedArchived === 1 ? '' : 's'} uncollected for ${UNCOLLECTED_ARCHIVE_AFTER_MS / 86_400_000} days.` +
          `${result.dryRun ? ' Dry run: nothing was changed.' : ' Audit entries are kept.'}\n` +
          (result.freeBytes > 0 && !result.dryRun ? `${mib(result.freeBytes)} of the file is now unused: \`bot-bottle db vacuum\` gives it back to the filesystem.\n` : ''),
      );
    },
    { existing: true },
  );
}

/** `bot-bottle db vacuum`: the file without its unused pages. */
export async function dbVacuum(flags: { json?: boolean }, command: Command): Promise<void> {
  const file = requireExistingDatabase(databasePathFor(command), { hostLayout: databasePathOption(command) === undefined });
  const result = await vacuumDatabase(file);
  if (flags.json) return printJson(result);
  process.stdout.write(`Vacuumed ${result.path} in ${result.ms} ms: ${mib(result.before.db)} → ${mib(result.after.db)} (-wal ${mib(result.after.wal ?? 0)}).\n`);
}
