import type { Staleness } from '../bottles/staleness.js';
import { sha256 } from '../core/hash.js';
import { hasUnsafeCharacters, safeLine } from '../core/safe-text.js';
import type { SealVerdict } from '../keys/keyring.js';
import { renderDiff } from '../kinds/diff.js';
import type { KindDefinition } from '../kinds/kind.js';
import type { KindRegistry } from '../kinds/registry.js';
import { mergeOrWhy } from '../kinds/routes-merge.js';
import type { Proposal } from '../queue/proposal.js';
import { excerpt, SHORT_ID_LENGTH } from '../cli/supervise/list-model.js';
import type { PendingRowView, ProposalView, ViewLine, ViewSection, WarningView } from './page/api-types.js';
import { diffView, plainView, safeLinesOf } from './view-lines.js';

/** How much of a justification the list shows; the detail pane shows all of it. */
const EXCERPT_CHARACTERS = 160;

/** A pending proposal as a list row: every field a bottle wrote made display-safe here, once. */
export function pendingRowView(proposal: Pick<Proposal, 'id' | 'slug' | 'kind' | 'origin' | 'createdAt' | 'justification'>, staleness: Staleness | undefined, seal: SealVerdict): PendingRowView {
  return {
    id: proposal.id,
    shortId: safeLine(proposal.id.slice(0, SHORT_ID_LENGTH)),
    slug: safeLine(proposal.slug),
    kind: safeLine(proposal.kind),
    origin: safeLine(proposal.origin),
    createdAt: proposal.createdAt,
    excerpt: excerpt(safeLine(proposal.justification.split('\n', 1)[0] ?? ''), EXCERPT_CHARACTERS),
    stale: staleness?.state === 'stale',
    forged: seal === 'forged',
  };
}

/**
 * What the operator reads before deciding, as the terminal's detail view has it: who asks what and
 * why, warnings (forged, hidden characters, stale), and the change — the kind's own diff against
 * the current file, against the live file when stale, or the report for kinds that replace no file.
 */
export function proposalView(proposal: Proposal, kinds: KindRegistry, staleness: Staleness | undefined, seal: SealVerdict, settled: string | null): ProposalView {
  const kind = kinds.find(proposal.kind);
  return {
    id: safeLine(proposal.id),
    state: proposal.state,
    settled: settled === null ? null : safeLine(settled),
    slug: safeLine(proposal.slug),
    kind: safeLine(proposal.kind),
    origin: safeLine(proposal.origin),
    createdAt: proposal.createdAt,
    expiresAt: proposal.expiresAt,
    kindDescription: kind?.description ?? `a kind this build does not know (${safeLine(proposal.kind)})`,
    modifiable: kind?.modifiable ?? false,
    reasonRequiredToApprove: kind?.reasonRequiredToApprove ?? true,
    seal,
    payloadSha256: sha256(proposal.payload),
    currentFileHash: proposal.currentFileHash,
    warnings: [...sealWarnings(seal), ...hiddenCharacterWarnings(proposal), ...staleWarnings(proposal, staleness)],
    justification: proposal.justification === '' ? ['(none given)'] : safeLinesOf(proposal.justification),
    sections: changeSections(proposal, kind, staleness),
    payload: proposal.payload,
  };
}

function sealWarnings(seal: SealVerdict): WarningView[] {
  if (seal !== 'forged') return [];
  return [
    {
      tone: 'danger',
      text: 'FORGED: this proposal does not carry a valid seal from its bottle or from the host: something with raw access to the database wrote or changed it. It cannot be approved or modified, only rejected. The forgery is recorded in the audit log (action forged-row).',
    },
  ];
}

function hiddenCharacterCount(text: string): number {
  if (!hasUnsafeCharacters(text)) return 0;
  let count = 0;
  for (const char of text) if (hasUnsafeCharacters(char)) count += 1;
  return count;
}

