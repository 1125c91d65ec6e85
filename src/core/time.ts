/**
 * How every time is written in JSON the CLI and the sidecar print: ISO 8601 in UTC, with
 * milliseconds. A time column holds whatever raw SQL stored in it (text, or past the year 275760),
 * which no Date can show; it is written as what it is instead of throwing.
 */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? notATime(ms) : date.toISOString();
}

/** `isoTime` to the second, as lists show it: `2026-12-02 14:03:07Z`. */
export function shortTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? notATime(ms) : `${date.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

function notATime(ms: number): string {
  // A stored text is the writer's to choose, screen controls included: only its type is shown.
  const stored: unknown = ms;
  return typeof stored === 'number' ? `not a time: ${stored}` : `not a time (${typeof stored} stored)`;
}
