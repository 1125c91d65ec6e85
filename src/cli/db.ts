import type { Command } from 'commander';
import { registerDbGrowth } from './db-growth.js';

function pathCommand(db: Command): void {
  db.command('path')
    .description('Print the database path host tools use (and the file it resolves to).')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { dbPath } = await import('./db-run.js');
      await dbPath(flags, command);
    });
}

function statusCommand(db: Command): void {
  db.command('status')
    .description('Schema version, pending migrations, journal mode, file sizes, proposals per state and audit entries. Changes nothing.')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { dbStatus } = await import('./db-run.js');
      await dbStatus(flags, command);
    });
}

function migrateCommand(db: Command): void {
  db.command('migrate')
    .description('Apply pending migrations (all, or up to and including --to).')
    .option('--to <name>', 'stop after this migration (its name, e.g. 0002_legacy_imports, or its number)')
    .option('--dry-run', 'print what would be applied, change nothing (not even create the database)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { to?: string; dryRun?: boolean; json?: boolean }, command: Command) => {
      const { dbMigrate } = await import('./db-run.js');
      await dbMigrate(flags, command);
    });
}

function rollbackCommand(db: Command): void {
  db.command('rollback')
    .description('Revert the newest migration, or every migration after --to. Only for running an older bot-bottle: any host command of this build migrates forward again.')
    .option('--to <name>', 'keep this migration and revert the ones after it (0 reverts everything)')
    .option('--yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--dry-run', 'print what would be reverted and which tables that drops, change nothing')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { to?: string; yes?: boolean; dryRun?: boolean; json?: boolean }, command: Command) => {
      const { dbRollback } = await import('./db-run.js');
      await dbRollback(flags, command);
    });
}

function backupCommand(db: Command): void {
  db.command('backup')
    .description('Copy the live database with SQLite\'s online backup (sidecars may keep writing), then verify the copy with integrity_check.')
    .argument('<file>', 'where to write the copy (not inside ~/.bot-bottle/supervise)')
    .option('--force', 'replace <file> if it exists')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, flags: { force?: boolean; json?: boolean }, command: Command) => {
      const { dbBackup } = await import('./db-run.js');
      await dbBackup(target, flags, command);
    });
}

function checkCommand(db: Command): void {
  db.command('check')
    .description('Check the layout (directory, file, modes, link), integrity, journal mode and schema version; exit 1 with a fix for each problem.')
    .option('--json', 'print the results as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { dbCheck } = await import('./db-run.js');
      await dbCheck(flags, command);
    });
}

function adoptCommand(db: Command): void {
  db.command('adopt')
    .description('Move a database an earlier install left at ~/.bot-bottle/bot-bottle.db into ~/.bot-bottle/supervise/, migrate it and link it (refused while anything has it open).')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { dbAdopt } = await import('./db-run.js');
      await dbAdopt(flags, command);
    });
}

/** The `db` command tree; what its actions do is in ./db-run.ts, loaded when one runs. */
export function registerDb(program: Command): void {
  const db = program.command('db').description('Administer the database: path, status, migrate, rollback, backup, check, adopt, prune, vacuum.');
  pathCommand(db);
  statusCommand(db);
  migrateCommand(db);
  rollbackCommand(db);
  backupCommand(db);
  checkCommand(db);
  adoptCommand(db);
  registerDbGrowth(db);
}
