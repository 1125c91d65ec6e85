/** Paints text for a terminal (a picocolors formatter, or nothing). */
export type Paint = (text: string) => string;

export interface Span {
  /** Display-safe already: wrapping counts columns, and a control character has none to count. */
  text: string;
  paint?: Paint;
}

/**
 * One logical line of display-safe text: a lead (an indent, a diff's `+`/`-`/space) that every
 * row it wraps onto repeats, followed by `↪`, and spans painted each their own way, the whole row
 * painted by `paint` when given.
 */
export interface StyledLine {
  lead?: string;
  spans: Span[];
  paint?: Paint;
}

/** Marks a row that continues the line above it. */
export const CONTINUED = '↪';

// Combining marks draw on the character before them; East Asian wide characters and emoji take two columns.
const ZERO_COLUMNS = /[\p{Mn}\p{Me}]/u;
const TWO_COLUMNS =
  /\p{Emoji_Presentation}|[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

function columnsOf(char: string): number {
  if (ZERO_COLUMNS.test(char)) return 0;
  return TWO_COLUMNS.test(char) ? 2 : 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += columnsOf(char);
  return width;
}

function painted(text: string, paint: Paint | undefined): string {
  return text === '' || !paint ? text : paint(text);
}

/**
 * The rows `line` takes on a terminal `width` columns wide, every character kept: a row that is
 * full continues on the next one. Without a width the line stays whole, for output the terminal
 * wraps itself.
 */
export function layoutLine(line: StyledLine, width?: number): string[] {
  const lead = line.lead ?? '';
  if (width === undefined) return [painted(lead + line.spans.map((span) => painted(span.text, span.paint)).join(''), line.paint)];
  const continuation = `${lead}${CONTINUED}`;
  const rows: string[] = [];
  let row = lead;
  let used = displayWidth(lead);
  // Every row takes at least one character, however narrow the terminal, so the layout always ends.
  let rowHasText = false;
  for (const span of line.spans) {
    let chunk = '';
    for (const char of span.text) {
      const columns = columnsOf(char);
      if (columns > 0 && rowHasText && used + columns > width) {
        rows.push(painted(row + painted(chunk, span.paint), line.paint));
        row = continuation;
        used = displayWidth(continuation);
        chunk = '';
        rowHasText = false;
      }
      chunk += char;
      used += columns;
      rowHasText = true;
    }
    row += painted(chunk, span.paint);
  }
  rows.push(painted(row, line.paint));
  return rows;
}

/** Plain display-safe lines under `lead`, one logical line each. */
export function plainLines(lines: string[], lead = ''): StyledLine[] {
  return lines.map((text) => ({ lead, spans: [{ text }] }));
}
