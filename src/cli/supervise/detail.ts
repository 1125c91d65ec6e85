import { hasUnsafeCharacters, safeLine } from '../../core/safe-text.js';
import type { Staleness } from '../../bottles/staleness.js';
import { sha256 } from '../../core/hash.js';
import type { SealVerdict } from '../../keys/keyring.js';
import { renderDiff } from '../../kinds/diff.js';
import type { KindDefinition } from '../../kinds/kind.js';
import { mergeOrWhy } from '../../kinds/routes-merge.js';
import type { KindRegistry } from '../../kinds/registry.js';
import type { Proposal } from '../../queue/proposal.js';
import { askedBy } from './asked-by.js';
import { formatAge, type Palette } from './list-model.js';
import { reportLines } from './report-view.js';
import { layoutLine, plainLines, type StyledLine } from './styled-line.js';
import { isoTime } from '../../core/time.js';

/** Each line of `text` display-safe: tabs and every control character shown as markers, so a line is exactly one line. */
export function safeLines(text: string): string[] {
  return text.replace(/\n$/, '').split('\n').map(safeLine);
}

/**
 * A unified diff as lines to paint: additions green, removals red, hunks cyan. The text is made
 * display-safe before any colour is added, so nothing in it can end or change our colours.
 */
function diffLines(diff: string, colors: Palette): StyledLine[] {
  return safeLines(diff).map((line): StyledLine => {
    if (line.startsWith('+++') || line.startsWith('---')) return { spans: [{ text: line }], paint: colors.bold };
    if (line.startsWith('===')) return { spans: [{ text: line }], paint: colors.dim };
    if (line.startsWith('@@')) return { spans: [{ text: line }], paint: colors.cyan };
    if (line.startsWith('\\')) return { spans: [{ text: line }], paint: colors.dim };
    const sign = line.charAt(0);
    const paint = sign === '+' ? colors.green : sign === '-' ? colors.red : undefined;
    return { lead: sign, spans: [{ text: line.slice(1) }], ...(paint ? { paint } : {}) };
  });
}

/** Colours a unified diff line by line (see {@link diffLines}), wrapped to `width` columns when given. */
export function colorDiff(diff: string, colors: Palette, width?: number): string[] {
  return diffLines(diff, colors).flatMap((line) => layoutLine(line, width));
}

function indented(text: string): StyledLine[] {
  return plainLines(text === '' ? ['(none given)'] : safeLines(text), '  ');
}

function hiddenCharacterCount(text: string): number {
  if (!hasUnsafeCharacters(text)) return 0;
  let count = 0;
  for (const char of text) if (hasUnsafeCharacters(char)) count += 1;
  return count;
}

/** One warning per field a bottle filled with characters that would have acted on the terminal or hidden text. */
function hiddenCharacterWarnings(proposal: Proposal, colors: Palette): StyledLine[] {
  const fields: Array<[string, string | null]> = [
    ['the proposal id', proposal.id],
    ['the bottle name', proposal.slug],
    ['the kind', proposal.kind],
    ['the origin', proposal.origin],
    ['the justification', proposal.justification],
    ['the proposed file', proposal.payload],
    ['the current file', proposal.currentFile],
  ];
  return fields.flatMap(([label, text]) => {
    const count = hiddenCharacterCount(text ?? '');
    if (count === 0) return [];
    const characters = count === 1 ? 'character' : 'characters';
    return [{ lead: '  ', spans: [{ text: `⚠ ${label} contained ${count} hidden or control ${characters}, shown as ⟨…⟩ markers.` }], paint: (text: string) => colors.bold(colors.yellow(text)) }];
  });
}

