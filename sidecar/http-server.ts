import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestGuard, type Refusal } from './request-guard.js';
import type { Log } from './log-line.js';

export const MCP_PATH = '/mcp';
export const HEALTH_PATH = '/healthz';
/**
 * A routes file (256 KiB) and a justification (8 KiB), JSON-escaped, fit well within this; a
 * larger body is refused with 413 before it is read.
 */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024;
/**
 * Each call may hold its connection, a subscription and a timer while the operator decides; an
 * agent needs a few at once, and past this many a new call is answered 429 instead of letting
 * one client exhaust the sidecar's memory or file descriptors.
 */
export const MAX_CONCURRENT_MCP_REQUESTS = 32;

/** Answers one request at /mcp (mcp-endpoint.ts). */
export type McpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export interface SidecarHttpOptions {
  host: string;
  port: number;
  /**
   * Resolves once the sidecar can serve: the MCP endpoint, after what it needs has loaded. The
   * server listens before that; every request (MCP and the health check alike) waits for it, so
   * none is answered by a half-started sidecar. If it rejects, requests get HTTP 500.
   */
  ready: Promise<McpHandler>;
  health: () => Record<string, unknown>;
  log: Log;
  /** Host names requests must carry (DNS rebinding); see RequestGuard. */
  allowedHosts: readonly string[];
  /** When set, `/mcp` requires it as `Authorization: Bearer`. */
  bearerToken: string | undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

const rpcError = (code: number, message: string) => ({ jsonrpc: '2.0', error: { code, message }, id: null });

function refuseWhileStopping(res: http.ServerResponse): void {
  sendJson(res, 503, rpcError(-32000, 'The supervise sidecar is shutting down; retry against the restarted sidecar.'), { connection: 'close' });
}

/** The sidecar's HTTP face: MCP Streamable HTTP (stateless, JSON responses) at /mcp and a health check. */
export class SidecarHttpServer {
  readonly #options: SidecarHttpOptions;
  readonly #server: http.Server;
  readonly #guard: RequestGuard;
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #stopping = false;

  constructor(options: SidecarHttpOptions) {
    this.#options = options;
    // A failed warm-up is reported by whoever started it; the requests that wait on it answer 500.
    options.ready.catch(() => undefined);
    this.#guard = new RequestGuard({ allowedHosts: options.allowedHosts, bearerToken: options.bearerToken });
    // Not `import http from 'node:http'`: an ES import of node:http builds its namespace, which reads
    // every export, and its WebSocket, CloseEvent and MessageEvent getters load undici, about 40 ms
    // before the sidecar could listen. getBuiltinModule reads only what is used.
    this.#server = process.getBuiltinModule('node:http').createServer((req, res) => this.#route(req, res));
    // Tool calls legitimately stay open while the operator decides.
    this.#server.requestTimeout = 0;
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', reject);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /**
   * Stops taking requests, lets those in flight finish (their waits end as pending once the
   * shutdown signal fires), and closes every connection by `deadlineMs` at the latest.
   */
  async stop(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    const drained = new Promise<void>((resolve) => {
      if (this.#inFlight === 0) resolve();
      else this.#idle = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([drained, late]);
    clearTimeout(timer);
    this.#server.closeAllConnections();
    await closed;
  }

  #route(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://sidecar').pathname;
    if (this.#stopping) {
      refuseWhileStopping(res);
      return;
    }
    // Before anything else reads the request: a refused one costs no body read and no store access.
    const wrongHost = this.#guard.checkHost(req);
    if (wrongHost) return this.#refuse(res, wrongHost);
    if (path === HEALTH_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      // Healthy means able to serve: answered once the warm-up is done, as an MCP call would be.
      this.#options.ready.then(
        () => sendJson(res, 200, this.#options.health()),
        () => sendJson(res, 500, { ...this.#options.health(), ok: false }),
      );
      return;
    }
    if (path !== MCP_PATH) {
      sendJson(res, 404, { error: `nothing at ${path}: the MCP endpoint is ${MCP_PATH}, the health check ${HEALTH_PATH}.` });
      return;
    }
    const unauthenticated = this.#guard.checkBearer(req);
    if (unauthenticated) return this.#refuse(res, unauthenticated);
    if (req.method !== 'POST') {
      // Stateless: no session to resume or delete and no server-initiated stream.
      sendJson(res, 405, rpcError(-32000, `Method not allowed: this MCP endpoint is stateless and takes POST only.`), { allow: 'POST' });
      return;
    }
    if (this.#inFlight >= MAX_CONCURRENT_MCP_REQUESTS) {
      sendJson(res, 429, rpcError(-32000, `Too many calls in flight (${MAX_CONCURRENT_MCP_REQUESTS}): wait for one to return before making another.`), { 'retry-after': '1', connection: 'close' });
      return;
    }
    this.#track(res);
    this.#handleMcp(req, res).catch((error: unknown) => {
      this.#options.log(`MCP request failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
      if (!res.headersSent) sendJson(res, 500, rpcError(-32603, 'Internal error in the supervise sidecar.'));
      else res.destroy();
    });
  }

  #refuse(res: http.ServerResponse, refusal: Refusal): void {
    this.#options.log(`refused a request (HTTP ${refusal.status}): ${refusal.message}`, 'warn');
    sendJson(res, refusal.status, rpcError(-32000, refusal.message), { ...refusal.headers, connection: 'close' });
  }

  #track(res: http.ServerResponse): void {
    this.#inFlight++;
    res.once('close', () => {
      this.#inFlight--;
      if (this.#inFlight === 0) this.#idle?.();
    });
  }

  async #handleMcp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const handle = await this.#options.ready;
    // A shutdown that began while this call waited for the warm-up answers it as any later call.
    if (this.#stopping) {
      refuseWhileStopping(res);
      return;
    }
    await handle(req, res);
  }
}
