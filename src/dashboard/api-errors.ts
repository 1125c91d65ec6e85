import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isSuperviseError, SuperviseError } from '../core/errors.js';
import { safeLine, safeText } from '../core/safe-text.js';
import { environmentError } from '../storage/environment-errors.js';
import type { ErrorView } from './page/api-types.js';

/** An API request the page (or whoever) got wrong: its body, a parameter. */
export function badRequest(message: string): SuperviseError {
  return new SuperviseError('invalid-input', message);
}

function statusFor(error: SuperviseError): ContentfulStatusCode {
  if (error.code === 'not-found') return 404;
  switch (error.category) {
    case 'usage':
    case 'input':
      return 400;
    case 'conflict':
      return 409;
    case 'environment':
      return 503;
  }
}

/** What the page is told about a refusal: the message (quoting a bottle's text display-safe) and each payload problem. */
export function errorView(error: SuperviseError): ErrorView {
  const body: ErrorView = { code: error.code, error: safeText(error.message) };
  if (error.problems.length > 0) body.problems = error.problems.map((problem) => ({ line: problem.line ?? null, text: safeLine(problem.message) }));
  return body;
}

/**
 * Every failure becomes JSON the page shows as it is: the message names the problem and the fix
 * (and may quote a bottle's text, so it is made display-safe); anything unexpected is a 500 that
 * says it is a bug, without internals.
 */
export function errorResponse(c: Context, thrown: unknown, dbFile: string): Response {
  const error = environmentError(thrown, dbFile) ?? thrown;
  if (isSuperviseError(error)) return c.json(errorView(error), statusFor(error));
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`bot-bottle dashboard: unexpected error: ${safeText(message)}\n`);
  return c.json({ code: 'internal', error: 'unexpected error in the dashboard (this is a bug; its message is on the dashboard’s terminal).' } satisfies ErrorView, 500);
}
