import { createTwoFilesPatch } from 'diff';

/** The unified diff an operator reviews and the audit log keeps: current file → proposed/final file. */
export function renderDiff(before: string, after: string, label: string): string {
  if (before === after) return '';
  return createTwoFilesPatch(`${label} (current)`, `${label} (proposed)`, withNewline(before), withNewline(after), undefined, undefined, { context: 3 });
}

/** Without this, the last line of every file would show as changed ("\ No newline at end of file"). */
function withNewline(text: string): string {
  return text === '' || text.endsWith('\n') ? text : `${text}\n`;
}
