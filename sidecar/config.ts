import net from 'node:net';
import { validateSlug } from '../src/core/validation.js';
import { SuperviseError, isSuperviseError } from '../src/core/errors.js';
import { DEFAULT_FLOOD_LIMITS, MAX_FLOOD_SETTING, type FloodLimits } from '../src/queue/flood-control.js';

/** What the sidecar reads from its environment; the rest (the database path, the port) is fixed so every bottle's sidecar starts the same way. */
export interface SidecarConfig {
  slug: string;
  responseTimeoutMs: number;
  /** The egress proxy's route-table endpoint, fetched by `list-egress-routes`. */
  egressUrl: URL | undefined;
  /** The live routes file the downward `egress-routes-apply` handler replaces. */
  routesFile: string | undefined;
  /** Run (without a shell) after the routes file is replaced, so the proxy loads it. */
  reloadCommand: string[] | undefined;
  /** How much this bottle may ask of the operator: pending proposals at once, proposals a minute. */
  flood: FloodLimits;
  /** The names the bottle reaches the sidecar by; a request whose Host names another is refused (DNS rebinding). */
  allowedHosts: readonly string[];
  /** When set, `/mcp` requires `Authorization: Bearer <token>`. */
  mcpToken: string | undefined;
  /** The address `serve` listens on unless `--host` says otherwise. */
  listenHost: string;
  /** Broker mode: the host broker's address as the bottle reaches it; the database is then not mounted. */
  brokerUrl: string | undefined;
}

export const DEFAULT_RESPONSE_TIMEOUT_SECONDS = 30;
/** An MCP client gives up on a request after about a minute by default; an hour is a generous ceiling. */
export const MAX_RESPONSE_TIMEOUT_SECONDS = 3600;

/** The alias the bottle's network gives the sidecar, and the loopback names for a sidecar run outside a container. */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = ['supervise', 'localhost', '127.0.0.1', '[::1]'];
/**
 * Every address: inside a container the agent reaches the sidecar over the bottle's internal
 * network, whose address is not known before the container starts, and that network (no egress,
 * only the bottle's containers) is what bounds who can connect. Outside a container, give a
 * loopback address (`--host 127.0.0.1` or SUPERVISE_LISTEN_HOST).
 */
export const DEFAULT_LISTEN_HOST = '0.0.0.0';
/** A token shorter than this could be guessed; the launcher's derived token is 64 hex digits. */
const MIN_MCP_TOKEN_CHARS = 32;

/** A setting the sidecar cannot start with; the message names the variable and how to fix it. */
function configError(message: string): SuperviseError {
  return new SuperviseError('config', message);
}

type Env = Readonly<Record<string, string | undefined>>;

export function readSlug(env: Env): string {
  const slug = env.SUPERVISE_BOTTLE_SLUG;
  if (slug === undefined || slug === '') {
    throw configError('SUPERVISE_BOTTLE_SLUG is not set. Start the sidecar with -e SUPERVISE_BOTTLE_SLUG=<bottle slug> (prepareSupervise(slug) gives the env).');
  }
  try {
    return validateSlug(slug);
  } catch (error) {
    if (isSuperviseError(error)) throw configError(`SUPERVISE_BOTTLE_SLUG: ${error.message}`);
    throw error;
  }
}

export function readResponseTimeoutMs(env: Env): number {
  const raw = env.SUPERVISE_RESPONSE_TIMEOUT_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_RESPONSE_TIMEOUT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(seconds) || seconds > MAX_RESPONSE_TIMEOUT_SECONDS) {
    throw configError(
      `SUPERVISE_RESPONSE_TIMEOUT_SECONDS=${JSON.stringify(raw)} is not valid: give a number of seconds from 0 to ${MAX_RESPONSE_TIMEOUT_SECONDS} (default ${DEFAULT_RESPONSE_TIMEOUT_SECONDS}).`,
    );
  }
  return Math.round(seconds * 1000);
}

function readEgressUrl(env: Env): URL | undefined {
  const raw = env.SUPERVISE_EGRESS_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError(`SUPERVISE_EGRESS_URL=${JSON.stringify(raw)} is not a URL: give the egress proxy's route-table endpoint, e.g. http://egress:8080/routes.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw configError(`SUPERVISE_EGRESS_URL must be an http:// or https:// URL, got ${url.protocol}//…`);
  }
  if (url.username !== '' || url.password !== '') {
    throw configError('SUPERVISE_EGRESS_URL must not carry credentials: the route table is read without them, and they would show up in logs.');
  }
  return url;
}

function readRoutesFile(env: Env): string | undefined {
  const raw = env.SUPERVISE_ROUTES_FILE;
  if (raw === undefined || raw === '') return undefined;
  if (!raw.startsWith('/')) {
    throw configError(`SUPERVISE_ROUTES_FILE=${JSON.stringify(raw)} must be an absolute path (the live routes file the egress proxy reads).`);
  }
  return raw;
}

/**
 * No shell ever runs it. A JSON array of strings is taken as the argv exactly (use it when an
 * argument contains spaces); anything else is split on whitespace, with no quoting or expansion.
 */
