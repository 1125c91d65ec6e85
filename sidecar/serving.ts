import type { SidecarConfig } from './config.js';
import { DownwardDispatcher, builtinDownwardHandlers } from './downward.js';
import type { McpHandler } from './http-server.js';
import { LiveRoutesFile } from './live-routes.js';
import type { Log } from './log-line.js';
import { mcpHandler } from './mcp-endpoint.js';
import type { ServingStorage } from './storage-open.js';

export interface ServingOptions {
  storage: ServingStorage;
  config: SidecarConfig;
  /** Aborted at shutdown: every wait in flight returns a pending result. */
  shutdown: AbortSignal;
  log: Log;
  /** Called when the live routes file changed (the heartbeat publishes its new hash). */
  onRoutesChanged: () => Promise<void>;
}

export interface Serving {
  handleMcp: McpHandler;
  /** Stops the downward handlers (their proposals stay pending for the next start). */
  stop(): Promise<void>;
}

/**
 * What the sidecar serves with beyond its database: the kinds' payload formats, the MCP SDK, the
 * live routes file and the downward handlers. `serve` imports this module once its port listens,
 * so that start-up refusals and the ready line come without loading any of it.
 */
export async function startServing(options: ServingOptions): Promise<Serving> {
  const { storage, config, log } = options;
  await storage.loadKinds();
  const live = config.routesFile ? new LiveRoutesFile({ file: config.routesFile, reloadCommand: config.reloadCommand, bottle: storage.bottle, log, onChanged: options.onRoutesChanged }) : undefined;
  const downward = new DownwardDispatcher(storage.queue, builtinDownwardHandlers(live), log);
  downward.start();
  return {
    handleMcp: mcpHandler({ queue: storage.queue, live, config, shutdown: options.shutdown, log }),
    stop: () => downward.stop(),
  };
}
