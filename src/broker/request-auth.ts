import type { IncomingHttpHeaders } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { isSlug } from '../core/validation.js';
import { AUTH_HEADERS, CLOCK_SKEW_MS, requestSignature } from './protocol.js';

/** Why a request was not let through: what the broker logs and audits, never sent in detail. */
export type AuthRefusal = { slug: string | undefined; reason: string };

export interface AuthenticatedRequest {
  slug: string;
}

/**
 * A bottle's nonces within the clock window. Bounded per bottle, so one bottle signing as fast as
 * it can fills only its own set; past the bound its requests are refused until the window moves.
 */
const MAX_NONCES_PER_BOTTLE = 50_000;

const NONCE = /^[0-9a-f]{32}$/;
const TIME = /^[0-9]{1,16}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * Checks the signature headers of one request against the bottle's request key (see
 * protocol.ts), in constant time, and refuses a replayed nonce or a time outside the window.
 */
export class RequestAuthenticator {
  readonly #requestKey: (slug: string) => Buffer | undefined;
  readonly #now: () => number;
  readonly #seen = new Map<string, Map<string, number>>();

  constructor(requestKey: (slug: string) => Buffer | undefined, now: () => number = Date.now) {
    this.#requestKey = requestKey;
    this.#now = now;
  }

  verify(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer): AuthenticatedRequest | AuthRefusal {
    const slug = single(headers[AUTH_HEADERS.slug]);
    const time = single(headers[AUTH_HEADERS.time]);
    const nonce = single(headers[AUTH_HEADERS.nonce]);
    const signature = single(headers[AUTH_HEADERS.signature]);
    if (slug === undefined || !isSlug(slug)) return { slug: undefined, reason: 'no valid bottle slug header' };
    if (time === undefined || !TIME.test(time) || nonce === undefined || !NONCE.test(nonce) || signature === undefined || !SIGNATURE.test(signature)) {
      return { slug, reason: 'missing or malformed signature headers' };
    }
    const key = this.#requestKey(slug);
    if (key === undefined) return { slug, reason: 'no key for this bottle on the host (was it prepared with prepareSupervise?)' };
    const expected = requestSignature(key, { method, path, slug, time, nonce, body });
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return { slug, reason: 'signature does not verify with the bottle key' };
    const now = this.#now();
    if (Math.abs(now - Number(time)) > CLOCK_SKEW_MS) return { slug, reason: `request time is ${Math.round((Number(time) - now) / 1000)} s from the host's clock` };
    const seen = this.#nonces(slug, now);
    if (seen.has(nonce)) return { slug, reason: 'replayed request (nonce already used)' };
    if (seen.size >= MAX_NONCES_PER_BOTTLE) return { slug, reason: 'too many requests within the replay window' };
    seen.set(nonce, Number(time));
    return { slug };
  }

  /** The bottle's nonces, without those too old to be accepted again anyway. */
  #nonces(slug: string, now: number): Map<string, number> {
    let seen = this.#seen.get(slug);
    if (seen === undefined) {
      seen = new Map();
      this.#seen.set(slug, seen);
    }
    // Insertion order is arrival order; times within the window make the oldest arrive first closely enough.
    for (const [nonce, time] of seen) {
      if (now - time <= CLOCK_SKEW_MS) break;
      seen.delete(nonce);
    }
    return seen;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