export function parseReloadCommand(raw: string): string[] {
  const text = raw.trim();
  let argv: unknown;
  if (text.startsWith('[')) {
    try {
      argv = JSON.parse(text);
    } catch {
      throw configError('SUPERVISE_RELOAD_COMMAND starts with "[" but is not a JSON array: write it as ["program", "arg", …] or as a plain command line without quotes.');
    }
    if (!Array.isArray(argv) || argv.some((part) => typeof part !== 'string')) {
      throw configError('SUPERVISE_RELOAD_COMMAND as JSON must be an array of strings, e.g. ["kill", "-HUP", "1"].');
    }
  } else {
    if (/["'\\$`|;&<>(){}*?]/.test(text)) {
      throw configError(
        'SUPERVISE_RELOAD_COMMAND contains shell syntax (quotes, $, |, ;, &, redirections or globs), but it runs without a shell. Give the argv as a JSON array instead, e.g. ["sh", "-c", "…"] if you really need a shell.',
      );
    }
    argv = text.split(/\s+/).filter((part) => part !== '');
  }
  const parts = argv as string[];
  if (parts.length === 0 || parts[0] === '') {
    throw configError('SUPERVISE_RELOAD_COMMAND is empty: leave it unset, or name the program to run after the routes file is replaced.');
  }
  return parts;
}

function readWholeNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < 1 || value > MAX_FLOOD_SETTING) {
    throw configError(`${name}=${JSON.stringify(raw)} is not valid: give a whole number from 1 to ${MAX_FLOOD_SETTING} (default ${fallback}).`);
  }
  return value;
}

export function readFloodLimits(env: Env): FloodLimits {
  return {
    maxPending: readWholeNumber(env, 'SUPERVISE_MAX_PENDING', DEFAULT_FLOOD_LIMITS.maxPending),
    perMinute: readWholeNumber(env, 'SUPERVISE_PROPOSALS_PER_MINUTE', DEFAULT_FLOOD_LIMITS.perMinute),
  };
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Names, not host:port: the name is what a rebinding page controls, and a port mapping may change the port. */
function readAllowedHosts(env: Env): readonly string[] {
  const raw = env.SUPERVISE_ALLOWED_HOSTS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_ALLOWED_HOSTS;
  const names = raw.split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  for (const name of names) {
    const ipv6 = /^\[(.+)\]$/.exec(name)?.[1];
    if (ipv6 !== undefined ? net.isIPv6(ipv6) : HOSTNAME.test(name)) continue;
    throw configError(
      `SUPERVISE_ALLOWED_HOSTS: ${JSON.stringify(name)} is not a host name: give the names the bottle reaches the sidecar by, comma-separated, without ports or schemes (e.g. "supervise,localhost,127.0.0.1,[::1]").`,
    );
  }
  if (names.length === 0) throw configError('SUPERVISE_ALLOWED_HOSTS names no host: leave it unset for the defaults, or list the names the bottle uses.');
  return names;
}

function readMcpToken(env: Env): string | undefined {
  const raw = env.SUPERVISE_MCP_TOKEN;
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9._~+/-]+=*$/.test(raw) || raw.length < MIN_MCP_TOKEN_CHARS) {
    throw configError(
      `SUPERVISE_MCP_TOKEN is not valid: give at least ${MIN_MCP_TOKEN_CHARS} characters of A-Z a-z 0-9 . _ ~ + / - (prepareSupervise derives one from the bottle key), or leave it unset.`,
    );
  }
  return raw;
}

function readListenHost(env: Env): string {
  const raw = env.SUPERVISE_LISTEN_HOST;
  if (raw === undefined || raw === '') return DEFAULT_LISTEN_HOST;
  if (net.isIP(raw) === 0) {
    throw configError(`SUPERVISE_LISTEN_HOST=${JSON.stringify(raw)} is not an IP address: give the address to listen on, e.g. 127.0.0.1, or leave it unset for ${DEFAULT_LISTEN_HOST}.`);
  }
  return raw;
}

/** `http://host:port` (or https), nothing else: the sidecar adds the operation paths itself. */
export function readBrokerUrl(env: Env): string | undefined {
  const raw = env.SUPERVISE_BROKER_URL;
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw configError(`SUPERVISE_BROKER_URL=${JSON.stringify(raw)} is not a URL: give the host broker's address as the bottle reaches the host, e.g. http://host.docker.internal:9110.`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw configError(`SUPERVISE_BROKER_URL=${JSON.stringify(raw)} must be http(s)://HOST:PORT with no user, path or query, e.g. http://host.docker.internal:9110.`);
  }
  return url.origin;
}

export function readConfig(env: Env): SidecarConfig {
  const reload = env.SUPERVISE_RELOAD_COMMAND;
  return {
    slug: readSlug(env),
    responseTimeoutMs: readResponseTimeoutMs(env),
    egressUrl: readEgressUrl(env),
    routesFile: readRoutesFile(env),
    reloadCommand: reload === undefined || reload.trim() === '' ? undefined : parseReloadCommand(reload),
    flood: readFloodLimits(env),
    allowedHosts: readAllowedHosts(env),
    mcpToken: readMcpToken(env),
    listenHost: readListenHost(env),
    brokerUrl: readBrokerUrl(env),
  };
}
