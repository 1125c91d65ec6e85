import { Command, CommanderError } from 'commander';
import { registerAudit } from './audit/command.js';
import { registerBottles } from './bottles.js';
import { registerBroker } from './broker.js';
import { registerDashboard } from './dashboard.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { registerDb } from './db.js';
import { registerDemo } from './demo/command.js';
import { registerImportLegacy } from './import-legacy.js';
import { registerNotify } from './notify.js';
import { registerPropose } from './propose.js';
import { registerSupervise } from './supervise/command.js';
import { PACKAGE_VERSION } from '../core/version.js';

/**
 * Each verb module adds its command tree to the program; its actions import the implementation
 * when they run (docs/ARCHITECTURE.md, "The command line loads what a verb uses").
 */
const registrations: Array<(program: Command) => void> = [registerSupervise, registerAudit, registerDemo, registerDb, registerPropose, registerImportLegacy, registerBottles, registerNotify, registerDashboard, registerBroker];

export function buildProgram(): Command {
  const program = new Command('bot-bottle')
    .description('Operator tools for the bot-bottle supervise plane: triage proposals, review the audit log, manage the database.')
    .version(PACKAGE_VERSION)
    .option('--db <path>', 'use this database file instead of ~/.bot-bottle/bot-bottle.db (tests, tools)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of registrations) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
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
