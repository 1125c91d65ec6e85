import { safeJson, safeLine, safeText } from '../src/core/safe-text.js';
import { isoTime } from '../src/core/time.js';

export type LogLevel = 'info' | 'warn' | 'error';
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Where the sidecar's parts report what happened; `info` unless said otherwise. */
export type Log = (message: string, level?: LogLevel) => void;

/**
 * One event of the serving sidecar's log, as one line on stderr (`docker logs`): its time (ISO 8601
 * UTC), its level and the message, as text (`2026-12-02T05:00:00.000Z info serving bottle …`) or
 * as a JSON object (`{"time","level","message"}`). Messages quote what an agent sent (a proposal id,
 * a payload's problems), so the text is display-safe with its newlines as markers too, and JSON
 * writes those characters as \u escapes: no event can pass for two, or for a line of its own.
 */
export function formatLogRecord(level: LogLevel, message: string, format: LogFormat, at: number = Date.now()): string {
  const time = isoTime(at);
  return format === 'json' ? `${safeJson({ time, level, message }, 0)}\n` : `${time} ${level} ${safeLine(message)}\n`;
}

/**
 * A message of the one-shot `propose` command for the person or hook that ran it, prefixed with the
 * command's name. Display-safe like the log, and the lines after the first are indented.
 */
export function formatLogLine(name: string, message: string): string {
  const [first = '', ...rest] = safeText(message).split('\n');
  return `${[`${name}: ${first}`, ...rest.map((line) => `    ${line}`)].join('\n')}\n`;
}
