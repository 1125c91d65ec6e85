import { safeLine } from '../../core/safe-text.js';
import { isSuperviseError } from '../../core/errors.js';
import { KIND_EGRESS_TOKEN_ALLOW, KIND_GITLEAKS_ALLOW } from '../../kinds/builtin-rules.js';
import { parseGitleaksReport, type GitleaksReport } from '../../kinds/gitleaks-report.js';
import { parseTokenAllowReport, type TokenAllowReport } from '../../kinds/token-report.js';
import type { Palette } from './list-model.js';
import { displayWidth, type StyledLine } from './styled-line.js';

/**
 * A report as the operator reads it: gitleaks findings as a table, a DLP catch as labelled
 * fields. Every cell a bottle filled is display-safe before its width is counted, and nothing is
 * cut: a row too wide for the terminal wraps. undefined for other kinds, and for a payload that
 * does not parse (a raw row can hold anything), which is then shown as it is.
 */
export function reportLines(kind: string, payload: string, colors: Palette): { heading: string; lines: StyledLine[] } | undefined {
  try {
    if (kind === KIND_GITLEAKS_ALLOW) return gitleaksLines(parseGitleaksReport(payload), colors);
    if (kind === KIND_EGRESS_TOKEN_ALLOW) return tokenLines(parseTokenAllowReport(payload), colors);
  } catch (error) {
    if (!isSuperviseError(error)) throw error;
  }
  return undefined;
}

function gitleaksLines(report: GitleaksReport, colors: Palette): { heading: string; lines: StyledLine[] } {
  const header = ['#', 'FILE:LINE', 'RULE', 'REF'];
  const rows = report.findings.map((finding, index) => [String(index + 1), `${safeLine(finding.file)}:${finding.line}`, safeLine(finding.rule), safeLine(finding.ref)]);
  const widths = header.map((title, column) => Math.max(displayWidth(title), ...rows.map((row) => displayWidth(row[column] ?? ''))));
  const cells = (row: string[]): string => row.map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - displayWidth(cell)))).join('  ');
  const detail = (label: string, text: string): StyledLine => ({ lead: `  ${' '.repeat(widths[0] ?? 1)}  `, spans: [{ text: `${label} `, paint: colors.dim }, { text }] });
  const count = report.findings.length === 1 ? '1 finding' : `${report.findings.length} findings`;
  return {
    heading: `Report: ${count} that gitleaks:allow suppressed`,
    lines: [
      { lead: '  ', spans: [{ text: cells(header) }], paint: colors.bold },
      ...report.findings.flatMap((finding, index): StyledLine[] => [
        { lead: '  ', spans: [{ text: cells(rows[index] ?? []) }] },
        detail('commit', safeLine(finding.commit)),
        detail('line  ', safeLine(finding.line_text)),
      ]),
    ],
  };
}

function tokenLines(report: TokenAllowReport, colors: Palette): { heading: string; lines: StyledLine[] } {
  const field = (label: string, text: string): StyledLine => ({ lead: '  ', spans: [{ text: `${label.padEnd(9)}`, paint: colors.dim }, { text }] });
  return {
    heading: 'Report: a token the egress DLP caught (the token itself is redacted)',
    lines: [
      field('detector', safeLine(report.detector)),
      field('request', `${safeLine(report.method)} ${safeLine(report.host)}${safeLine(report.path)}`),
      field('snippet', safeLine(report.redacted_snippet)),
    ],
  };
}
