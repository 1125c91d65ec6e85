import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { safeLine } from '../src/core/safe-text.js';

/** Why a request is turned away before anything reads its body or touches the store. */
export interface Refusal {
  status: 401 | 403;
  message: string;
  headers?: http.OutgoingHttpHeaders;
}

export interface RequestGuardOptions {
  /** Host names (no ports) the bottle reaches the sidecar by, lower case; IPv6 in brackets. */
  allowedHosts: readonly string[];
  /** When set, `/mcp` requires `Authorization: Bearer <token>`. */
  bearerToken: string | undefined;
}

/** A Host header is a name and an optional port; anything else (userinfo, a path) is not one. */
const HOST_HEADER = /^[^\s/\\@?#]+$/;

function hostnameOf(authority: string): string | undefined {
  if (!HOST_HEADER.test(authority)) return undefined;
  try {
    return new URL(`http://${authority}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The checks every request passes before it is routed. A web page the operator opens can make
 * their browser reach the sidecar under the page's own name by rebinding that name to the
 * sidecar's address (DNS rebinding); the browser still sends the page's name in Host (and its
 * origin in Origin), so a name the bottle does not use is refused. The port is not compared:
 * the name is what the attacker controls, and a port mapping may change the port honestly.
 */
export class RequestGuard {
  readonly #allowed: ReadonlySet<string>;
  readonly #token: Buffer | undefined;

  constructor(options: RequestGuardOptions) {
    this.#allowed = new Set(options.allowedHosts);
    // Hashing first makes the comparison length-independent as well as constant-time.
    this.#token = options.bearerToken === undefined ? undefined : digest(options.bearerToken);
  }

  /** Host (and Origin, when a browser sends one) must name the sidecar as the bottle knows it. */
  checkHost(req: http.IncomingMessage): Refusal | undefined {
    const host = req.headers.host;
    const hostname = host === undefined ? undefined : hostnameOf(host);
    if (hostname === undefined || !this.#allowed.has(hostname)) {
      return { status: 403, message: `Host ${host === undefined ? '(none)' : JSON.stringify(safeLine(host))} is not a name this sidecar answers to; reach it as ${[...this.#allowed].join(', ')}.` };
    }
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let originHost: string | undefined;
      try {
        const url = new URL(origin);
        originHost = url.protocol === 'http:' || url.protocol === 'https:' ? url.hostname.toLowerCase() : undefined;
      } catch {
        originHost = undefined;
      }
      if (originHost === undefined || !this.#allowed.has(originHost)) {
        return { status: 403, message: `Origin ${JSON.stringify(safeLine(origin))} may not call this sidecar: it answers only the bottle's own clients.` };
      }
    }
    return undefined;
  }

  /** With a token configured, the request must carry it as a bearer credential. */
  checkBearer(req: http.IncomingMessage): Refusal | undefined {
    if (this.#token === undefined) return undefined;
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
    if (match && timingSafeEqual(digest(match[1] as string), this.#token)) return undefined;
    return {
      status: 401,
      message: `${match ? 'The bearer token is not this sidecar’s.' : 'This sidecar requires Authorization: Bearer <token>.'} Configure the MCP client with the token the launcher gave (prepareSupervise's mcpToken).`,
      headers: { 'www-authenticate': `Bearer realm="bot-bottle-supervise"${match ? ', error="invalid_token"' : ''}` },
    };
  }
}
