import { renderDiff } from '../../kinds/diff.js';
import type { KindDefinition, KindRegistry } from '../../kinds/registry.js';
import type { Proposal } from '../../queue/proposal.js';
import { formatAge, type Palette } from './list-model.js';

/** Colours a unified diff line by line: additions green, removals red, hunks cyan. */
export function colorDiff(diff: string, colors: Palette): string[] {
  const lines = diff.replace(/\n$/, '').split('\n');
  return lines.map((line) => {
    if (line.startsWith('+++') || line.startsWith('---')) return colors.bold(line);
    if (line.startsWith('===')) return colors.dim(line);
    if (line.startsWith('@@')) return colors.cyan(line);
    if (line.startsWith('+')) return colors.green(line);
    if (line.startsWith('-')) return colors.red(line);
    if (line.startsWith('\\')) return colors.dim(line);
    return line;
  });
}

function kindOf(kinds: KindRegistry, name: string): KindDefinition | undefined {
  return kinds.names().includes(name) ? kinds.get(name) : undefined;
}

/** Reports (gitleaks findings, token catches) read better indented than as one JSON line. */
function readableReport(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2);
  } catch {
    return payload;
  }
}

function indent(text: string): string[] {
  return (text === '' ? '(none given)' : text).replace(/\n$/, '').split('\n').map((line) => `  ${line}`);
}

/**
 * What the operator reads before deciding: who asks for what and why, and the change itself —
 * a coloured diff against the current file, or the report for kinds that replace no file.
 */
export function renderDetail(proposal: Proposal, kinds: KindRegistry, colors: Palette, now: number): string[] {
  const kind = kindOf(kinds, proposal.kind);
  const expiry = proposal.expiresAt === null ? 'never expires' : `expires in ${formatAge(proposal.expiresAt - now)}`;
  const lines = [
    `${colors.bold('Proposal')} ${proposal.id}`,
    `  ${colors.dim('bottle')} ${colors.bold(proposal.slug)}   ${colors.dim('kind')} ${colors.bold(proposal.kind)}   ${colors.dim('from')} ${proposal.origin}`,
    `  ${colors.dim('asked')} ${formatAge(now - proposal.createdAt)} ago (${new Date(proposal.createdAt).toISOString()}), ${expiry}`,
  ];
  if (kind) lines.push(`  ${colors.dim(kind.description)}`);
  if (kind && !kind.modifiable) {
    lines.push(`  ${colors.yellow(`This kind cannot be modified${kind.reasonRequiredToApprove ? '; approving it needs a reason' : ''}.`)}`);
  } else if (kind?.reasonRequiredToApprove) {
    lines.push(`  ${colors.yellow('Approving this kind needs a reason.')}`);
  }
  lines.push('', colors.bold('Justification'), ...indent(proposal.justification), '');

  const isReport = kind !== undefined && !kind.modifiable && proposal.currentFile === null;
  if (isReport) {
    lines.push(colors.bold('Report'), ...indent(readableReport(proposal.payload)));
    return lines;
  }
  const against = proposal.currentFile === null ? 'an empty file (the proposer sent no current file)' : 'the current file';
  lines.push(colors.bold(`Change against ${against}`));
  const diff = renderDiff(proposal.currentFile ?? '', proposal.payload, proposal.kind);
  lines.push(...(diff === '' ? ['  (no change: the proposed file equals the current file)'] : colorDiff(diff, colors)));
  return lines;
}
