import { renderDiff } from '../../kinds/diff.js';
import type { KindRegistry } from '../../kinds/registry.js';
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

function indent(text: string): string[] {
  return (text === '' ? '(none given)' : text).replace(/\n$/, '').split('\n').map((line) => `  ${line}`);
}

/**
 * What the operator reads before deciding: who asks for what and why, and the change itself —
 * a coloured diff against the current file, or the report for kinds that replace no file.
 */
export function renderDetail(proposal: Proposal, kinds: KindRegistry, colors: Palette, now: number): string[] {
  const kind = kinds.find(proposal.kind);
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

  // A kind that cannot be modified and replaces no file is a report: there is nothing to diff against.
  if (kind && !kind.modifiable && proposal.currentFile === null) {
    lines.push(colors.bold('Report'), ...indent(kind.render(proposal.payload)));
    return lines;
  }
  const against = proposal.currentFile === null ? 'an empty file (the proposer sent no current file)' : 'the current file';
  lines.push(colors.bold(`Change against ${against}`));
  // A kind this build does not know still gets a plain line diff, labelled with its name.
  const diff = kind ? kind.diff(proposal.currentFile ?? '', proposal.payload) : renderDiff(proposal.currentFile ?? '', proposal.payload, proposal.kind);
  lines.push(...(diff === '' ? ['  (no change: the proposed file equals the current file)'] : colorDiff(diff, colors)));
  return lines;
}
