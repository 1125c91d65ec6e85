import type { Command } from 'commander';

function pruneCommand(db: Command): void {
  db.command('prune')
    .description('Delete archived proposals (and their answers) archived longer ago than a horizon; every audit entry stays. Answers nobody collected for 7 days are archived first.')
    .requiredOption('--archived-older-than <duration>', 'the horizon, e.g. 90d, 12h, 2w')
    .option('--dry-run', 'count what would go, change nothing')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { archivedOlderThan: string; dryRun?: boolean; json?: boolean }, command: Command) => {
      const { dbPrune } = await import('./db-growth-run.js');
      await dbPrune(flags, command);
    });
}

function vacuumCommand(db: Command): void {
  db.command('vacuum')
    .description('Rebuild the database file without its unused pages (after a prune) and empty the WAL; sidecars may keep running.')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { dbVacuum } = await import('./db-growth-run.js');
      await dbVacuum(flags, command);
    });
}

/** `db prune` and `db vacuum`: retention is a verb, not a surprise. */
export function registerDbGrowth(db: Command): void {
  pruneCommand(db);
  vacuumCommand(db);
}
