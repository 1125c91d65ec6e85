/** How every time is written in JSON the CLI and the sidecar print: ISO 8601 in UTC, with milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
