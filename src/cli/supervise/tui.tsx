import { useSyncExternalStore } from 'react';
import { Box, Text, useInput, useWindowSize, type Key } from 'ink';
import { safeLine } from '../../core/safe-text.js';
import type { Staleness } from '../../bottles/staleness.js';
import type { Proposal } from '../../queue/proposal.js';
import { reasonRequired } from './actions.js';
import { renderDetail, renderEdit } from './detail.js';
import { helpLines } from './key-help.js';
import { describeFilter, narrows } from './list-filter.js';
import { columnWidths, pendingRow, tableLine, type Palette, type PendingRow } from './list-model.js';
import { bottleLines, describeBottles, LIVENESS_PAINT, livenessOfSlug, sealMarks } from './bottles-model.js';
import type { Liveness } from '../../bottles/bottle-overview.js';
import type { KeyPress, SessionState, StatusLine, SuperviseSession } from './session.js';
import { layoutLine, type StyledLine } from './styled-line.js';

/** Rows the header, the key help and the status line take; the rest is the list or the detail. */
const CHROME_ROWS = 5;

function singleKey(input: string, key: Key): KeyPress {
  if (key.ctrl && input === 'c') return { input, name: 'interrupt' };
  if (key.upArrow) return { input, name: 'up' };
  if (key.downArrow) return { input, name: 'down' };
  if (key.pageUp) return { input, name: 'pageUp' };
  if (key.pageDown) return { input, name: 'pageDown' };
  if (key.home) return { input, name: 'home' };
  if (key.end) return { input, name: 'end' };
  if (key.return) return { input, name: 'return' };
  if (key.escape) return { input, name: 'escape' };
  // Terminals send DEL (0x7f) for Backspace, which ink reports as `delete`.
  if (key.backspace || key.delete) return { input, name: 'backspace' };
  return { input };
}

/**
 * Ink hands over plain text that arrived in one read as one input, Enter included ("ok\r" from
 * a paste or a fast typist), so it is split back into the key presses it was made of.
 */
export function toKeyPresses(input: string, key: Key): KeyPress[] {
  if (input.length <= 1 || key.ctrl || key.meta || input.includes('\u001b')) return [singleKey(input, key)];
  return [...input].map((char): KeyPress => {
    if (char === '\r' || char === '\n') return { input: char, name: 'return' };
    if (char === '\u007f' || char === '\b') return { input: char, name: 'backspace' };
    return { input: char };
  });
}

/** The slice of `lines` that fits `height`, keeping line `focus` visible. */
export function visibleWindow<T>(lines: T[], focus: number, height: number): { start: number; items: T[] } {
  const start = Math.max(0, Math.min(focus - Math.floor(height / 2), lines.length - height));
  return { start, items: lines.slice(start, start + height) };
}

/** One row. List rows and status lines may be cut (they are an index); detail rows are laid out to fit and wrap rather than lose a character. */
function Line({ children, wrap = 'truncate-end' }: { children: string; wrap?: 'truncate-end' | 'wrap' }) {
  return <Text wrap={wrap}>{children === '' ? ' ' : children}</Text>;
}

/** Whether a routes proposal was made against the file that is live now, read fresh at each render. */
export type StalenessOf = (proposal: Proposal) => Staleness | undefined;

/** A row of the list as drawn: a proposal (its index in `shown`), or the heading of a bottle's group. */
type ListItem = { type: 'row'; index: number; row: PendingRow } | { type: 'group'; slug: string; count: number };

function paintLiveness(liveness: Liveness, colors: Palette): string {
  return colors[LIVENESS_PAINT[liveness]](liveness);
}


/** Each bottle with its liveness, seals and pending count, from the host's overview; Enter narrows the list to the selected one. */
function BottlesView({ session, state, colors, width, height }: { session: SuperviseSession; state: SessionState; colors: Palette; width: number; height: number }) {
  if (state.view.name !== 'bottles') return null;
  const summaries = session.bottleSummaries();
  if (summaries.length === 0) return <Line>{colors.dim('No bottles: none is registered, none has a heartbeat on record and none has a proposal pending.')}</Line>;
  const [header = '', ...rows] = bottleLines(summaries, state.now, colors, width, state.view.selected);
  const { start, items } = visibleWindow(rows, state.view.selected, height - 1);
  return (
    <Box flexDirection="column">
      <Line>{header}</Line>
      {items.map((line, offset) => (
        <Line key={summaries[start + offset]?.slug ?? offset}>{line}</Line>
      ))}
    </Box>
  );
}

