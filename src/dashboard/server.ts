import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { SuperviseError } from '../core/errors.js';
import type { SuperviseDatabase } from '../database.js';
import { newSecrets } from './access.js';
import { createDashboardApp } from './app.js';
import { allowedHostHeaders, baseUrl, checkBindAddress } from './bind-address.js';
import { loadPageAssets } from './page-assets.js';

export interface DashboardOptions {
  /** Listen address; loopback unless `forceHost`. Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  forceHost?: boolean;
  /** Who the audit log names for answers given on the page. */
  responder: string;
}

export interface RunningDashboard {
  /** The URL with the token: whoever has it can answer for the operator. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the dashboard for `database` until `close()`; the database stays the caller's to close. */
export async function startDashboard(database: SuperviseDatabase, options: DashboardOptions): Promise<RunningDashboard> {
  const address = checkBindAddress(options.host ?? '127.0.0.1', options.forceHost ?? false);
  const assets = loadPageAssets();
  const secrets = newSecrets();
  // The app needs the port for its Host check and cookie, known once the server listens; it takes requests only then.
  const server = createServer();
  const port = await listen(server, address, options.port ?? 0);
  const { app, live } = createDashboardApp({ database, secrets, allowedHosts: allowedHostHeaders(address, port), port, responder: options.responder, assets });
  server.on('request', getRequestListener(app.fetch));
  return {
    url: `${baseUrl(address, port)}/?token=${secrets.token}`,
    port,
    close: async () => {
      live.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? `port ${port} is in use: pick another with --port, or 0 for any free port` : error.code === 'EADDRNOTAVAIL' ? `${address} is not an address of this machine` : error.message;
      reject(new SuperviseError('listen', `the dashboard cannot listen on ${address}:${port}: ${why}.`));
    });
    server.listen(port, address, () => resolve((server.address() as AddressInfo).port));
  });
}