function hiddenCharacterWarnings(proposal: Proposal): WarningView[] {
  const fields: Array<[string, string | null]> = [
    ['the bottle name', proposal.slug],
    ['the kind', proposal.kind],
    ['the origin', proposal.origin],
    ['the justification', proposal.justification],
    ['the proposed file', proposal.payload],
    ['the current file', proposal.currentFile],
  ];
  return fields.flatMap(([label, text]): WarningView[] => {
    const count = hiddenCharacterCount(text ?? '');
    return count === 0 ? [] : [{ tone: 'warn', text: `${label} contained ${count} hidden or control character${count === 1 ? '' : 's'}, shown as ⟨…⟩ markers.` }];
  });
}

const shortHash = (hash: string | null): string => (hash === null ? 'none' : `${hash.slice(0, 12)}…`);

function staleWarnings(proposal: Proposal, staleness: Staleness | undefined): WarningView[] {
  if (staleness === undefined) return [];
  if (staleness.state === 'unknown') return [{ tone: 'note', text: 'Live routes file: unknown (this bottle’s sidecar has published none), so whether this proposal is stale cannot be told.' }];
  if (staleness.state === 'current') return [{ tone: 'note', text: `The live routes file is still the one this was proposed against (sha256 ${shortHash(staleness.liveRoutesHash)}).` }];
  return [
    {
      tone: 'warn',
      text: `STALE: the bottle’s live routes file changed after this was proposed (proposed against sha256 ${shortHash(proposal.currentFileHash)}, live now ${shortHash(staleness.liveRoutesHash)}). Approving does not overwrite the newer routes: the sidecar applies the change only where it merges cleanly into the live file route by route, and otherwise applies nothing and tells the agent to propose again.`,
    },
    ...(staleness.liveRoutes === null ? [{ tone: 'note' as const, text: 'The live file’s text was not published (over the payload limit), so the diff is against the file it was proposed against.' }] : []),
  ];
}

function changeSections(proposal: Proposal, kind: KindDefinition | undefined, staleness: Staleness | undefined): ViewSection[] {
  // A kind that cannot be modified and replaces no file is a report: there is nothing to diff against.
  if (kind && !kind.modifiable && proposal.currentFile === null) return [{ heading: 'Report', lines: plainView(safeLinesOf(kind.render(proposal.payload))) }];
  if (kind && staleness?.state === 'stale' && staleness.liveRoutes !== null) return liveChangeSections(proposal, kind, staleness.liveRoutes);
  const against = proposal.currentFile === null ? 'an empty file (the proposer sent no current file)' : 'the current file';
  // A kind this build does not know still gets a plain line diff, labelled with its name.
  const diff = kind ? kind.diff(proposal.currentFile ?? '', proposal.payload) : renderDiff(proposal.currentFile ?? '', proposal.payload, proposal.kind);
  return [{ heading: `Change against ${against}`, lines: orNoChange(diffView(diff), '(no change: the proposed file equals the current file)') }];
}

function orNoChange(lines: ViewLine[], text = '(no change)'): ViewLine[] {
  return lines.length === 0 ? plainView([text]) : lines;
}

/** A stale routes proposal against the live file: what approving would apply (the merge), or why nothing would be. */
function liveChangeSections(proposal: Proposal, kind: KindDefinition, live: string): ViewSection[] {
  const diff = (before: string, after: string): ViewLine[] => orNoChange(diffView(kind.diff(before, after)));
  const merge = mergeOrWhy(proposal.currentFile, live, proposal.payload);
  const sections: ViewSection[] = [];
  if (typeof merge !== 'string' && merge.clean) {
    sections.push({ heading: 'Change against the live file: the proposal merged into it route by route, which is what approving applies', lines: diff(live, merge.yaml) });
  } else {
    const why = typeof merge === 'string' ? [safeLine(merge)] : merge.conflicts.map((c) => `${safeLine(c.host)}: ${c.reason}`);
    sections.push({ heading: 'Conflicts with the live file: approving applies nothing, and the agent is told to propose again', lines: plainView(why) });
    sections.push({ heading: 'The proposed file against the live file (whole-file diff)', lines: diff(live, proposal.payload) });
  }
  sections.push({ heading: 'What changed in the live file since the proposal was made', lines: diff(proposal.currentFile ?? '', live) });
  return sections;
}

