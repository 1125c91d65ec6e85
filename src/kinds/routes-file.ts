/**
 * The egress routes file: what egress-allow and egress-block propose and egress-routes-apply
 * installs. YAML, so every problem is reported with its line.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { MAX_HOSTNAME_CHARS, ROUTE_HOST } from './hostname.js';
import { checkSchema } from './payload-problems.js';
import { loadPlainYaml } from './plain-yaml.js';
import { readYamlPayload } from './yaml-payload.js';

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/**
 * How the proxy presents the token named by `token_ref`:
 * `bearer` → `Authorization: Bearer <token>`; `basic` → `Authorization: Basic <token>` (the variable
 * holds the already-encoded credentials); `token` → `Authorization: token <token>` (GitHub style).
 * Custom header names are deliberately absent: the route shape has no field to name the header.
 */
export const AUTH_SCHEMES = ['bearer', 'basic', 'token'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

/** What the egress DLP does with an outbound request that matches a detector. */
export const DLP_ACTIONS = ['block', 'redact', 'supervise'] as const;
export type DlpAction = (typeof DLP_ACTIONS)[number];

const routeHost = z
  .string()
  .max(MAX_HOSTNAME_CHARS, `host must be at most ${MAX_HOSTNAME_CHARS} characters`)
  .toLowerCase()
  .regex(ROUTE_HOST, 'host must be a bare hostname such as api.github.com or *.github.com: no scheme, port or path');

const pathPrefix = z
  .string()
  .regex(/^\/\S*$/, 'each path_allowlist entry must be an absolute path prefix: start with "/" and contain no whitespace')
  .refine((p) => !p.includes('..'), 'path_allowlist entries must not contain ".."');

// Both fields are optional here so that a half-filled auth block gets one rule naming both, reported
// at the `auth:` line, instead of a bare "missing key".
const auth = z
  .strictObject({
    scheme: z.enum(AUTH_SCHEMES, `scheme must be one of: ${AUTH_SCHEMES.join(', ')}`).optional(),
    token_ref: z
      .string()
      .regex(ENV_NAME, 'token_ref must name an environment variable ([A-Z_][A-Z0-9_]*), never hold the token itself')
      .optional(),
  })
  .transform((a, ctx) => {
    if (a.scheme === undefined || a.token_ref === undefined) {
      ctx.addIssue({ code: 'custom', message: 'both scheme and token_ref are required' });
      return z.NEVER;
    }
    return { scheme: a.scheme, token_ref: a.token_ref };
  });

const route = z.strictObject({
  host: routeHost,
  path_allowlist: z.array(pathPrefix).min(1, 'path_allowlist must not be empty; leave it out to allow every path').optional(),
  auth: auth.optional(),
  dlp: z
    .strictObject({
      outbound_on_match: z.enum(DLP_ACTIONS, `outbound_on_match must be one of: ${DLP_ACTIONS.join(', ')}`).optional(),
    })
    .optional(),
});

const routesDocument = z.strictObject(
  {
    routes: z
      .array(route, 'routes must be a list of routes (it may be empty)')
      .superRefine((routes, ctx) => {
        const firstIndex = new Map<string, number>();
        routes.forEach((r, i) => {
          const first = firstIndex.get(r.host);
          if (first === undefined) firstIndex.set(r.host, i);
          else ctx.addIssue({ code: 'custom', path: [i, 'host'], message: `duplicate host "${r.host}" (already routed by routes[${first}])` });
        });
      }),
  },
  'the top level must be a mapping with exactly the key "routes"',
);

export type RoutesDocument = z.output<typeof routesDocument>;
export type Route = RoutesDocument['routes'][number];

const SUBJECT = 'egress routes file';
const REMEDY = 'Fix the routes file at the lines listed and submit it again.';

/** Parses and validates a routes file; hosts come back lowercased. Throws `invalid-payload` with a problem per line. */
export function parseRoutesYaml(text: string): RoutesDocument {
  // The common case, fast; any doubt or problem is decided, and explained by line, below.
  const plain = loadPlainYaml(text);
  if (plain !== undefined) {
    const checked = routesDocument.safeParse(plain);
    if (checked.success) return checked.data;
  }
  return parseRoutesYamlFully(text);
}

/** The `yaml` library's reading of any YAML, with every problem's line. */
export function parseRoutesYamlFully(text: string): RoutesDocument {
  const { value, at } = readYamlPayload(text, SUBJECT, REMEDY);
  return checkSchema(routesDocument, value, at, SUBJECT, REMEDY);
}

/** Deterministic YAML for a routes document: fixed key order, no anchors, no line folding. */
export function renderRoutesYaml(doc: RoutesDocument): string {
  const routes = doc.routes.map((r) => ({
    host: r.host,
    ...(r.path_allowlist && { path_allowlist: [...r.path_allowlist] }),
    ...(r.auth && { auth: { scheme: r.auth.scheme, token_ref: r.auth.token_ref } }),
    ...(r.dlp && { dlp: { ...(r.dlp.outbound_on_match && { outbound_on_match: r.dlp.outbound_on_match }) } }),
  }));
  return stringify({ routes }, { aliasDuplicateObjects: false, lineWidth: 0 });
}
