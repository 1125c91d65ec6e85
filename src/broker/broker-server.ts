import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SuperviseError, isSuperviseError } from '../core/errors.js';
import { environmentError } from '../storage/environment-errors.js';
import { SCHEMA_VERSION } from '../storage/schema-version.js';
import type { FloodLimits } from '../queue/flood-control.js';
import type { SuperviseDatabase } from '../database.js';
import { BrokeredBottles } from './bottle-views.js';
import { OPERATIONS } from './operations.js';
import { BROKER_API_PREFIX, BROKER_HEALTH_PATH, BROKER_OPERATIONS, MAX_BROKER_BODY_BYTES, brokerRequests, type BrokerOperation } from './protocol.js';
import { RefusalLog } from './refusal-log.js';
import { RequestAuthenticator } from './request-auth.js';

/**
 * A sidecar holds a long poll for changes, another for each waiting call, and a few short
 * requests; past this many at once one bottle is answered 429 instead of exhausting the broker.
 */
export const MAX_REQUESTS_PER_BOTTLE = 64;
/** All bottles together; the broker's file descriptors and memory stay bounded. */
export const MAX_CONNECTIONS = 4096;
/** A request's headers and body must arrive within these; a slow sender cannot hold a socket open. */
const HEADERS_TIMEOUT_MS = 10_000;
const BODY_TIMEOUT_MS = 30_000;
/** Longer than any poll, so a kept-alive connection is not cut while the client reads an answer. */
const KEEP_ALIVE_MS = 60_000;

export interface BrokerServerOptions {
  database: SuperviseDatabase;
  host: string;
  port: number;
  /** Each bottle's quota, held by the broker where the bottle cannot change it. */
  flood: FloodLimits;
  /** The host's keys directory (default ~/.bot-bottle/keys), where each bottle's key is. */
  keysDir?: string;
  log: (line: string) => void;
}

const STATUS_BY_CODE: Partial<Record<string, number>> = { 'not-found': 404, forbidden: 403, 'rate-limited': 429, unauthorized: 401, 'too-large': 413 };
const STATUS_BY_CATEGORY = { usage: 400, input: 400, conflict: 409, environment: 503 } as const;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function sendError(res: http.ServerResponse, error: SuperviseError): void {
  sendJson(res, STATUS_BY_CODE[error.code] ?? STATUS_BY_CATEGORY[error.category], { error: { code: error.code, message: error.message, ...(error.state !== undefined ? { state: error.state } : {}) } });
}

/**
 * `bot-bottle broker`'s HTTP face: one listener for every bottle. Each request is authenticated
 * as one bottle (request-auth.ts) and runs on that bottle's view only; every byte of it is treated
 * as hostile: sizes and times are bounded before it is read, its JSON is checked against the
 * operation's shape before any store sees it.
 */
export class BrokerServer {
  readonly #options: BrokerServerOptions;
  readonly #server: http.Server;
  readonly #bottles: BrokeredBottles;
  readonly #auth: RequestAuthenticator;
  readonly #refusals: RefusalLog;
  readonly #stopping = new AbortController();
  readonly #inFlight = new Map<string, number>();