function listItems(state: SessionState, rows: PendingRow[]): ListItem[] {
  if (!state.filter.grouped) return rows.map((row, index) => ({ type: 'row', index, row }));
  const counts = new Map<string, number>();
  for (const proposal of state.shown) counts.set(proposal.slug, (counts.get(proposal.slug) ?? 0) + 1);
  return rows.flatMap((row, index): ListItem[] => {
    const slug = state.shown[index]?.slug ?? '';
    const heading: ListItem[] = index === 0 || state.shown[index - 1]?.slug !== slug ? [{ type: 'group', slug, count: counts.get(slug) ?? 0 }] : [];
    return [...heading, { type: 'row', index, row }];
  });
}

function ListView({ state, colors, width, height, staleness }: { state: SessionState; colors: Palette; width: number; height: number; staleness: StalenessOf }) {
  if (state.proposals.length === 0) {
    return <Line>{colors.dim('No pending proposals. Waiting for new ones; they appear here as they arrive.')}</Line>;
  }
  if (state.shown.length === 0) {
    return <Line>{colors.dim(`None of the ${state.proposals.length} pending proposals matches. Esc shows them all.`)}</Line>;
  }
  const rows = state.shown.map((proposal) => pendingRow(proposal, state.now, staleness(proposal), state.seals[proposal.id]));
  const widths = columnWidths(rows, width - 2);
  const items = listItems(state, rows);
  const focus = items.findIndex((item) => item.type === 'row' && item.index === state.selected);
  const { start, items: visible } = visibleWindow(items, focus, height - 1);
  return (
    <Box flexDirection="column">
      <Line>{colors.bold(`  ${tableLine(undefined, widths)}`)}</Line>
      {visible.map((item, offset) => {
        if (item.type === 'group') {
          const marks = sealMarks(state.bottles.find((bottle) => bottle.slug === item.slug)).map((mark) => ` · ${colors.red(mark)}`);
          return (
            <Line key={`group:${start + offset}`}>{`${colors.bold(colors.cyan(`── ${safeLine(item.slug)} · ${item.count} pending ·`))} ${paintLiveness(livenessOfSlug(state.bottles, item.slug, state.now), colors)}${marks.join('')}`}</Line>
          );
        }
        const line = `${state.marked.has(item.row.id) ? '*' : ' '}${tableLine(item.row, widths)}`;
        return <Line key={item.row.id}>{item.index === state.selected ? colors.inverse(`>${line}`) : ` ${line}`}</Line>;
      })}
    </Box>
  );
}

/**
 * The marked proposals, each as its list row (display-safe, wherever the filter puts it), and one
 * reason for all of them: what is rejected is what is on the screen.
 */
function BulkRejectView({ session, state, colors, width, height }: { session: SuperviseSession; state: SessionState; colors: Palette; width: number; height: number }) {
  if (state.view.name !== 'bulk-reject') return null;
  const marked = session.markedProposals();
  const rows = marked.map((proposal) => pendingRow(proposal, state.now, undefined, state.seals[proposal.id]));
  const widths = columnWidths(rows, width - 2);
  const room = Math.max(1, height - 6);
  const listed = rows.length > room ? rows.slice(0, room - 1) : rows;
  const more = rows.length - listed.length;
  const count = marked.length === 1 ? 'the marked proposal' : `these ${marked.length} marked proposals`;
  const prompt: StyledLine = {
    spans: [
      { text: 'Reason for rejecting them all', paint: colors.bold },
      { text: ' (required, sent to each agent)', paint: colors.dim },
      { text: `: ${safeLine(state.view.text)}${state.busy ? '' : '█'}` },
    ],
  };
  const lines = [
    colors.bold(`Reject ${count}, each on its own: its own answer, seal and audit entry, as r would.`),
    colors.bold(`  ${tableLine(undefined, widths)}`),
    ...listed.map((row) => `  ${tableLine(row, widths)}`),
    ...(more > 0 ? [colors.dim(`  … and ${more} more (u unmarks all; Esc goes back to the list)`)] : []),
    '',
    ...layoutLine(prompt, width),
    ...(state.view.error ? errorLines(state.view.error, colors).flatMap((line) => layoutLine(line, width)) : []),
  ];
  return (
    <Box flexDirection="column">
      {lines.map((line, index) => (
        <Line key={index}>{line}</Line>
      ))}
    </Box>
  );
}

