import type { Command } from 'commander';
import { startBroker } from '../broker/run-broker.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { MAX_FLOOD_SETTING } from '../queue/flood-control.js';
import { environmentError } from '../storage/environment-errors.js';
import { hostDbPath } from '../storage/layout.js';
import { databasePathOption, parsePositiveInt, UserError } from './common.js';

export interface BrokerFlags {
  host: string;
  port: string;
  keysDir?: string;
  maxPending: string;
  proposalsPerMinute: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UserError(`--port must be 0–65535, got ${JSON.stringify(value)}.`, VERB_EXIT.usage);
  return port;
}

function parseLimit(value: string, flag: string): number {
  const limit = parsePositiveInt(value, flag);
  if (limit > MAX_FLOOD_SETTING) throw new UserError(`${flag} must be at most ${MAX_FLOOD_SETTING}, got ${limit}.`, VERB_EXIT.usage);
  return limit;
}

const log = (line: string): void => void process.stderr.write(`bot-bottle broker: ${line}\n`);

/** `bot-bottle broker`: serves VM-backed bottles' sidecars in the foreground until SIGTERM or Ctrl-C. */
export async function serveBroker(flags: BrokerFlags, command: Command): Promise<void> {
  const port = parsePort(flags.port);
  const flood = { maxPending: parseLimit(flags.maxPending, '--max-pending'), perMinute: parseLimit(flags.proposalsPerMinute, '--proposals-per-minute') };
  const dbPath = databasePathOption(command);
  let broker;
  try {
    broker = await startBroker({ host: flags.host, port, flood, log, ...(dbPath !== undefined ? { dbPath } : {}), ...(flags.keysDir !== undefined ? { keysDir: flags.keysDir } : {}) });
  } catch (error) {
    throw environmentError(error, dbPath ?? hostDbPath()) ?? error;
  }
  const signal = await new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM')).once('SIGINT', () => resolve('SIGINT'));
    process.stdout.write(`ready ${broker.url}\n`);
    log(`serving ${broker.database.path} on ${broker.url} (each bottle: ${flood.maxPending} pending, ${flood.perMinute} a minute)`);
  });
  log(`${signal}: shutting down; waits in flight answer pending and resume against the next broker`);
  await broker.stop();
}
