import type { Staleness } from '../../bottles/staleness.js';
import type { colorsFor } from '../common.js';
import { safeLine, safeText } from '../../core/safe-text.js';
import { sha256 } from '../../core/hash.js';
import { isoTime } from '../../core/time.js';
import type { SealVerdict } from '../../keys/keyring.js';
import type { SuperviseError } from '../../core/errors.js';
import type { KindRules } from '../../kinds/kind.js';
import type { Proposal } from '../../queue/proposal.js';
import type { QueueStore } from '../../queue/queue-store.js';

/** How many characters of an id the list shows; the answer verbs accept this prefix. */
export const SHORT_ID_LENGTH = 8;

/** One line of the pending list, as the operator sees it in the table, the TUI and the demo: every text display-safe. */
export interface PendingRow {
  id: string;
  shortId: string;
  slug: string;
  kind: string;
  origin: string;
  age: string;
  justification: string;
  /** The bottle's live routes file is no longer the one this proposal was made against. */
  stale: boolean;
  /** Its seal does not verify: neither its bottle nor the host wrote it as it stands. Shown, never approvable. */
  forged: boolean;
}

/** What `supervise --once --json` prints per proposal: everything a script needs to decide. */
export interface PendingJson {
  id: string;
  slug: string;
  kind: string;
  origin: string;
  justification: string;
  createdAt: string;
  ageSeconds: number;
  expiresAt: string | null;
  /** Why this process cannot approve or modify the proposal's kind (unknown, or its record not trusted); null when it can. */
  kindProblem: string | null;
  modifiable: boolean;
  reasonRequiredToApprove: boolean;
  currentFileHash: string | null;
  currentFile: string | null;
  payload: string;
  /** What `supervise approve|modify ID --expect-sha256` must be given: the answer is refused if the payload changed since. */
  payloadSha256: string;
  /** Whose seal the proposal carries: `bottle` or `host`; `forged` cannot be approved or modified, only rejected. */
  seal: SealVerdict;
  /** Routes proposals: whether the bottle's live file differs from `currentFile`; null when unknown (no heartbeat) or not a routes proposal. */
  stale: boolean | null;
  /** The live routes file's hash as the bottle's sidecar last published it. */
  liveRoutesHash: string | null;
  /** The live file's text, when stale and published: what approving would really change. */
  liveRoutes: string | null;
}

export function listPending(queue: QueueStore): Proposal[] {
  return queue.listPendingProposals({ target: 'operator' });
}

export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** First line of the justification, squeezed to `width` characters with an ellipsis. */
export function excerpt(text: string, width: number): string {
  // By code point, so a cut never splits a character in two.
  const squeezed = text.replace(/\s+/g, ' ').trim();
  if (width <= 0) return '';
  // No more UTF-16 units than width means no more code points: nothing to cut (the common case, and no array of characters to build).
  if (squeezed.length <= width) return squeezed;
  const line = [...squeezed];
  if (line.length <= width) return line.join('');
  return width === 1 ? '…' : `${line.slice(0, width - 1).join('')}…`;
}

/** The row a proposal is listed as. A bottle wrote its fields, so each is made display-safe here, once for every list. */
export function pendingRow(proposal: Proposal, now: number, staleness?: Staleness, seal?: SealVerdict): PendingRow {
  return {
    id: proposal.id,
    shortId: safeLine(proposal.id.slice(0, SHORT_ID_LENGTH)),
    slug: safeLine(proposal.slug),
    kind: safeLine(proposal.kind),
    origin: safeLine(proposal.origin),
    age: formatAge(now - proposal.createdAt),
    // Newlines stay for the excerpt to fold into spaces; everything that could act on a terminal is a marker already.
    justification: safeText(proposal.justification),
    stale: staleness?.state === 'stale',
    forged: seal === 'forged',
  };
}

/** What the list says of a proposal's kind: its rules, or why this process cannot answer it. A KindRegistry is one. */
export interface KindLookup {
  find(name: string): KindRules | undefined;
  problem(name: string): SuperviseError | undefined;
}

export function pendingJson(proposal: Proposal, kinds: KindLookup, now: number, staleness: Staleness | undefined, seal: SealVerdict): PendingJson {
  const kind = kinds.find(proposal.kind);
  return {
    id: proposal.id,
    slug: proposal.slug,
    kind: proposal.kind,
    origin: proposal.origin,
    justification: proposal.justification,
    createdAt: isoTime(proposal.createdAt),
    ageSeconds: Math.max(0, Math.floor((now - proposal.createdAt) / 1000)),
    expiresAt: proposal.expiresAt === null ? null : isoTime(proposal.expiresAt),
    kindProblem: kind ? null : (kinds.problem(proposal.kind)?.message ?? null),
    modifiable: kind?.modifiable ?? false,
    reasonRequiredToApprove: kind?.reasonRequiredToApprove ?? true,
    currentFileHash: proposal.currentFileHash,
    currentFile: proposal.currentFile,
    payload: proposal.payload,
    payloadSha256: sha256(proposal.payload),
    seal,
    stale: staleness === undefined || staleness.state === 'unknown' ? null : staleness.state === 'stale',
    liveRoutesHash: staleness === undefined || staleness.state === 'unknown' ? null : staleness.liveRoutesHash,
    liveRoutes: staleness?.state === 'stale' ? staleness.liveRoutes : null,
  };
}

