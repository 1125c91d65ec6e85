import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isSuperviseError } from '../src/core/errors.js';
import { PROPOSE_EXIT, exitCodeFor } from '../src/core/exit-codes.js';
import { environmentError } from '../src/storage/environment-errors.js';
import { formatLogLine, formatLogRecord, LOG_FORMATS, type Log, type LogFormat } from './log-line.js';
import type { ProposeOptions } from './propose.js';
import { DEFAULT_LISTEN_HOST } from './config.js';
import { DEFAULT_PORT, SERVE_EXIT } from './defaults.js';
import { PACKAGE_VERSION } from '../src/core/version.js';

const NAME = 'bot-bottle-sidecar';

/** A message for whoever ran a one-shot command (`propose`, a usage error). */
function log(line: string): void {
  process.stderr.write(formatLogLine(NAME, line));
}

/** The serving sidecar's log: one timestamped, levelled event a line. */
function serveLog(format: LogFormat): Log {
  return (message, level = 'info') => process.stderr.write(formatLogRecord(level, message, format));
}

/** The first of SIGTERM/SIGINT, by name. Listening also stops Node's default of dying at once. */
function firstSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('give a TCP port from 0 to 65535 (0 picks a free one).');
  return port;
}

/** Where each subcommand's failures and usage errors end up: one exit code per command. */
export interface Outcome {
  code: number;
}

/** The sidecar's command tree; each action imports what it runs. */
export function buildProgram(outcome: Outcome): Command {
  const program = new Command(NAME)
    .description('The bot-bottle supervise sidecar: MCP server for the agent, propose command for shell callers, and the downward handlers (docs/SIDECAR.md).')
    .version(PACKAGE_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('serve', { isDefault: true })
    .description('Serve MCP over HTTP for this bottle (SUPERVISE_BOTTLE_SLUG) and answer downward proposals until SIGTERM.')
    .option('--db <path>', 'database file, only for running outside a container (inside one it is always /run/supervise/bot-bottle.db)')
    .option('--keys-dir <dir>', "the bottle's key directory, only outside a container (inside one it is always the read-only mount at /run/supervise-keys)")
    .option('--port <n>', `TCP port; 0 picks a free one (default ${DEFAULT_PORT})`, parsePort, DEFAULT_PORT)
    .option('--host <addr>', `address to listen on (default SUPERVISE_LISTEN_HOST or ${DEFAULT_LISTEN_HOST})`)
    .addOption(new Option('--log-format <format>', 'each log event on stderr as a line of text (time, level, message) or as a JSON object').choices(LOG_FORMATS).default('text'))
    .exitOverride((error) => {
      throw Object.assign(error, { sidecarExit: error.exitCode === 0 ? 0 : SERVE_EXIT.usage });
    })
    .action(async (options: { db?: string; keysDir?: string; port: number; host?: string; logFormat: LogFormat }) => {
      const log = serveLog(options.logFormat);
      // The MCP SDK, the kinds and the database load only for the command that uses them.
      const { serve } = await import('./serve.js');
      try {
        outcome.code = await serve({
          ...(options.db !== undefined ? { dbPath: options.db } : {}),
          ...(options.keysDir !== undefined ? { keysDir: options.keysDir } : {}),
          port: options.port,
          ...(options.host !== undefined ? { host: options.host } : {}),
          env: process.env,
          stopRequested: firstSignal(),
          stdout: (line) => process.stdout.write(`${line}\n`),
          log,
        });
      } catch (error) {
        // Everything serve throws itself is a start-up refusal: a setting, the database, the port.
        const failure = environmentError(error) ?? error;
        if (!isSuperviseError(failure)) throw failure;
        log(failure.message, 'error');
        outcome.code = SERVE_EXIT.refused;
      }
    });

  program
    .command('propose')
    .description(
      'Propose to the operator and wait. Exit 0 approved (or modified), 1 rejected, 2 still pending (prints the id), 3 expired, 4 bad input, 5 environment, 6 cancelled, 7 stale (approved, but the live routes file changed and the change does not merge: nothing applied).',
    )
    .option('--kind <kind>', 'proposal kind: gitleaks-allow, egress-allow, egress-block or egress-token-allow')
    .option('--payload-file <file>', 'the payload (report or routes file); - reads standard input')
    .option('--justification <text>', 'why, for the operator')
    .option('--wait <seconds>', 'how long to wait for the answer (default SUPERVISE_RESPONSE_TIMEOUT_SECONDS or 30; 0 returns at once)')
    .option('--proposal-id <id>', 'resume waiting on a proposal an earlier run left pending')
    .option('--origin <name>', 'who proposes, shown to the operator (default: the kind’s component, e.g. git-gate)')
    .option('--final-file <file>', 'when the operator modifies the proposal, write the final payload here')
    .option('--json', 'print the outcome as JSON on stdout, the object the MCP route tools return as structuredContent (exit codes unchanged)')
    .option('--db <path>', 'database file, only outside a container')
    .option('--keys-dir <dir>', "the bottle's key directory, only outside a container")
    .exitOverride((error) => {
      throw Object.assign(error, { sidecarExit: error.exitCode === 0 ? 0 : PROPOSE_EXIT.input });
    })
    .action(async (options: ProposeOptions) => {
      const { propose } = await import('./propose.js');
      try {
        outcome.code = await propose(options, {
          env: process.env,
          stdout: (text) => process.stdout.write(text),
          stderr: log,
          stdin: process.stdin,
          interrupted: firstSignal(),
        });
      } catch (error) {
        const failure = environmentError(error) ?? error;
        if (!isSuperviseError(failure)) throw failure;
        log(failure.message);
        outcome.code = exitCodeFor(failure, 'propose');
      }
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const outcome: Outcome = { code: 0 };
  try {
    await buildProgram(outcome).parseAsync(argv);
    return outcome.code;
  } catch (error) {
    if (error instanceof CommanderError) {
      const exit = (error as CommanderError & { sidecarExit?: number }).sidecarExit;
      return exit ?? (error.exitCode === 0 ? 0 : SERVE_EXIT.usage);
    }
    log(`unexpected error: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.BOT_BOTTLE_DEBUG && error instanceof Error && error.stack) process.stderr.write(formatLogLine(NAME, error.stack));
    return PROPOSE_EXIT.internal;
  }
}