function detailLines(proposal: Proposal, kinds: KindRegistry, colors: Palette, now: number, staleness: Staleness | undefined, seal: SealVerdict | undefined): StyledLine[] {
  const kind = kinds.find(proposal.kind);
  const expiry = proposal.expiresAt === null ? 'never expires' : `expires in ${formatAge(proposal.expiresAt - now)}`;
  const lines: StyledLine[] = [
    { spans: [{ text: 'Proposal ', paint: colors.bold }, { text: safeLine(proposal.id) }] },
    {
      lead: '  ',
      spans: [
        { text: 'bottle ', paint: colors.dim },
        { text: safeLine(proposal.slug), paint: colors.bold },
        { text: '   kind ', paint: colors.dim },
        { text: safeLine(proposal.kind), paint: colors.bold },
        { text: '   from ', paint: colors.dim },
        { text: safeLine(proposal.origin) },
      ],
    },
    { lead: '  ', spans: [{ text: `asked ${formatAge(now - proposal.createdAt)} ago (${isoTime(proposal.createdAt)}), ${expiry}` }] },
  ];
  const asked = askedBy(proposal, seal);
  lines.push({ lead: '  ', spans: [{ text: 'asked by ', paint: colors.dim }, { text: asked.who, paint: colors.bold }, ...(kind ? [{ text: `: ${safeLine(kind.description)}`, paint: colors.dim }] : [])] });
  if (asked.warning !== undefined) lines.push({ lead: '  ', spans: [{ text: asked.warning }], paint: (text) => colors.bold(colors.yellow(text)) });
  const kindProblem = kind ? undefined : kinds.problem(proposal.kind);
  if (kindProblem) {
    const onlyReject = kindProblem.code === 'unknown-kind' ? ' It can only be rejected here.' : '';
    lines.push({ lead: '  ', spans: [{ text: `⚠ ${safeLine(kindProblem.message)}${onlyReject}` }], paint: (text: string) => colors.bold(colors.red(text)) });
  }
  if (kind && !kind.modifiable) {
    lines.push({ lead: '  ', spans: [{ text: `This kind cannot be modified${kind.reasonRequiredToApprove ? '; approving it needs a reason' : ''}.`, paint: colors.yellow }] });
  } else if (kind?.reasonRequiredToApprove) {
    lines.push({ lead: '  ', spans: [{ text: 'Approving this kind needs a reason.', paint: colors.yellow }] });
  }
  lines.push(...sealLines(proposal, seal, colors));
  lines.push(...hiddenCharacterWarnings(proposal, colors));
  lines.push(...staleWarning(proposal, staleness, colors, now));
  const heading = (text: string): StyledLine => ({ spans: [{ text }], paint: colors.bold });
  const blank: StyledLine = { spans: [] };
  lines.push(blank, heading('Justification'), ...indented(proposal.justification), blank);

  // A kind that cannot be modified and replaces no file is a report: there is nothing to diff against.
  if (kind && !kind.modifiable && proposal.currentFile === null) {
    const report = reportLines(proposal.kind, proposal.payload, colors);
    lines.push(...(report ? [heading(report.heading), ...report.lines] : [heading('Report'), ...indented(kind.render(proposal.payload))]));
    return lines;
  }
  if (kind && staleness?.state === 'stale' && staleness.liveRoutes !== null) {
    lines.push(...liveChangeLines(proposal, kind, staleness.liveRoutes, colors));
    return lines;
  }
  const against = proposal.currentFile === null ? 'an empty file (the proposer sent no current file)' : 'the current file';
  lines.push(heading(`Change against ${against}`));
  // A kind this build does not know still gets a plain line diff, labelled with its name.
  const diff = kind ? kind.diff(proposal.currentFile ?? '', proposal.payload) : renderDiff(proposal.currentFile ?? '', proposal.payload, proposal.kind);
  lines.push(...(diff === '' ? plainLines(['(no change: the proposed file equals the current file)'], '  ') : diffLines(diff, colors)));
  return lines;
}

/**
 * What an edit in *modify* changed: the proposed file against the operator's, as the audit log
 * keeps it (proposed → final), shown before the reason is asked for. The file names of the patch
 * are left out: the heading says which side is which.
 */
export function renderEdit(proposal: Proposal, finalPayload: string, kinds: KindRegistry, colors: Palette, width?: number): string[] {
  const kind = kinds.find(proposal.kind);
  const diff = kind ? kind.diff(proposal.payload, finalPayload) : renderDiff(proposal.payload, finalPayload, proposal.kind);
  const hunks = diff.slice(Math.max(0, diff.indexOf('\n@@') + 1));
  const lines: StyledLine[] = [
    { spans: [{ text: 'Your edit (- the proposed file, + yours: what approving applies)', paint: colors.bold }] },
    ...(diff === '' ? plainLines(['(no change)'], '  ') : diffLines(hunks, colors)),
    { spans: [] },
  ];
  return lines.flatMap((line) => layoutLine(line, width));
}

/**
 * What the operator reads before deciding: who asks for what and why, and the change itself —
 * a coloured diff against the current file, or the report for kinds that replace no file. Every
 * string a bottle wrote is shown display-safe, with a warning for each that hid characters; with
 * a `width`, long lines wrap onto rows marked ↪ instead of being cut.
 */
