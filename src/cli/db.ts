import fs from 'node:fs';
import type { Command } from 'commander';
import { adoptLegacyDatabase } from '../admin/adopt.js';
import { backupDatabase } from '../admin/backup.js';
import { checkDatabase } from '../admin/check.js';
import { planMigrate, planRollback, type MigrationPlan } from '../admin/migration-plan.js';
import { readDatabaseStatus, type DatabaseStatus } from '../admin/status.js';
import { isSuperviseError, SuperviseError } from '../core/errors.js';
import { refuseEmptyDatabase, requireSafeDatabaseFile } from '../storage/database-file.js';
import { environmentError } from '../storage/environment-errors.js';
import { migrateDown, migrateUp } from '../storage/migrations.js';
import { ensureHostLayout, requireExistingDatabase, sharedDir } from '../storage/layout.js';
import { colorsFor, confirmOrRefuse, databasePathFor, databasePathOption, printJson, UserError } from './common.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { safeLine } from '../core/safe-text.js';
import { registerDbGrowth } from './db-growth.js';
import { formatAge } from './supervise/list-model.js';

/** The file a verb that must not create anything works on; refuses, with the fix, when there is none. */
function existingDatabase(command: Command): string {
  return requireExistingDatabase(databasePathFor(command), { hostLayout: databasePathOption(command) === undefined });
}

/** Runs a verb's work on `file`: a full disk, a read-only mount or a damaged file is reported with that file named. */
async function onFile<T>(file: string, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw environmentError(error, file) ?? error;
  }
}

/** A `--to` the plan refuses is a bad flag, so it exits as a usage error like any other. */
async function planFromFlags(plan: () => Promise<MigrationPlan>): Promise<MigrationPlan> {
  try {
    return await plan();
  } catch (error) {
    if (isSuperviseError(error) && error.code === 'invalid-input') throw new SuperviseError('usage', error.message, { cause: error });
    throw error;
  }
}

const stepNames = (plan: MigrationPlan): string => plan.steps.map((step) => step.name).join(', ');

function printDryRun(file: string, plan: MigrationPlan, json: boolean): void {
  if (json) return printJson({ path: file, dryRun: true, ...plan });
  if (plan.steps.length === 0) {
    process.stdout.write(`Nothing to ${plan.direction === 'up' ? 'migrate' : 'roll back'}: ${file} is at schema version ${plan.userVersion}.\n`);
    return;
  }
  const drops = plan.steps.flatMap((step) => step.dropsTables);
  process.stdout.write(
    `Would ${plan.direction === 'up' ? 'apply' : 'revert'} ${stepNames(plan)}, taking ${file} from schema version ${plan.userVersion} to ${plan.userVersionAfter}` +
      `${drops.length > 0 ? `; this drops the tables ${drops.join(', ')}` : ''}. Dry run: nothing was changed.\n`,
  );
}

function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'absent';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function pathCommand(db: Command): void {
  db.command('path')
    .description('Print the database path host tools use (and the file it resolves to).')
    .option('--json', 'print as JSON')
    .action((flags: { json?: boolean }, command: Command) => {
      const file = databasePathFor(command);
      const realPath = fs.existsSync(file) ? fs.realpathSync(file) : null;
      if (flags.json) return printJson({ path: file, realPath, sharedDir: databasePathOption(command) === undefined ? sharedDir() : null });
      process.stdout.write(`${file}\n`);
    });
}

function printStatus(status: DatabaseStatus, colors: ReturnType<typeof colorsFor>): void {
  const { schema, files, proposals } = status;
  const line = (name: string, value: string): string => `${colors.bold(name.padEnd(18))} ${value}\n`;
  const behind = schema.pending.length > 0 ? colors.yellow(` (pending: ${schema.pending.join(', ')}; run \`bot-bottle db migrate\`)`) : '';
  process.stdout.write(
    [
      line('database', status.path === status.realPath ? status.path : `${status.path} -> ${status.realPath}`),
      line('schema version', `${schema.userVersion} (this build: ${schema.buildVersion})${behind}`),
      line('applied', schema.applied.join(', ') || 'none'),
      line('journal mode', status.journalMode === 'wal' ? 'wal' : colors.yellow(`${status.journalMode} (expected wal)`)),
      line('file sizes', `db ${formatBytes(files.db)}, -wal ${formatBytes(files.wal)}, -shm ${formatBytes(files.shm)}${files.journal === null ? '' : `, -journal ${formatBytes(files.journal)}`}`),
      line('proposals', `${proposals.pending} pending, ${proposals.answered} answered, ${proposals.archived} archived, ${proposals.expired} expired, ${proposals.cancelled} cancelled (${proposals.total} in all)`),
      line('waiting', status.pending.bottles.length === 0 ? 'nothing' : status.pending.bottles.map((bottle) => `${safeLine(bottle.slug)} ${bottle.pending} (oldest ${formatAge(bottle.oldestAgeMs)})`).join(', ')),
      line('audit entries', String(status.auditEntries)),
    ].join(''),
  );
}

function statusCommand(db: Command): void {
  db.command('status')
    .description('Schema version, pending migrations, journal mode, file sizes, proposals per state and audit entries. Changes nothing.')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      const file = existingDatabase(command);
      const status = await onFile(file, () => readDatabaseStatus(file));
      if (flags.json) return printJson(status);
      printStatus(status, colorsFor(process.stdout));
    });
}