/** Under the title: the search being typed, or what the list is narrowed to and how many are marked, or a rule. */
function subtitle(session: SuperviseSession, state: SessionState, colors: Palette, columns: number): string {
  if (state.view.name === 'search') return `${colors.bold('/')}${safeLine(state.view.text)}█ ${colors.dim(`${state.shown.length} of ${state.proposals.length} match`)}`;
  const marked = state.marked.size === 0 ? '' : colors.magenta(`${state.marked.size} marked (R rejects them) `);
  const parts = describeFilter(state.filter);
  if (state.view.name === 'bottles') return colors.bold(describeBottles(session.bottleSummaries()));
  if (state.view.name !== 'list') return colors.dim('─'.repeat(Math.max(0, columns - 1)));
  if (parts.length === 0) return marked === '' ? colors.dim('─'.repeat(Math.max(0, columns - 1))) : marked;
  // The counts and the way back come first: a long slug in the filter is what gets cut at the edge.
  const clear = narrows(state.filter) ? ' (Esc shows all)' : '';
  return `${marked}${colors.yellow(`${state.shown.length} of ${state.proposals.length} shown${clear}: ${parts.join(' · ')}`)}`;
}

/** Error text (it can quote the payload's problems) as red display-safe lines. */
function errorLines(message: string, colors: Palette): StyledLine[] {
  return message.split('\n').map((line) => ({ spans: [{ text: safeLine(line) }], paint: colors.red }));
}

/** The lines under the detail: the reason prompt and its error, or why an edited file was refused. */
function promptLines(session: SuperviseSession, state: SessionState, colors: Palette): StyledLine[] {
  const view = state.view;
  const blank: StyledLine = { spans: [] };
  if (view.name === 'invalid-edit') return [blank, ...errorLines(view.error, colors)];
  if (view.name !== 'prompt' || !state.open) return [];
  const status = ({ approve: 'approved', modify: 'modified', reject: 'rejected' } as const)[view.action];
  const required = reasonRequired(session.kindOf(state.open), status);
  const label = { approve: 'Reason for approving', modify: 'Reason for the modification', reject: 'Reason for rejecting' }[view.action];
  const input: StyledLine = {
    spans: [
      { text: label, paint: colors.bold },
      { text: ' ' },
      { text: required ? '(required)' : '(optional, Enter to skip)', paint: colors.dim },
      { text: `: ${safeLine(view.text)}${state.busy ? '' : '█'}` },
    ],
  };
  return [blank, input, ...(view.error ? errorLines(view.error, colors) : [])];
}

function DetailView({
  session,
  state,
  colors,
  width,
  height,
  staleness,
}: {
  session: SuperviseSession;
  state: SessionState;
  colors: Palette;
  width: number;
  height: number;
  staleness: StalenessOf;
}) {
  const open = state.open;
  if (!open) return null;
  const settled = state.settledElsewhere === undefined ? undefined : safeLine(state.settledElsewhere);
  const banner = settled === undefined ? [] : [...layoutLine({ spans: [{ text: `${settled.charAt(0).toUpperCase()}${settled.slice(1)}.` }], paint: (text) => colors.yellow(colors.bold(text)) }, width), ''];
  const view = state.view;
  const edit = view.name === 'prompt' && view.finalPayload !== undefined ? renderEdit(open, view.finalPayload, session.kinds, colors, width) : [];
  const lines = [...banner, ...edit, ...renderDetail(open, session.kinds, colors, state.now, { width, staleness: staleness(open), seal: session.sealOf(open) })];
  const footer = promptLines(session, state, colors)
    .flatMap((line) => layoutLine(line, width))
    .slice(0, Math.max(0, height - 4));
  const bodyHeight = Math.max(2, height - footer.length - 1);
  const scroll = Math.min(state.scroll, Math.max(0, lines.length - bodyHeight));
  const position =
    lines.length > bodyHeight ? colors.dim(`lines ${scroll + 1}–${Math.min(lines.length, scroll + bodyHeight)} of ${lines.length} (↑↓ PgUp PgDn scroll)`) : '';
  return (
    <Box flexDirection="column">
      {[...lines.slice(scroll, scroll + bodyHeight), position, ...footer].map((line, index) => (
        <Line key={index} wrap="wrap">
          {line}
        </Line>
      ))}
    </Box>
  );
}

