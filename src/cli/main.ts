#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerAudit } from './audit/command.js';
import { endQuietlyOnClosedOutput } from './closed-output.js';
import { reportFailure } from './common.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { registerBroker } from './broker.js';
import { registerDb } from './db.js';
import { registerDemo } from './demo/command.js';
import { registerImportLegacy } from './import-legacy.js';
import { registerPropose } from './propose.js';
import { registerSupervise } from './supervise/command.js';

/** Each verb module adds its command to the program; see src/cli/<verb>.ts. */
const registrations: Array<(program: Command) => void> = [registerSupervise, registerAudit, registerDemo, registerDb, registerPropose, registerImportLegacy, registerBroker];

export function buildProgram(): Command {
  const program = new Command('bot-bottle')
    .description('Operator tools for the bot-bottle supervise plane: triage proposals, review the audit log, manage the database.')
    .version('0.1.0')
    .option('--db <path>', 'use this database file instead of ~/.bot-bottle/bot-bottle.db (tests, tools)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of registrations) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedOutput();
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? VERB_EXIT.ok : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message; help and version are successful exits.
      return error.exitCode === 0 ? VERB_EXIT.ok : VERB_EXIT.usage;
    }
    return reportFailure(error);
  }
}

process.exitCode = await main(process.argv);
