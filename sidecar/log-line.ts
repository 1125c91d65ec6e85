import { safeText } from '../src/core/safe-text.js';

/**
 * One log message as the sidecar writes it to stderr, which `docker logs` shows on the operator's
 * terminal. Messages quote what an agent sent (a proposal id, a payload's problems), so the text is
 * display-safe, and the lines after the first are indented: none can pass for a line of its own.
 */
export function formatLogLine(name: string, message: string): string {
  const [first = '', ...rest] = safeText(message).split('\n');
  return `${[`${name}: ${first}`, ...rest.map((line) => `    ${line}`)].join('\n')}\n`;
}