function migrateCommand(db: Command): void {
  db.command('migrate')
    .description('Apply pending migrations (all, or up to and including --to).')
    .option('--to <name>', 'stop after this migration (its name, e.g. 0002_legacy_imports, or its number)')
    .option('--dry-run', 'print what would be applied, change nothing (not even create the database)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { to?: string; dryRun?: boolean; json?: boolean }, command: Command) => {
      const to = flags.to === undefined ? {} : { to: flags.to };
      if (flags.dryRun) {
        const file = databasePathFor(command);
        return printDryRun(file, await planFromFlags(() => planMigrate(file, to)), flags.json ?? false);
      }
      const file = databasePathOption(command) ?? ensureHostLayout();
      // An empty file is a database that was truncated, not one to start afresh in unasked.
      refuseEmptyDatabase(requireSafeDatabaseFile(file));
      await planFromFlags(() => planMigrate(file, to));
      const result = await onFile(file, () => migrateUp(file, to));
      if (flags.json) return printJson({ path: file, ...result });
      process.stdout.write(
        result.applied.length === 0 ? `Nothing to migrate: ${file} is at schema version ${result.userVersion}.\n` : `Applied ${result.applied.join(', ')}; ${file} is at schema version ${result.userVersion}.\n`,
      );
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
      const file = existingDatabase(command);
      const to = flags.to === undefined ? {} : { to: flags.to };
      const plan = await planFromFlags(() => planRollback(file, to));
      if (flags.dryRun) return printDryRun(file, plan, flags.json ?? false);
      if (plan.steps.length === 0) {
        if (flags.json) return printJson({ path: file, applied: [], reverted: [] });
        process.stdout.write(`Nothing to roll back in ${file}.\n`);
        return;
      }
      const drops = plan.steps.flatMap((step) => step.dropsTables);
      const question =
        `Roll back ${stepNames(plan)} in ${file}?` +
        (drops.length > 0 ? ` This DROPS the tables ${drops.join(', ')} and everything in them.` : '') +
        ' Sidecars built for the current schema will refuse to start until it is migrated again.';
      if (!(await confirmOrRefuse(question, { yes: flags.yes ?? false, action: 'rolling back migrations' }))) {
        process.stderr.write('Not rolled back; nothing changed.\n');
        process.exitCode = VERB_EXIT.failed;
        return;
      }
      const result = await onFile(file, () => migrateDown(file, to));
      if (flags.json) return printJson({ path: file, ...result });
      process.stdout.write(`Reverted ${result.reverted.join(', ')}; ${file} is at schema version ${result.userVersion}.\n`);
    });
}

function backupCommand(db: Command): void {
  db.command('backup')
    .description('Copy the live database with SQLite\'s online backup (sidecars may keep writing), then verify the copy with integrity_check.')
    .argument('<file>', 'where to write the copy (not inside ~/.bot-bottle/supervise)')
    .option('--force', 'replace <file> if it exists')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, flags: { force?: boolean; json?: boolean }, command: Command) => {
      const result = await backupDatabase(existingDatabase(command), target, { force: flags.force ?? false });
      if (flags.json) return printJson(result);
      process.stdout.write(
        `Backed up ${result.source} to ${result.target} (${formatBytes(result.bytes)}): schema version ${result.userVersion}, ${result.proposals} proposals, ${result.audit.count} audit entries; integrity_check ok.\n` +
          `audit head ${result.audit.hash}:${result.audit.count}\n`,
      );
    });
}

function checkCommand(db: Command): void {
  db.command('check')
    .description('Check the layout (directory, file, modes, link), integrity, journal mode and schema version; exit 1 with a fix for each problem.')
    .option('--json', 'print the results as JSON')
    .action((flags: { json?: boolean }, command: Command) => {
      const explicit = databasePathOption(command);
      const results = checkDatabase(explicit === undefined ? {} : { file: explicit });
      const ok = results.every((result) => result.ok);
      if (!ok) process.exitCode = VERB_EXIT.failed;
      if (flags.json) return printJson({ ok, checks: results });
      const colors = colorsFor(process.stdout);
      for (const result of results) {
        process.stdout.write(result.ok ? `${colors.green('ok ')}  ${result.name}: ${result.detail}\n` : `${colors.red('BAD')}  ${result.name}: ${result.detail}\n     fix: ${result.fix}\n`);
      }
      const problems = results.filter((result) => !result.ok).length;
      process.stdout.write(ok ? `${colors.green('All checks passed.')}\n` : `${colors.red(`${problems} problem${problems === 1 ? '' : 's'} found.`)}\n`);
    });
}

function adoptCommand(db: Command): void {
  db.command('adopt')
    .description('Move a database an earlier install left at ~/.bot-bottle/bot-bottle.db into ~/.bot-bottle/supervise/, migrate it and link it (refused while anything has it open).')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { json?: boolean }, command: Command) => {
      if (databasePathOption(command) !== undefined) {
        throw new UserError('db adopt works on the default layout only (~/.bot-bottle); drop --db.', VERB_EXIT.usage);
      }
      const result = await adoptLegacyDatabase();
      if (flags.json) return printJson(result);
      process.stdout.write(
        result.adopted
          ? `Adopted ${result.from}: moved to ${result.to}, ${result.migrationsApplied.length ? `applied ${result.migrationsApplied.join(', ')}` : 'already migrated'} (schema version ${result.userVersion}), and linked.\n`
          : `${result.message[0]?.toUpperCase() ?? ''}${result.message.slice(1)}\n`,
      );
    });
}

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
