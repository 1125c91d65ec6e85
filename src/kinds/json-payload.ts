import { DOCUMENT, invalidPayload, problem, type Locator } from './payload-problems.js';

/** JSON has no line numbers once parsed, so problems name their path alone. */
export function jsonLocator(root: unknown): Locator {
  return {
    // `undefined` counts as absent: converted values are JavaScript objects, not only parsed JSON.
    has: (path) =>
      path.reduce<unknown>((value, key) => (typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined), root) !==
      undefined,
    line: () => undefined,
  };
}

export function parseJsonPayload(text: string, subject: string, remedy: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the input, which may carry secrets; the rule alone is enough to act on.
    throw invalidPayload(subject, [problem(undefined, DOCUMENT, 'not valid JSON')], remedy);
  }
}

/** Reports (gitleaks findings, token catches) read better indented than as one JSON line. */
export function indentedJson(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}
