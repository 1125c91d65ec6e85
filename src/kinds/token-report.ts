/** The egress DLP's report of a token caught in an outbound request: JSON, bounded, the token redacted. */
import { z } from 'zod';
import { HOSTNAME, MAX_HOSTNAME_CHARS } from './hostname.js';
import { jsonLocator, parseJsonPayload } from './json-payload.js';
import { checkSchema, invalidPayload, problem, TOP_LEVEL } from './payload-problems.js';
import { SecretForms } from './secret-forms.js';

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

const SUBJECT = 'token-allow report';
const REMEDY = 'Build the payload with buildTokenAllowPayload so every field is bounded and the token is redacted.';
const UNREDACTABLE_REMEDY = 'Block the request instead of asking to allow it.';

/** Throws `invalid-payload` naming each problem's field. */
export function parseTokenAllowReport(text: string): TokenAllowReport {
  const json = parseJsonPayload(text, SUBJECT, REMEDY);
  return checkSchema(tokenAllowReport, json, jsonLocator(json), SUBJECT, REMEDY);
}

export interface TokenAllowInput {
  host: string;
  method: string;
  path: string;
  detector: string;
  /** The raw token the DLP caught. It never leaves this function. */
  token: string;
  /** Request text around the catch; every occurrence of the token, in any encoding, is redacted. */
  context: string;
}

/**
 * Canonical JSON for an `egress-token-allow` proposal. Every form of the token (raw, base64 at any
 * alignment, percent-encoded, hex, wrapped across lines) is redacted in the context and the path,
 * and the snippet is cut from the redacted context, so no window can split a form and keep a part
 * of it that redaction would have removed. Throws `invalid-payload` rather than leak the token.
 */
export function buildTokenAllowPayload(input: TokenAllowInput): string {
  const { token } = input;
  if (token.length < MIN_REDACTABLE_TOKEN_CHARS) {
    throw invalidPayload(
      SUBJECT,
      [problem(undefined, 'token', `tokens shorter than ${MIN_REDACTABLE_TOKEN_CHARS} characters cannot be redacted reliably`)],
      UNREDACTABLE_REMEDY,
    );
  }
  const forms = new SecretForms(token);
  const marker = `[REDACTED:${input.detector}]`;
  const redacted = forms.redact(input.context, marker);
  const first = Math.max(redacted.indexOf(marker), 0);
  const limit = TOKEN_ALLOW_MAX_CHARS.redacted_snippet;
  const start = Math.max(0, Math.min(first - Math.floor((limit - marker.length) / 2), redacted.length - limit));

  const report = {
    detector: input.detector,
    host: input.host,
    method: input.method,
    path: forms.redact(input.path, marker),
    redacted_snippet: redacted.slice(start, start + limit),
  };
  const checked = checkSchema(tokenAllowReport, report, jsonLocator(report), SUBJECT, REMEDY);
  const payload = JSON.stringify(checked);

  // The token can survive redaction: in host or detector, nested encodings redaction does not
  // undo, or pieced together around a marker. Each field is checked as stored and as read back.
  if ([payload, ...Object.values(checked)].some((text) => forms.foundIn(text))) {
    throw invalidPayload(SUBJECT, [problem(undefined, TOP_LEVEL, 'the token would still appear in the payload after redaction')], UNREDACTABLE_REMEDY);
  }
  return payload;
}
