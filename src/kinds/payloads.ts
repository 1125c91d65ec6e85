import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, stringify, visit, type Document } from 'yaml';
import { z } from 'zod';

/** One thing wrong with a payload. `line` is 1-based and only known for YAML payloads. */
export interface PayloadProblem {
  line?: number;
  /** Where in the payload, e.g. `routes[1].auth`; `(top level)` for the root value, `(document)` for its text. */
  path: string;
  rule: string;
  /** `line N: path: rule`, ready to show to whoever has to fix the payload. */
  message: string;
}

export class PayloadError extends Error {
  readonly problems: PayloadProblem[];

  constructor(subject: string, problems: PayloadProblem[], remedy: string) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${count} in the ${subject}:\n${problems.map((p) => `  - ${p.message}`).join('\n')}\n${remedy}`);
    this.name = 'PayloadError';
    this.problems = problems;
  }
}

type Path = readonly PropertyKey[];

const TOP_LEVEL = '(top level)';
/** For problems with the document as text (syntax, aliases, JSON) rather than with a value in it. */
const DOCUMENT = '(document)';

function formatPath(path: Path): string {
  if (path.length === 0) return TOP_LEVEL;
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join('');
}

function problem(line: number | undefined, path: string, rule: string): PayloadProblem {
  return { line, path, rule, message: `${line === undefined ? '' : `line ${line}: `}${path}: ${rule}` };
}

interface Locator {
  has(path: Path): boolean;
  line(path: Path): number | undefined;
}

/**
 * Zod reports a missing key as a type error on the key itself, which has no line; it reads better
 * against the mapping that lacks it. Unknown keys get one problem each so every line is named.
 */
function zodProblems(error: z.ZodError, at: Locator): PayloadProblem[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => problem(at.line([...path, key]), formatPath([...path, key]), `unknown key "${key}"`));
    }
    if (issue.code === 'invalid_type' && path.length > 0 && !at.has(path)) {
      const parent = path.slice(0, -1);
      return [problem(at.line(parent), formatPath(parent), `missing required key "${String(path.at(-1))}"`)];
    }
    return [problem(at.line(path), formatPath(path), issue.message)];
  }).sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}

function validate<S extends z.ZodType>(schema: S, value: unknown, at: Locator, subject: string, remedy: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new PayloadError(subject, zodProblems(result.error, at), remedy);
  return result.data;
}

// ---------------------------------------------------------------------------------------------
// Egress routes (YAML)

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
const ROUTE_HOST = new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*$`);
const MAX_HOSTNAME_CHARS = 253;
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

const ROUTES_SUBJECT = 'egress routes file';
const ROUTES_REMEDY = 'Fix the routes file at the lines listed and submit it again.';

function yamlLocator(doc: Document, lines: LineCounter): Locator {
  const lineOf = (node: unknown): number | undefined =>
    isNode(node) && node.range ? lines.linePos(node.range[0]).line : undefined;
  return {
    has: (path) => doc.hasIn(path),
    // A key's own line beats its value's: a block mapping under `auth:` starts on the next line.
    line: (path) => {
      if (path.length === 0) return lineOf(doc.contents);
      const parent = doc.getIn(path.slice(0, -1), true);
      const last = path.at(-1);
      if (isMap(parent)) return lineOf(parent.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(last))?.key);
      if (isSeq(parent) && typeof last === 'number') return lineOf(parent.items[last]);
      return undefined;
    },
  };
}

/** Parses and validates a routes file; hosts come back lowercased. Throws `PayloadError`. */
export function parseRoutesYaml(text: string): RoutesDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, lineCounter: lines });

  const syntax = [...doc.errors, ...doc.warnings].map((e) => {
    const rule =
      e.code === 'MULTIPLE_DOCS'
        ? 'only one YAML document is allowed; remove the "---" separator and everything after it'
        : // prettyErrors appends the position and a source excerpt; the line is reported separately.
          (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:$/, '');
    return problem(e.linePos?.[0].line, DOCUMENT, `YAML ${e.code}: ${rule}`);
  });
  if (syntax.length > 0) throw new PayloadError(ROUTES_SUBJECT, syntax, ROUTES_REMEDY);

  // Aliases let a small file expand into a huge one and hide what a route really allows.
  const aliasing: PayloadProblem[] = [];
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node) || node.anchor) {
        const line = node.range ? lines.linePos(node.range[0]).line : undefined;
        aliasing.push(problem(line, DOCUMENT, 'YAML anchors (&name) and aliases (*name) are not allowed; write each value out in full'));
      }
    },
  });
  if (aliasing.length > 0) throw new PayloadError(ROUTES_SUBJECT, aliasing, ROUTES_REMEDY);

  return validate(routesDocument, doc.toJS(), yamlLocator(doc, lines), ROUTES_SUBJECT, ROUTES_REMEDY);
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