  constructor(options: BrokerServerOptions) {
    this.#options = options;
    this.#bottles = new BrokeredBottles(options.database, options.flood, options.keysDir);
    this.#auth = new RequestAuthenticator((slug) => this.#bottles.get(slug)?.requestKey);
    this.#refusals = new RefusalLog(options.database.audit, options.log);
    // Every request in flight listens for the stop (each removes its listener when done); many at once is normal.
    setMaxListeners(0, this.#stopping.signal);
    this.#server = http.createServer((req, res) => void this.#route(req, res));
    this.#server.headersTimeout = HEADERS_TIMEOUT_MS;
    this.#server.requestTimeout = BODY_TIMEOUT_MS;
    this.#server.keepAliveTimeout = KEEP_ALIVE_MS;
    this.#server.maxConnections = MAX_CONNECTIONS;
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

  /** Ends every long poll at once (waits answer `pending`), then closes the listener and its connections. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeIdleConnections();
    // Answers to aborted polls are already on their way; give them a moment before cutting the rest.
    const cut = setTimeout(() => this.#server.closeAllConnections(), 1000);
    await closed;
    clearTimeout(cut);
  }

  async #route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? '').split('?')[0] ?? '';
      if (path === BROKER_HEALTH_PATH && req.method === 'GET') return sendJson(res, 200, { ok: this.#options.database.db.open, schemaVersion: SCHEMA_VERSION });
      const operation = path.startsWith(BROKER_API_PREFIX) ? path.slice(BROKER_API_PREFIX.length) : undefined;
      if (operation === undefined || !(BROKER_OPERATIONS as readonly string[]).includes(operation)) {
        return sendError(res, new SuperviseError('not-found', `no broker operation at ${JSON.stringify(path.slice(0, 100))}; this broker speaks ${BROKER_API_PREFIX}{${BROKER_OPERATIONS.join(',')}}.`));
      }
      if (req.method !== 'POST') return sendError(res, new SuperviseError('usage', `broker operations are POST requests, not ${String(req.method).slice(0, 16)}.`));
      if (this.#stopping.signal.aborted) return sendError(res, new SuperviseError('broker-unreachable', 'the broker is shutting down; try again once it is back.'));
      const body = await readBody(req);
      if (body === undefined) {
        req.resume();
        return sendError(res, new SuperviseError('too-large', `the request body is over the broker's ${MAX_BROKER_BODY_BYTES} byte limit.`));
      }
      await this.#authenticated(operation as BrokerOperation, path, req, res, body);
    } catch (error) {
      this.#fail(res, error);
    }
  }

  async #authenticated(operation: BrokerOperation, path: string, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    const verdict = this.#auth.verify('POST', path, req.headers, body);
    if ('reason' in verdict) {
      await this.#refusals.record(verdict, req.socket.remoteAddress ?? 'unknown', verdict.slug !== undefined && this.#bottles.get(verdict.slug) !== undefined);
      return sendError(res, new SuperviseError('unauthorized', `request refused: ${verdict.reason}. The sidecar must sign with its own bottle's key (the key mount prepareSupervise() returns).`));
    }
    const bottle = this.#bottles.get(verdict.slug);
    if (!bottle) throw new Error(`bottle ${verdict.slug} authenticated without a key`);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return sendError(res, new SuperviseError('invalid-input', `the ${operation} request body is not JSON.`));
    }
    const parsed = brokerRequests[operation].safeParse(json);
    if (!parsed.success) {
      const problem = parsed.error.issues[0];
      return sendError(res, new SuperviseError('invalid-input', `the ${operation} request is malformed: ${problem ? `${problem.path.join('.') || '(top level)'}: ${problem.message}` : 'wrong shape'}.`));
    }
    const inFlight = this.#inFlight.get(bottle.slug) ?? 0;
    if (inFlight >= MAX_REQUESTS_PER_BOTTLE) return sendError(res, new SuperviseError('rate-limited', `bottle ${bottle.slug} has ${inFlight} requests in flight, the broker's limit; wait for some to finish.`));
    this.#inFlight.set(bottle.slug, inFlight + 1);
    const gone = new AbortController();
    const onStop = (): void => gone.abort();
    this.#stopping.signal.addEventListener('abort', onStop, { once: true });
    res.on('close', () => gone.abort());
    try {
      const run = OPERATIONS[operation] as (request: unknown, context: Parameters<(typeof OPERATIONS)['hello']>[1]) => Promise<unknown>;
      sendJson(res, 200, await run(parsed.data, { database: this.#options.database, bottle, signal: gone.signal }));
    } finally {
      this.#stopping.signal.removeEventListener('abort', onStop);
      const left = (this.#inFlight.get(bottle.slug) ?? 1) - 1;
      if (left === 0) this.#inFlight.delete(bottle.slug);
      else this.#inFlight.set(bottle.slug, left);
    }
  }

  #fail(res: http.ServerResponse, error: unknown): void {
    const failure = environmentError(error, this.#options.database.path) ?? error;
    if (isSuperviseError(failure)) return sendError(res, failure);
    this.#options.log(`internal error: ${failure instanceof Error ? (failure.stack ?? failure.message) : String(failure)}`);
    sendJson(res, 500, { error: { code: 'internal', message: 'the broker failed on this request; its log says why.' } });
  }
}

/** The body, or undefined past the limit (checked against Content-Length first, then as it arrives). */
async function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (!Number.isFinite(declared) || declared > MAX_BROKER_BODY_BYTES) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BROKER_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