/** picocolors' formatters, enabled or not by `colorsFor`. */
export type Palette = ReturnType<typeof colorsFor>;

const HEADERS = { shortId: 'ID', slug: 'BOTTLE', kind: 'KIND', age: 'AGE', justification: 'JUSTIFICATION' } as const;
const GAP = '  ';
/** Leads the justification of a proposal made against a routes file that is no longer live. */
export const STALE_MARK = '[STALE]';
/** Leads the justification of a proposal whose seal does not verify. */
export const FORGED_MARK = '[FORGED]';

/**
 * The widest the bottle and kind columns grow: a slug may be 63 characters, and one long slug
 * must not squeeze every row's justification to nothing. A longer one is cut with an ellipsis;
 * the detail view shows it whole.
 */
export const MAX_COLUMN = { slug: 16, kind: 20 } as const;

/** Column widths for the fixed columns; the justification takes what is left of `width`. */
export function columnWidths(rows: PendingRow[], width: number): { slug: number; kind: number; age: number; justification: number } {
  const widest = (pick: (row: PendingRow) => string, header: string): number => rows.reduce((max, row) => Math.max(max, [...pick(row)].length), header.length);
  const slug = Math.min(MAX_COLUMN.slug, widest((row) => row.slug, HEADERS.slug));
  const kind = Math.min(MAX_COLUMN.kind, widest((row) => row.kind, HEADERS.kind));
  const age = widest((row) => row.age, HEADERS.age);
  const fixed = SHORT_ID_LENGTH + slug + kind + age + GAP.length * 4;
  return { slug, kind, age, justification: Math.max(HEADERS.justification.length, width - fixed) };
}

/** One table line; the header when `row` is omitted. Oldest first is the caller's order. */
export function tableLine(row: PendingRow | undefined, widths: ReturnType<typeof columnWidths>): string {
  const cells = row ?? { ...HEADERS, id: '', origin: '', stale: false, forged: false };
  return [
    cells.shortId.padEnd(SHORT_ID_LENGTH),
    excerpt(cells.slug, widths.slug).padEnd(widths.slug),
    excerpt(cells.kind, widths.kind).padEnd(widths.kind),
    cells.age.padStart(widths.age),
    row ? excerpt(`${row.forged ? `${FORGED_MARK} ` : ''}${row.stale ? `${STALE_MARK} ` : ''}${cells.justification}`, widths.justification) : cells.justification,
  ].join(GAP);
}

/** The `supervise --once` table: a header, one line per pending proposal, and a count. */
export function renderPendingTable(
  proposals: Proposal[],
  options: {
    now: number;
    width: number;
    colors: Palette;
    staleness?: (proposal: Proposal) => Staleness | undefined;
    /** With it, forged proposals are marked and each payload's sha256 is listed for --expect-sha256. */
    seal?: (proposal: Proposal) => SealVerdict;
  },
): string {
  const { colors } = options;
  if (proposals.length === 0) return `${colors.dim('No pending proposals.')}\n`;
  const rows = proposals.map((proposal) => pendingRow(proposal, options.now, options.staleness?.(proposal), options.seal?.(proposal)));
  const widths = columnWidths(rows, options.width);
  const lines = [colors.bold(tableLine(undefined, widths)), ...rows.map((row) => tableLine(row, widths))];
  const count = proposals.length === 1 ? '1 pending proposal' : `${proposals.length} pending proposals`;
  lines.push(colors.dim(`${count}, oldest first. Answer with: bot-bottle supervise approve|modify|reject ID (or run bot-bottle supervise).`));
  const stale = rows.filter((row) => row.stale).length;
  if (stale > 0) {
    lines.push(
      colors.yellow(
        `${STALE_MARK} ${stale === 1 ? '1 proposal was' : `${stale} proposals were`} made against a routes file that is no longer live: open ${stale === 1 ? 'it' : 'them'} in bot-bottle supervise for the diff against the live file. ` +
          'Approved, the sidecar applies only a change that merges cleanly into the live file, and otherwise refuses it as stale.',
      ),
    );
  }
  if (options.seal) lines.push(...reviewFooter(proposals, rows, colors));
  return `${lines.join('\n')}\n`;
}

/**
 * What a script needs to answer what it reviewed: each payload's sha256, which approve and modify
 * take as --expect-sha256, and a warning for proposals whose seal failed.
 */
function reviewFooter(proposals: Proposal[], rows: PendingRow[], colors: Palette): string[] {
  const lines: string[] = [];
  const forged = rows.filter((row) => row.forged).length;
  if (forged > 0) {
    lines.push(
      colors.red(
        `${FORGED_MARK} ${forged === 1 ? '1 proposal does' : `${forged} proposals do`} not carry a valid seal from its bottle or the host: something with raw access to the database wrote or changed ${forged === 1 ? 'it' : 'them'}. ` +
          'It cannot be approved or modified, only rejected; the forgery is in the audit log (action forged-row).',
      ),
    );
  }
  lines.push(colors.dim('Payload sha256 (approve and modify take it as --expect-sha256, so the answer is refused if the proposal changed since):'));
  proposals.forEach((proposal, index) => lines.push(`  ${rows[index]?.shortId ?? ''}  ${sha256(proposal.payload)}`));
  return lines;
}
