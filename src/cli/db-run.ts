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
import { ensureHostDatabase, requireExistingDatabase, sharedDir } from '../storage/layout.js';
import { colorsFor, confirmOrRefuse, databasePathFor, databasePathOption, printJson, UserError } from './common.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { safeLine } from '../core/safe-text.js';
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


/** `bot-bottle db path`. */
export async function dbPath(flags: { json?: boolean }, command: Command): Promise<void> {
  const file = databasePathFor(command);
  const realPath = fs.existsSync(file) ? fs.realpathSync(file) : null;
  if (flags.json) return printJson({ path: file, realPath, sharedDir: databasePathOption(command) === undefined ? sharedDir() : null });
  process.stdout.write(`${file}\n`);
}

/** `bot-bottle db status`. */
export async function dbStatus(flags: { json?: boolean }, command: Command): Promise<void> {
  const file = existingDatabase(command);
  const status = await onFile(file, () => readDatabaseStatus(file));
  if (flags.json) return printJson(status);
  printStatus(status, colorsFor(process.stdout));
}

/** `bot-bottle db migrate`. */
export async function dbMigrate(flags: { to?: string; dryRun?: boolean; json?: boolean }, command: Command): Promise<void> {
  const to = flags.to === undefined ? {} : { to: flags.to };
  if (flags.dryRun) {
    const file = databasePathFor(command);
    return printDryRun(file, await planFromFlags(() => planMigrate(file, to)), flags.json ?? false);
  }
  const file = ensureHostDatabase(databasePathOption(command));
  // An empty file is a database that was truncated, not one to start afresh in unasked.
  refuseEmptyDatabase(requireSafeDatabaseFile(file));
  await planFromFlags(() => planMigrate(file, to));
  const result = await onFile(file, () => migrateUp(file, to));
  if (flags.json) return printJson({ path: file, ...result });
  process.stdout.write(
    result.applied.length === 0 ? `Nothing to migrate: ${file} is at schema version ${result.userVersion}.\n` : `Applied ${result.applied.join(', ')}; ${file} is at schema version ${result.userVersion}.\n`,
  );
}

/** `bot-bottle db rollback`. */
export async function dbRollback(flags: { to?: string; yes?: boolean; dryRun?: boolean; json?: boolean }, command: Command): Promise<void> {
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
}

/** `bot-bottle db backup FILE`. */
export async function dbBackup(target: string, flags: { force?: boolean; json?: boolean }, command: Command): Promise<void> {
  const result = await backupDatabase(existingDatabase(command), target, { force: flags.force ?? false });
  if (flags.json) return printJson(result);
  process.stdout.write(
    `Backed up ${result.source} to ${result.target} (${formatBytes(result.bytes)}): schema version ${result.userVersion}, ${result.proposals} proposals, ${result.audit.count} audit entries; integrity_check ok.\n` +
      `audit head ${result.audit.hash}:${result.audit.count}\n`,
  );
}

/** `bot-bottle db check`. */
export async function dbCheck(flags: { json?: boolean }, command: Command): Promise<void> {
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
}

/** `bot-bottle db adopt`. */
export async function dbAdopt(flags: { json?: boolean }, command: Command): Promise<void> {
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
}
