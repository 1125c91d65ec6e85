export type Cell = string | number;

export interface Table {
  title: string;
  columns: string[];
  rows: Cell[][];
}

export function ms(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function rate(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : 'n/a';
}

function cellText(cell: Cell): string {
  return typeof cell === 'number' ? String(cell) : cell;
}

/** A fixed-width table for the terminal. */
export function renderText(table: Table): string {
  const cells = [table.columns, ...table.rows.map((row) => row.map(cellText))];
  const widths = table.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [table.title, line(table.columns), rule, ...cells.slice(1).map(line)].join('\n');
}

/** The same table as GitHub markdown, for docs/BENCHMARKS.md. */
export function renderMarkdown(table: Table): string {
  const escape = (text: string): string => text.replaceAll('|', '\\|');
  const head = `| ${table.columns.map(escape).join(' | ')} |`;
  const align = `| ${table.columns.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`;
  const body = table.rows.map((row) => `| ${row.map((cell) => escape(cellText(cell))).join(' | ')} |`);
  return [`**${table.title}**`, '', head, align, ...body].join('\n');
}
