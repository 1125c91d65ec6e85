import { safeLine } from '../core/safe-text.js';
import type { ViewLine } from './page/api-types.js';

/** Each line of `text` display-safe (tabs and every control a marker), so one line stays one line. */
export function safeLinesOf(text: string): string[] {
  return text.replace(/\n$/, '').split('\n').map(safeLine);
}

/** A unified diff as lines the page paints by tone, classified the way the terminal colours them. */
export function diffView(diff: string): ViewLine[] {
  if (diff === '') return [];
  return safeLinesOf(diff).map((text): ViewLine => {
    if (text.startsWith('+++') || text.startsWith('---') || text.startsWith('===') || text.startsWith('\\')) return { tone: 'meta', text };
    if (text.startsWith('@@')) return { tone: 'hunk', text };
    if (text.startsWith('+')) return { tone: 'add', text };
    if (text.startsWith('-')) return { tone: 'del', text };
    return { tone: 'plain', text };
  });
}

export function plainView(lines: string[]): ViewLine[] {
  return lines.map((text) => ({ tone: 'plain', text }));
}