/** Lines that scroll in the body's height, with the position when they do not all fit. */
function ScrolledLines({ lines, scroll, height, colors }: { lines: string[]; scroll: number; height: number; colors: Palette }) {
  const bodyHeight = Math.max(2, height - 1);
  const top = Math.min(scroll, Math.max(0, lines.length - bodyHeight));
  const position = lines.length > bodyHeight ? colors.dim(`lines ${top + 1}–${Math.min(lines.length, top + bodyHeight)} of ${lines.length} (↑↓ PgUp PgDn scroll)`) : '';
  return (
    <Box flexDirection="column">
      {[...lines.slice(top, top + bodyHeight), position].map((line, index) => (
        <Line key={index} wrap="wrap">
          {line}
        </Line>
      ))}
    </Box>
  );
}

function HelpView({ state, colors, width, height }: { state: SessionState; colors: Palette; width: number; height: number }) {
  const lines = helpLines().flatMap((text) => layoutLine({ spans: [{ text }], ...(text !== '' && !text.startsWith(' ') ? { paint: colors.bold } : {}) }, width));
  return <ScrolledLines lines={[colors.bold('Keys'), '', ...lines]} scroll={state.scroll} height={height} colors={colors} />;
}

function keyHelp(session: SuperviseSession, state: SessionState): string {
  switch (state.view.name) {
    case 'list':
      if (state.proposals.length === 0) return '? keys · q quit';
      if (state.marked.size > 0) return `? keys · Space mark · v mark shown · u unmark all · R reject the ${state.marked.size} marked · q quit`;
      return '? keys · Enter open · / search · b bottle · t kind · o group · B bottles · Space mark · q quit';
    case 'bulk-reject':
      return 'type the reason · Enter reject them all · Esc cancel';
    case 'bottles':
      return '↑↓ select · Enter show its proposals · q, Esc or B back';
    case 'search':
      return 'type to search id, bottle, kind, justification · Enter keep · Esc drop';
    case 'help':
      return '↑↓ scroll · q, Esc or ? close';
    case 'detail': {
      if (state.settledElsewhere !== undefined || !state.open) return '↑↓ scroll · q back';
      const kind = session.kindOf(state.open);
      const approve = kind?.reasonRequiredToApprove ? 'a approve (reason required)' : 'a approve';
      const modify = kind?.modifiable ? ' · m modify in $EDITOR' : '';
      return `${approve}${modify} · r reject · ↑↓ scroll · ? keys · q back`;
    }
    case 'prompt':
      return 'type the reason · Enter submit · Esc cancel · ↑↓ PgUp PgDn scroll';
    case 'invalid-edit':
      return 'the edited file is not valid: e edit again · c cancel';
  }
}

function statusText(status: StatusLine | undefined, colors: Palette): string {
  if (!status) return ' ';
  const paint = { ok: colors.green, info: colors.cyan, error: colors.red }[status.tone];
  return paint(safeLine(status.text));
}

export function SuperviseApp({ session, colors, staleness }: { session: SuperviseSession; colors: Palette; staleness: StalenessOf }) {
  const state = useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.state,
  );
  const { columns, rows } = useWindowSize();
  useInput((input, key) => {
    for (const press of toKeyPresses(input, key)) session.handleKey(press);
  });
  const height = Math.max(4, rows - CHROME_ROWS);
  const count = state.proposals.length === 1 ? '1 pending proposal' : `${state.proposals.length} pending proposals`;
  return (
    <Box flexDirection="column" width={columns}>
      <Line>{`${colors.bold('bot-bottle supervise')} — ${count}, ${describeBottles(session.bottleSummaries())}, ${state.filter.grouped ? 'grouped by bottle' : 'all bottles, oldest first'} ${colors.dim(`(answering as ${session.responder})`)}`}</Line>
      <Line>{subtitle(session, state, colors, columns)}</Line>
      {state.view.name === 'list' || state.view.name === 'search' ? (
        <ListView state={state} colors={colors} width={columns} height={height} staleness={staleness} />
      ) : state.view.name === 'bottles' ? (
        <BottlesView session={session} state={state} colors={colors} width={columns} height={height} />
      ) : state.view.name === 'bulk-reject' ? (
        <BulkRejectView session={session} state={state} colors={colors} width={Math.max(20, columns - 1)} height={height} />
      ) : state.view.name === 'help' ? (
        <HelpView state={state} colors={colors} width={Math.max(20, columns - 1)} height={height} />
      ) : (
        <DetailView session={session} state={state} colors={colors} width={Math.max(20, columns - 1)} height={height} staleness={staleness} />
      )}
      <Line>{colors.dim(keyHelp(session, state))}</Line>
      <Line>{statusText(state.status, colors)}</Line>
    </Box>
  );
}
