import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { CSRF_HEADER, type ErrorView } from './page/api-types.js';

/**
 * Who may use the dashboard: whoever holds the token printed at start (in the URL, as Jupyter
 * does). The page trades it for a cookie (HttpOnly, SameSite=Strict) so it leaves the address bar;
 * state-changing requests carry a second secret, the CSRF token, in a header that only the page's
 * own script can read and set, and must come from the page's own origin.
 */
export interface AccessSecrets {
  token: string;
  csrfToken: string;
}

export function newSecrets(): AccessSecrets {
  return { token: randomBytes(32).toString('base64url'), csrfToken: randomBytes(32).toString('base64url') };
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Per port: browsers share cookies across ports, and two dashboards must not overwrite each other's. */
function cookieName(port: number): string {
  return `bot_bottle_dashboard_${port}`;
}

function refuse(c: Context, status: 400 | 401 | 403 | 415, error: ErrorView): Response {
  return c.json(error, status);
}

/** Every response: no caching, no referrer (the URL held the token), no framing, no sniffing, and a CSP without inline script. */
export function securityHeaders(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    c.header('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    c.header('Referrer-Policy', 'no-referrer');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('X-Frame-Options', 'DENY');
    c.header('Cross-Origin-Opener-Policy', 'same-origin');
    c.header('Cross-Origin-Resource-Policy', 'same-origin');
    if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
  };
}

/** A Host this server was not addressed by means a rebound DNS name (or a mistake): refused before anything else. */
export function hostCheck(allowed: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    const host = c.req.header('host')?.toLowerCase();
    if (host === undefined || !allowed.has(host)) {
      return refuse(c, 403, { code: 'forbidden', error: `this dashboard answers only to ${[...allowed].join(', ')}; the request named ${JSON.stringify(host ?? '(no Host)')}. Open the URL bot-bottle dashboard printed.` });
    }
    return next();
  };
}

/**
 * The token, from the cookie, or from `?token=` on the first visit (which sets the cookie and
 * redirects to the same path without it). Without either: 401, saying where the URL is.
 */
export function tokenCheck(secrets: AccessSecrets, port: number): MiddlewareHandler {
  const name = cookieName(port);
  return async (c, next) => {
    const fromQuery = c.req.query('token');
    if (fromQuery !== undefined) {
      if (!sameSecret(fromQuery, secrets.token)) return unauthorized(c);
      setCookie(c, name, secrets.token, { httpOnly: true, sameSite: 'Strict', path: '/' });
      return c.redirect(c.req.path, 303);
    }
    if (!sameSecret(getCookie(c, name), secrets.token)) return unauthorized(c);
    return next();
  };
}

function unauthorized(c: Context): Response {
  const message = 'this dashboard needs its token: open the full URL bot-bottle dashboard printed (http://127.0.0.1:PORT/?token=…), or restart it for a new one.';
  if (c.req.path.startsWith('/api/')) return refuse(c, 401, { code: 'unauthorized', error: message });
  return c.text(`401 Unauthorized: ${message}\n`, 401);
}

/**
 * State-changing requests: JSON only (a form cannot send it cross-site without a preflight), from
 * this origin (Origin or Sec-Fetch-Site when the browser sends them), with the CSRF header.
 */
export function csrfCheck(secrets: AccessSecrets, allowedHosts: ReadonlySet<string>): MiddlewareHandler {
  const origins = new Set([...allowedHosts].map((host) => `http://${host}`));
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      return refuse(c, 403, { code: 'forbidden', error: `cross-origin request from ${JSON.stringify(origin)} refused: answer from the dashboard's own page.` });
    }
    const site = c.req.header('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin') {
      return refuse(c, 403, { code: 'forbidden', error: `request from another site (${JSON.stringify(site)}) refused: answer from the dashboard's own page.` });
    }
    if (!sameSecret(c.req.header(CSRF_HEADER), secrets.csrfToken)) {
      return refuse(c, 403, { code: 'forbidden', error: `the ${CSRF_HEADER} header is missing or wrong: this request did not come from the dashboard's page. Reload the page and try again.` });
    }
    if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      return refuse(c, 415, { code: 'usage', error: 'send the request body as JSON (Content-Type: application/json).' });
    }
    return next();
  };
}
