import { Command, CommanderError } from 'commander';
import { VERB_EXIT } from '../core/exit-codes.js';
import { PACKAGE_VERSION } from '../core/version.js';

type Registration = (program: Command) => void;

/**
 * Each verb module adds its command tree to the program; its actions import the implementation
 * when they run (docs/ARCHITECTURE.md, "The command line loads what a verb uses"). In the order
 * the help lists them.
 */
const VERBS: ReadonlyArray<{ name: string; tree: () => Promise<Registration> }> = [
  { name: 'supervise', tree: async () => (await import('./supervise/command.js')).registerSupervise },
  { name: 'audit', tree: async () => (await import('./audit/command.js')).registerAudit },
  { name: 'demo', tree: async () => (await import('./demo/command.js')).registerDemo },
  { name: 'db', tree: async () => (await import('./db.js')).registerDb },
  { name: 'propose', tree: async () => (await import('./propose.js')).registerPropose },
  { name: 'import-legacy', tree: async () => (await import('./import-legacy.js')).registerImportLegacy },
  { name: 'bottles', tree: async () => (await import('./bottles.js')).registerBottles },
  { name: 'notify', tree: async () => (await import('./notify.js')).registerNotify },
  { name: 'dashboard', tree: async () => (await import('./dashboard.js')).registerDashboard },
  { name: 'broker', tree: async () => (await import('./broker.js')).registerBroker },
];

/**
 * The verb a command line runs, when nothing but the global `--db` comes before it: then only that
 * verb's tree is needed, as commander hands everything after it to that command alone. Anything
 * else (no verb, `help`, an unknown word, another option first) gets every tree, for the help
 * listing and commander's suggestions.
 */
export function verbOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--db') i++;
    else if (!arg.startsWith('--db=')) return VERBS.some((verb) => verb.name === arg) ? arg : undefined;
  }
  return undefined;
}

/** The program with the command trees `args` (the arguments after the script) may need; all of them without `args`. */
export async function buildProgram(args?: readonly string[]): Promise<Command> {
  const program = new Command('bot-bottle')
    .description('Operator tools for the bot-bottle supervise plane: triage proposals, review the audit log, manage the database.')
    .version(PACKAGE_VERSION)
    .option('--db <path>', 'use this database file instead of ~/.bot-bottle/bot-bottle.db (tests, tools)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const only = args === undefined ? undefined : verbOf(args);
  const trees = await Promise.all(VERBS.filter((verb) => only === undefined || verb.name === only).map((verb) => verb.tree()));
  for (const register of trees) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv.slice(2))).parseAsync(argv);
    return process.exitCode === undefined ? VERB_EXIT.ok : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message; help and version are successful exits.
      return error.exitCode === 0 ? VERB_EXIT.ok : VERB_EXIT.usage;
    }
    // Reporting a failure needs the environment-error diagnosis and colours: loaded only now.
    const { reportFailure } = await import('./common.js');
    return reportFailure(error);
  }
}