// ---------------------------------------------------------------------------------------------
// JSON payloads

function jsonLocator(root: unknown): Locator {
  return {
    // `undefined` counts as absent: converted values are JavaScript objects, not only parsed JSON.
    has: (path) =>
      path.reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined), root) !==
      undefined,
    line: () => undefined,
  };
}

function parseJson(text: string, subject: string, remedy: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the input, which may carry secrets; the rule alone is enough to act on.
    throw new PayloadError(subject, [problem(undefined, DOCUMENT, 'not valid JSON')], remedy);
  }
}

// --- gitleaks findings -----------------------------------------------------------------------

const nonEmpty = (what: string) => z.string().min(1, `${what} must be a non-empty string`);
const lineNumber = z.number().int('line must be a positive integer').positive('line must be a positive integer');
const commitId = z.string().regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'commit must be a full lowercase SHA-1 (40 hex) or SHA-256 (64 hex) id');

const gitleaksReport = z.strictObject({
  findings: z
    .array(
      z.strictObject({
        ref: nonEmpty('ref'),
        file: nonEmpty('file'),
        line: lineNumber,
        rule: nonEmpty('rule'),
        commit: commitId,
        line_text: z.string(),
      }),
    )
    .min(1, 'a report needs at least one finding'),
});

export type GitleaksReport = z.output<typeof gitleaksReport>;
export type GitleaksFinding = GitleaksReport['findings'][number];

const GITLEAKS_SUBJECT = 'gitleaks report';
const GITLEAKS_REMEDY =
  'Send {"findings":[{"ref","file","line","rule","commit","line_text"}]} with at least one finding, e.g. converted from gitleaks --report-format json output.';

export function parseGitleaksReport(text: string): GitleaksReport {
  const json = parseJson(text, GITLEAKS_SUBJECT, GITLEAKS_REMEDY);
  return validate(gitleaksReport, json, jsonLocator(json), GITLEAKS_SUBJECT, GITLEAKS_REMEDY);
}

// gitleaks' findings carry many more fields (Secret among them); z.object drops them on purpose.
const gitleaksNative = z
  .array(
    z
      .object({
        RuleID: nonEmpty('RuleID'),
        File: nonEmpty('File'),
        StartLine: lineNumber,
        Commit: commitId,
        Line: z.string().optional(),
        Match: z.string().optional(),
      })
      .transform((f, ctx) => {
        // Recent gitleaks versions leave `Line` out of JSON reports; `Match` is then the best context.
        const text = f.Line || f.Match;
        if (text === undefined) {
          ctx.addIssue({ code: 'custom', message: 'a finding needs Line or Match' });
          return z.NEVER;
        }
        return { file: f.File, line: f.StartLine, rule: f.RuleID, commit: f.Commit, line_text: text };
      }),
    'expected the array of findings gitleaks writes with --report-format json',
  )
  .min(1, 'gitleaks reported no findings, so there is nothing to allow');

/** Converts gitleaks' own JSON report (already parsed) into a `GitleaksReport` for `ref`. */
export function gitleaksReportFromGitleaksJson(json: unknown, ref: string): GitleaksReport {
  const subject = 'gitleaks JSON output';
  const remedy = 'Pass the parsed output of `gitleaks ... --report-format json` from a git scan (findings need a Commit).';
  const findings = validate(gitleaksNative, json, jsonLocator(json), subject, remedy);
  const report = { findings: findings.map((f) => ({ ref, ...f })) };
  return validate(gitleaksReport, report, jsonLocator(report), subject, remedy);
}

