import type { Command } from 'commander';
import { DEFAULT_BROKER_HOST, DEFAULT_BROKER_PORT } from '../broker/defaults.js';
import { DEFAULT_FLOOD_LIMITS } from '../queue/flood-control.js';
import type { BrokerFlags } from './broker-run.js';

/** The `broker` command tree; what its action does is in ./broker-run.ts, loaded when it runs. */
/** `bot-bottle broker`: serves VM-backed bottles' sidecars in the foreground until SIGTERM or Ctrl-C. */
export function registerBroker(program: Command): void {
  program
    .command('broker')
    .description("Serve bottles' sidecars over HTTP from the host database (for VM-backed bottles, where the database cannot be mounted). Runs in the foreground; one broker serves every bottle.")
    .option('--host <addr>', 'address to listen on (loopback by default; VM backends reach it through their host alias)', DEFAULT_BROKER_HOST)
    .option('--port <n>', 'port to listen on (0 picks a free one)', String(DEFAULT_BROKER_PORT))
    .option('--keys-dir <dir>', "the host's keys directory (default ~/.bot-bottle/keys)")
    .option('--max-pending <n>', "each bottle's proposals waiting for the operator at once", String(DEFAULT_FLOOD_LIMITS.maxPending))
    .option('--proposals-per-minute <n>', "each bottle's proposals in any 60 s", String(DEFAULT_FLOOD_LIMITS.perMinute))
    .action(async (flags: BrokerFlags, command: Command) => {
      const { serveBroker } = await import('./broker-run.js');
      await serveBroker(flags, command);
    });
}
