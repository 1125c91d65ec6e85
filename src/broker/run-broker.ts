import { SuperviseError } from '../core/errors.js';
import { openHostDatabase, startCheckpointing, type SuperviseDatabase } from '../database.js';
import { DEFAULT_FLOOD_LIMITS, type FloodLimits } from '../queue/flood-control.js';
import { BrokerServer } from './broker-server.js';

export interface StartBrokerOptions {
  /** Default DEFAULT_BROKER_HOST (loopback): a VM backend's host alias reaches the host's loopback. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The database file; default the host path (`hostDbPath()`). */
  dbPath?: string;
  /** The host's keys directory; default ~/.bot-bottle/keys. */
  keysDir?: string;
  /** Every bottle's quota (default DEFAULT_FLOOD_LIMITS). */
  flood?: FloodLimits;
  log: (line: string) => void;
}

export interface RunningBroker {
  /** `http://host:port`, what sidecars are given as SUPERVISE_BROKER_URL (with the VM's name for the host). */
  url: string;
  port: number;
  database: SuperviseDatabase;
  /** Ends every poll (waits answer `pending`), stops listening and closes the database. */
  stop(): Promise<void>;
}

/**
 * Opens the host database (creating and migrating it like every host tool) and serves every
 * prepared bottle's sidecar over HTTP. One broker serves all bottles; a launcher starts it once.
 */
export async function startBroker(options: StartBrokerOptions): Promise<RunningBroker> {
  const database = await openHostDatabase({ ...(options.dbPath !== undefined ? { path: options.dbPath } : {}), ...(options.keysDir !== undefined ? { keysDir: options.keysDir } : {}) });
  const server = new BrokerServer({
    database,
    host: options.host,
    port: options.port,
    flood: options.flood ?? DEFAULT_FLOOD_LIMITS,
    ...(options.keysDir !== undefined ? { keysDir: options.keysDir } : {}),
    log: options.log,
  });
  let address;
  try {
    address = await server.listen();
  } catch (error) {
    await database.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new SuperviseError(
      'listen',
      code === 'EADDRINUSE'
        ? `port ${options.port} on ${options.host} is already in use (another broker?); stop whatever holds it or pass --port.`
        : `cannot listen on ${options.host}:${options.port} (${code ?? String(error)}); pass an address of this host with --host.`,
    );
  }
  const stopCheckpointing = startCheckpointing(database.db);
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    database,
    stop: async () => {
      stopCheckpointing();
      await server.stop();
      await database.close();
    },
  };
}
