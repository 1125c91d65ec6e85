import { SCHEMA_VERSION } from '../src/storage/schema-version.js';
import { SuperviseError } from '../src/core/errors.js';
import { readConfig } from './config.js';
import { SidecarHttpServer, MCP_PATH } from './http-server.js';
import { SidecarHeartbeat } from './heartbeat.js';
import { SERVE_EXIT } from './defaults.js';
import { PACKAGE_VERSION } from '../src/core/version.js';
import { openStorage } from './storage-open.js';
import type { Log } from './log-line.js';
import type { Serving } from './serving.js';

/** In-flight calls get this long to return their pending results before connections are cut. */
const SHUTDOWN_DRAIN_MS = 3000;

export interface ServeOptions {
  dbPath?: string;
  /** The bottle's key directory, only outside a container (tests, the demo); inside one it is KEYS_DIR_IN_CONTAINER. */
  keysDir?: string;
  port: number;
  /** Overrides SUPERVISE_LISTEN_HOST (default DEFAULT_LISTEN_HOST). */
  host?: string;
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the sidecar should shut down (SIGTERM/SIGINT in the real process). */
  stopRequested: Promise<string>;
  stdout: (line: string) => void;
  log: Log;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Runs the sidecar until `stopRequested` resolves. Start-up problems are refused before anything
 * listens, as a `SuperviseError` whose message the caller prints as one line.
 *
 * Ready (the `ready` line) means: every start-up check passed (settings, the database, its schema,
 * the keys, the port) and the port accepts connections. What serving needs beyond that (the MCP
 * SDK, the kinds' payload formats, the live routes file, the downward handlers; serving.ts) loads
 * right after, and every request waits for it: none is refused or answered by a half-started
 * sidecar, and `/healthz` answers only once calls are served (docs/SIDECAR.md).
 */
export async function serve(options: ServeOptions): Promise<number> {
  const config = readConfig(options.env);
  const host = options.host ?? config.listenHost;
  const storage = await openStorage(config.slug, {
    ...(options.dbPath !== undefined ? { dbPath: options.dbPath } : {}),
    ...(options.keysDir !== undefined ? { keysDir: options.keysDir } : {}),
    ...(config.brokerUrl !== undefined ? { brokerUrl: config.brokerUrl } : {}),
    flood: config.flood,
    log: options.log,
  });
  const heartbeat = new SidecarHeartbeat({ bottle: storage.bottle, sidecarVersion: PACKAGE_VERSION, routesFile: config.routesFile, log: options.log });
  const shutdown = new AbortController();
  // Settled by the warm-up, which starts once the port listens; requests arriving before wait on it.
  let warmedUp!: (serving: Promise<Serving>) => void;
  const serving = new Promise<Serving>((resolve) => (warmedUp = resolve));
  const http = new SidecarHttpServer({
    host,
    port: options.port,
    ready: serving.then((started) => started.handleMcp),
    health: () => ({ ok: storage.isOpen(), slug: config.slug, version: PACKAGE_VERSION, schemaVersion: SCHEMA_VERSION }),
    log: options.log,
    allowedHosts: config.allowedHosts,
    bearerToken: config.mcpToken,
  });
  let address;
  try {
    address = await http.listen();
  } catch (error) {
    await storage.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new SuperviseError(
      'listen',
      code === 'EADDRINUSE'
        ? `port ${options.port} on ${host} is already in use; stop whatever holds it or pass --port.`
        : `cannot listen on ${host}:${options.port} (${code ?? String(error)}).`,
    );
  }
  await heartbeat.start();
  options.stdout(`ready http://${hostForUrl(host)}:${address.port}${MCP_PATH}`);
  warmedUp(
    import('./serving.js').then(({ startServing }) => startServing({ storage, config, shutdown: shutdown.signal, log: options.log, onRoutesChanged: () => heartbeat.beat() })),
  );
  // Settles only if the warm-up fails, with the reason.
  const warmUpFailure = serving.then(
    () => {
      options.log(`serving bottle ${config.slug} from ${storage.location} (schema ${SCHEMA_VERSION})`);
      return new Promise<never>(() => {});
    },
    (error: unknown) => {
      const reason = storage.schemaChange() ?? error;
      return `cannot start serving: ${reason instanceof Error ? reason.message : String(reason)}`;
    },
  );

  // The database can fail under a running sidecar (its schema rolled back, the file damaged), and
  // the warm-up can fail (a damaged install): either ends the sidecar like a signal does, with the
  // reason and the start-up refusal's exit code.
  const failure = storage.failed.then((error) => (error instanceof Error ? error.message : String(error)));
  const stop = await Promise.race([options.stopRequested.then((signal) => ({ signal })), failure.then((reason) => ({ reason })), warmUpFailure.then((reason) => ({ reason }))]);
  options.log(`${'signal' in stop ? stop.signal : stop.reason}: shutting down; calls in flight return pending results`, 'signal' in stop ? 'info' : 'error');
  const stopped = http.stop(SHUTDOWN_DRAIN_MS);
  shutdown.abort();
  await stopped;
  // A warm-up still under way finishes first, so its downward handlers are stopped too.
  await serving.then((started) => started.stop(), () => undefined);
  await heartbeat.stop();
  await storage.close();
  return 'signal' in stop ? SERVE_EXIT.ok : SERVE_EXIT.refused;
}
