import type { Command } from 'commander';
import { createColors } from 'picocolors';
import { openHostDatabase, openHostDatabaseForListing, type SuperviseDatabase } from '../database.js';
import { isSuperviseError } from '../core/errors.js';
import { VERB_EXIT, exitCodeFor } from '../core/exit-codes.js';
import { safeJson, safeText } from '../core/safe-text.js';
import { environmentError } from '../storage/environment-errors.js';
import { hostDbPath } from '../storage/layout.js';
import { UserError } from './user-error.js';

// Command trees throw it from commander's callbacks, which must not load this module's imports.
export { UserError };

/**
 * Whether to colour what goes to `stream`, for every verb and the TUI alike: a non-empty
 * FORCE_COLOR forces it (`0` or `false` turn it off), else a non-empty NO_COLOR turns it off
 * (no-color.org: an empty one does not), else only a terminal other than TERM=dumb gets colour.
 * Written here because the libraries at hand disagree with those rules: Node's hasColors() treats
 * an empty NO_COLOR as set, and picocolors forces colour for FORCE_COLOR=0.
 */
function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR ?? '';
  if (force !== '') return force !== '0' && force.toLowerCase() !== 'false';
  if ((env.NO_COLOR ?? '') !== '') return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function colorsFor(stream: { isTTY?: boolean }): ReturnType<typeof createColors> {
  return createColors(colorEnabled(stream));
}

/** JSON on stdout: bottle-originated strings inside it are written as `\u` escapes, never as raw controls. */
export function printJson(value: unknown): void {
  process.stdout.write(`${safeJson(value)}\n`);
}

/** Maps what a verb throws to one line on stderr and a meaningful exit code. Messages can quote a bottle's text, so they are shown display-safe. */
export function reportFailure(thrown: unknown): number {
  const red = colorsFor(process.stderr).red;
  // A full disk, a read-only mount or a damaged file is the environment's fault, never a bug.
  const error = environmentError(thrown) ?? thrown;
  if (error instanceof UserError || isSuperviseError(error)) {
    process.stderr.write(`${red('bot-bottle:')} ${safeText(error.message)}\n`);
    return error instanceof UserError ? error.exitCode : exitCodeFor(error, 'verb');
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`${red('bot-bottle: unexpected error:')} ${safeText(message)}\n`);
  if (process.env.BOT_BOTTLE_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${safeText(error.stack)}\n`);
  else process.stderr.write('This is a bug; rerun with BOT_BOTTLE_DEBUG=1 for the stack trace and report it.\n');
  return VERB_EXIT.internal;
}

/** Parses `--since`/`--until` style values: ISO dates/times or relative durations like 15m, 2h, 7d. */
export function parseTime(value: string, flag: string, now: number = Date.now()): number {
  const relative = /^(\d+)(s|m|h|d)$/.exec(value);
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(relative[1]) * unit;
  }
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw new UserError(`${flag} ${JSON.stringify(value)} is not a time: use an ISO date like 2026-11-22 or 2026-11-22T10:00Z, or a duration ago like 30m, 12h, 7d.`, VERB_EXIT.usage);
  }
  return parsed;
}

export function parsePositiveInt(value: string, flag: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < 1) {
    throw new UserError(`${flag} must be a positive whole number, got ${JSON.stringify(value)}.`, VERB_EXIT.usage);
  }
  return number;
}

/** The database file the global `--db` names, else the host path every tool shares. */
export function databasePathOption(command: Command): string | undefined {
  return (command.optsWithGlobals() as { db?: string }).db;
}

export function databasePathFor(command: Command): string {
  return databasePathOption(command) ?? hostDbPath();
}

/**
 * Opens the host database for one verb (layout, migrations, connection) and always closes it.
 * File watching is off unless the verb waits for other processes. A verb that only reads passes
 * `existing`, so a typo in --db is an error instead of a new, empty database. A verb that only
 * lists passes `listing`: the kinds' payload parsers then load only if the verb asks the store
 * for its kinds (`queue.loadKinds()`). Environment failures are reported with the file they concern.
 */
export async function withHostDatabase<T>(command: Command, run: (database: SuperviseDatabase) => Promise<T> | T, options: { watch?: boolean; existing?: boolean; listing?: boolean } = {}): Promise<T> {
  const path = databasePathOption(command);
  const open = options.listing ? openHostDatabaseForListing : openHostDatabase;
  let database: SuperviseDatabase;
  try {
    database = await open({ ...(path === undefined ? {} : { path }), watch: options.watch ?? false, mustExist: options.existing ?? false });
  } catch (error) {
    throw environmentError(error, path ?? hostDbPath()) ?? error;
  }
  try {
    return await run(database);
  } catch (error) {
    throw environmentError(error, database.path) ?? error;
  } finally {
    await database.close();
  }
}

/**
 * Asks a yes/no question on the terminal before something destructive; `--yes` answers it in
 * advance. Without a terminal there is nobody to ask, so it refuses rather than assume.
 */
export async function confirmOrRefuse(question: string, options: { yes: boolean; action: string }): Promise<boolean> {
  if (options.yes) return true;
  if (!process.stdin.isTTY) {
    throw new UserError(`${options.action} needs confirmation, but stdin is not a terminal to ask on. Rerun with --yes if you mean it.`, VERB_EXIT.environment);
  }
  // Only the destructive verbs ask; every other command opening the database skips loading readline.
  const { createInterface } = await import('node:readline');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => {
      prompt.once('close', () => resolve(''));
      prompt.question(`${question} [y/N] `, resolve);
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