export function renderDetail(
  proposal: Proposal,
  kinds: KindRegistry,
  colors: Palette,
  now: number,
  options: { width?: number; staleness?: Staleness; seal?: SealVerdict } = {},
): string[] {
  return detailLines(proposal, kinds, colors, now, options.staleness, options.seal).flatMap((line) => layoutLine(line, options.width));
}

/**
 * Whose seal the proposal carries, and the payload hash an answer given here is bound to (the same
 * one `supervise --once` prints). A forged proposal is said to be so before anything else about it.
 */
function sealLines(proposal: Proposal, seal: SealVerdict | undefined, colors: Palette): StyledLine[] {
  if (seal === undefined) return [];
  const hash: StyledLine = { lead: '  ', spans: [{ text: 'payload sha256 ', paint: colors.dim }, { text: sha256(proposal.payload) }] };
  if (seal !== 'forged') return [hash];
  const alarm = (text: string): StyledLine => ({ lead: '  ', spans: [{ text }], paint: (line: string) => colors.bold(colors.red(line)) });
  return [
    alarm('⚠ FORGED: this proposal does not carry a valid seal from its bottle or from the host: something with raw access to the database wrote or changed it.'),
    alarm('It cannot be approved or modified, only rejected (r). The forgery is recorded in the audit log (action forged-row).'),
    hash,
  ];
}

const shortHash = (hash: string | null): string => (hash === null ? 'none' : `${hash.slice(0, 12)}…`);

/** Whether the routes file this proposal replaces is still the live one, as the bottle's sidecar last said. */
function staleWarning(proposal: Proposal, staleness: Staleness | undefined, colors: Palette, now: number): StyledLine[] {
  const warn = (text: string): StyledLine => ({ lead: '  ', spans: [{ text }], paint: (line: string) => colors.bold(colors.yellow(line)) });
  const note = (text: string): StyledLine => ({ lead: '  ', spans: [{ text, paint: colors.dim }] });
  if (staleness === undefined) return [];
  if (staleness.state === 'unknown') return [note('Live routes file: unknown (this bottle’s sidecar has published none), so whether this proposal is stale cannot be told.')];
  const seen = staleness.heartbeatAt === null ? '' : `, as its sidecar reported ${formatAge(now - staleness.heartbeatAt)} ago`;
  if (staleness.state === 'current') return [note(`The live routes file is still the one this was proposed against (sha256 ${shortHash(staleness.liveRoutesHash)}${seen}).`)];
  return [
    warn(
      `⚠ STALE: the bottle’s live routes file changed after this was proposed (proposed against sha256 ${shortHash(proposal.currentFileHash)}, live now ${shortHash(staleness.liveRoutesHash)}${seen}).`,
    ),
    warn(
      'Approving does not overwrite the newer routes: the sidecar applies the change only where it merges cleanly into the live file route by route, and otherwise applies nothing and tells the agent to propose again.',
    ),
    ...(staleness.liveRoutes === null ? [note('The live file’s text was not published (over the payload limit), so the diff below is against the file it was proposed against.')] : []),
  ];
}

/** A stale routes proposal shown against the live file: what approving would apply (the merge) or why nothing would be. */
function liveChangeLines(proposal: Proposal, kind: KindDefinition, live: string, colors: Palette): StyledLine[] {
  const heading = (text: string): StyledLine => ({ spans: [{ text }], paint: colors.bold });
  const blank: StyledLine = { spans: [] };
  const diff = (before: string, after: string): StyledLine[] => {
    const text = kind.diff(before, after);
    return text === '' ? plainLines(['(no change)'], '  ') : diffLines(text, colors);
  };
  const merge = mergeOrWhy(proposal.currentFile, live, proposal.payload);
  const lines: StyledLine[] = [];
  if (typeof merge !== 'string' && merge.clean) {
    lines.push(heading('Change against the live file: the proposal merged into it route by route, which is what approving applies'), ...diff(live, merge.yaml));
  } else {
    const why = typeof merge === 'string' ? [`  ${safeLine(merge)}`] : merge.conflicts.map((c) => `  ${safeLine(c.host)}: ${c.reason}`);
    lines.push(heading('Conflicts with the live file: approving applies nothing, and the agent is told to propose again'), ...plainLines(why, ''), blank);
    lines.push(heading('The proposed file against the live file (whole-file diff)'), ...diff(live, proposal.payload));
  }
  lines.push(blank, heading('What changed in the live file since the proposal was made'), ...diff(proposal.currentFile ?? '', live));
  return lines;
}