// --- DLP token allow -------------------------------------------------------------------------

/** Upper bounds, in UTF-16 code units, for each field of a token-allow report. */
export const TOKEN_ALLOW_MAX_CHARS = {
  detector: 64,
  host: MAX_HOSTNAME_CHARS,
  method: 16,
  path: 2048,
  redacted_snippet: 200,
} as const;

/** Shorter tokens match too much ordinary text to be redacted reliably, so they are refused. */
export const MIN_REDACTABLE_TOKEN_CHARS = 8;

const max = (field: keyof typeof TOKEN_ALLOW_MAX_CHARS) =>
  z.string().max(TOKEN_ALLOW_MAX_CHARS[field], `${field} must be at most ${TOKEN_ALLOW_MAX_CHARS[field]} characters`);

// Keys in alphabetical order: the output of this schema is what `buildTokenAllowPayload` serializes.
const tokenAllowReport = z.strictObject({
  detector: max('detector').regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'detector must be a rule name of letters, digits and . _ : -'),
  host: max('host').toLowerCase().regex(HOSTNAME, 'host must be a bare hostname such as api.github.com'),
  method: max('method').regex(/^[A-Z]+$/, 'method must be an uppercase HTTP method such as POST'),
  path: max('path').regex(/^\/\S*$/, 'path must start with "/" and contain no whitespace'),
  redacted_snippet: max('redacted_snippet'),
});

export type TokenAllowReport = z.output<typeof tokenAllowReport>;

const TOKEN_ALLOW_SUBJECT = 'token-allow report';
const TOKEN_ALLOW_REMEDY = 'Build the payload with buildTokenAllowPayload so every field is bounded and the token is redacted.';

export function parseTokenAllowReport(text: string): TokenAllowReport {
  const json = parseJson(text, TOKEN_ALLOW_SUBJECT, TOKEN_ALLOW_REMEDY);
  return validate(tokenAllowReport, json, jsonLocator(json), TOKEN_ALLOW_SUBJECT, TOKEN_ALLOW_REMEDY);
}

export interface TokenAllowInput {
  host: string;
  method: string;
  path: string;
  detector: string;
  /** The raw token the DLP caught. It never leaves this function. */
  token: string;
  /** Request text around the catch; every occurrence of the token is redacted. */
  context: string;
}

/** Canonical JSON for an `egress-token-allow` proposal. Throws `PayloadError` rather than leak the token. */
export function buildTokenAllowPayload(input: TokenAllowInput): string {
  const { token, context } = input;
  if (token.length < MIN_REDACTABLE_TOKEN_CHARS) {
    throw new PayloadError(
      TOKEN_ALLOW_SUBJECT,
      [problem(undefined, 'token', `tokens shorter than ${MIN_REDACTABLE_TOKEN_CHARS} characters cannot be redacted reliably`)],
      'Block the request instead of asking to allow it.',
    );
  }
  const marker = `[REDACTED:${input.detector}]`;
  const redacted = context.replaceAll(token, marker);
  // Text before the first occurrence is unchanged by redaction, so the index holds in `redacted`.
  const first = Math.max(context.indexOf(token), 0);
  const limit = TOKEN_ALLOW_MAX_CHARS.redacted_snippet;
  const start = Math.max(0, Math.min(first - Math.floor((limit - marker.length) / 2), redacted.length - limit));

  const report = {
    detector: input.detector,
    host: input.host,
    method: input.method,
    path: input.path.replaceAll(token, marker),
    redacted_snippet: redacted.slice(start, start + limit),
  };
  const payload = JSON.stringify(validate(tokenAllowReport, report, jsonLocator(report), TOKEN_ALLOW_SUBJECT, TOKEN_ALLOW_REMEDY));

  // The token can survive redaction: in host or detector, or straddling a marker it resembles.
  if (payload.includes(token) || payload.includes(JSON.stringify(token).slice(1, -1))) {
    throw new PayloadError(
      TOKEN_ALLOW_SUBJECT,
      [problem(undefined, TOP_LEVEL, 'the token would still appear in the payload after redaction')],
      'Block the request instead of asking to allow it.',
    );
  }
  return payload;
}
