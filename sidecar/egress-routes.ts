import { SuperviseError, isSuperviseError } from '../src/core/errors.js';
import { AUTH_SCHEMES, DLP_ACTIONS, type AuthScheme, type DlpAction, parseRoutesYaml, renderRoutesYaml, type Route, type RoutesDocument } from '../src/kinds/routes-file.js';

export const EGRESS_LIST_TIMEOUT_MS = 5000;
/** A route table is a few kilobytes; anything near this is not one. */
const MAX_ROUTE_TABLE_BYTES = 1024 * 1024;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

export type RouteListing =
  | { ok: true; url: string; routes: RoutesDocument; routesYaml: string }
  | { ok: false; url: string | undefined; reason: string };

/**
 * GETs the egress proxy's live route table and returns it in the routes-file shape, so the agent
 * can edit it and propose it back. Only known route fields survive, and `token_ref` only when it
 * is an environment variable's name: a token value can never pass through, whatever egress sends.
 */
export async function listEgressRoutes(url: URL | undefined, signal?: AbortSignal): Promise<RouteListing> {
  if (!url) {
    return { ok: false, url: undefined, reason: 'this sidecar was started without SUPERVISE_EGRESS_URL, so it cannot reach the egress proxy’s route table.' };
  }
  const shown = url.href;
  const timeout = AbortSignal.timeout(EGRESS_LIST_TIMEOUT_MS);
  let body: string;
  try {
    const response = await fetch(url, { signal: signal ? AbortSignal.any([timeout, signal]) : timeout, headers: { accept: 'application/json' }, redirect: 'error' });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, url: shown, reason: `the egress proxy answered HTTP ${response.status} ${response.statusText}.` };
    }
    body = await readCapped(response);
  } catch (error) {
    return { ok: false, url: shown, reason: unreachableReason(error, timeout) };
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, url: shown, reason: 'the egress proxy’s answer is not JSON.' };
  }
  try {
    const routes = sanitizeRouteTable(json);
    return { ok: true, url: shown, routes, routesYaml: renderRoutesYaml(routes) };
  } catch (error) {
    if (isSuperviseError(error)) {
      return { ok: false, url: shown, reason: `the egress proxy’s route table could not be read: ${error.message.replace(/\s*\n\s*/g, ' ')}` };
    }
    throw error;
  }
}

async function readCapped(response: Response): Promise<string> {
  if (Number(response.headers.get('content-length')) > MAX_ROUTE_TABLE_BYTES) {
    await response.body?.cancel();
    throw new SuperviseError('too-large', `the route table is larger than ${MAX_ROUTE_TABLE_BYTES} bytes`);
  }
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ROUTE_TABLE_BYTES) {
      await reader.cancel();
      throw new SuperviseError('too-large', `the route table is larger than ${MAX_ROUTE_TABLE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function unreachableReason(error: unknown, timeout: AbortSignal): string {
  if (isSuperviseError(error)) return `${error.message}.`;
  if (timeout.aborted) return `the egress proxy did not answer within ${EGRESS_LIST_TIMEOUT_MS / 1000} s.`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const detail = typeof cause?.code === 'string' ? cause.code : error instanceof Error ? error.message : String(error);
  return `the egress proxy is unreachable (${detail}).`;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/**
 * Accepts the table as `{routes: [...]}` or a bare array, with routes in the routes-file shape or
 * the proxy's flat one (`auth_scheme`, `token_env`, `outbound_on_match`). Builds each route from an
 * allowlist of fields, so whatever else the proxy includes (token values among it) is dropped.
 */
export function sanitizeRouteTable(json: unknown): RoutesDocument {
  const list = Array.isArray(json) ? json : isObject(json) && Array.isArray(json.routes) ? json.routes : undefined;
  if (!list) throw new SuperviseError('invalid-input', 'expected {"routes": [...]} or a list of routes');
  const routes = list.map((entry, index): Route => {
    if (!isObject(entry) || typeof entry.host !== 'string') throw new SuperviseError('invalid-input', `route ${index} has no host`);
    const route: Route = { host: entry.host.toLowerCase() };
    const paths = Array.isArray(entry.path_allowlist) ? entry.path_allowlist.filter((p): p is string => typeof p === 'string') : [];
    if (paths.length > 0) route.path_allowlist = paths;
    const authBlock = isObject(entry.auth) ? entry.auth : {};
    const scheme = (str(authBlock.scheme) ?? str(entry.auth_scheme))?.toLowerCase();
    const tokenRef = str(authBlock.token_ref) ?? str(entry.token_ref) ?? str(entry.token_env);
    if (scheme !== undefined && (AUTH_SCHEMES as readonly string[]).includes(scheme) && tokenRef !== undefined && ENV_NAME.test(tokenRef)) {
      route.auth = { scheme: scheme as AuthScheme, token_ref: tokenRef };
    }
    const dlpBlock = isObject(entry.dlp) ? entry.dlp : {};
    const onMatch = str(dlpBlock.outbound_on_match) ?? str(entry.outbound_on_match);
    if (onMatch !== undefined && (DLP_ACTIONS as readonly string[]).includes(onMatch)) {
      route.dlp = { outbound_on_match: onMatch as DlpAction };
    }
    return route;
  });
  // Round-trip through the same validator proposals go through, so what the agent sees it can propose.
  return parseRoutesYaml(renderRoutesYaml({ routes }));
}
