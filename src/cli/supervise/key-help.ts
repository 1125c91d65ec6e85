/** Every key of the TUI, by where it works: what `?` shows and the README's table repeats. */
export interface KeyGroup {
  where: string;
  keys: ReadonlyArray<readonly [keys: string, what: string]>;
}

export const KEY_HELP: readonly KeyGroup[] = [
  {
    where: 'Everywhere',
    keys: [['Ctrl-C', 'quit at once']],
  },
  {
    where: 'The pending list',
    keys: [
      ['↑ ↓  j k', 'select'],
      ['PgUp PgDn', 'move a page'],
      ['g G  Home End', 'first, last'],
      ['Enter', 'open the selected proposal'],
      ['/', 'search id, bottle, kind and justification as you type (Enter keeps it, Esc drops it)'],
      ['b', 'show only the selected proposal’s bottle (again: every bottle)'],
      ['t', 'show only the selected proposal’s kind (again: every kind)'],
      ['o', 'group the list by bottle, each heading with its pending count and liveness (again: bottles in turns)'],
      ['B', 'the bottles as `bot-bottle bottles` shows them: alive, stale or gone, each seal that fails, and how many proposals each has pending'],
      ['?', 'these keys (↑↓ scroll them; q, Esc or ? closes them)'],
      ['Space', 'mark or unmark the selected proposal, and move down'],
      ['v', 'mark every proposal shown (again: unmark them)'],
      ['u', 'unmark everything'],
      ['R', 'reject every marked proposal with one reason'],
      ['Esc', 'show everything again after a search or b/t; otherwise quit'],
      ['q', 'quit'],
    ],
  },
  {
    where: 'A proposal',
    keys: [
      ['a', 'approve (a reason is asked for; some kinds require one)'],
      ['m', 'modify in $EDITOR (kinds that allow it); your edit’s diff is shown above the reason prompt'],
      ['r', 'reject (a reason is required)'],
      ['?', 'these keys'],
      ['↑ ↓  j k  Space', 'scroll'],
      ['PgUp PgDn  g', 'scroll a page, to the top'],
      ['q  Esc', 'back to the list'],
    ],
  },
  {
    where: 'Typing a reason',
    keys: [
      ['Enter', 'submit'],
      ['↑ ↓  PgUp PgDn', 'scroll what the reason is for (the proposal, your edit’s diff)'],
      ['Backspace', 'delete a character'],
      ['Esc', 'cancel: nothing is written'],
    ],
  },
  {
    where: 'The bottles',
    keys: [
      ['↑ ↓  j k', 'select'],
      ['Enter', 'show only the selected bottle’s proposals'],
      ['q  Esc  B', 'back to the list'],
    ],
  },
  {
    where: 'Rejecting the marked proposals',
    keys: [
      ['Enter', 'reject them all, each with its own answer and audit entry'],
      ['Esc', 'cancel: nothing is written'],
    ],
  },
  {
    where: 'Typing a search',
    keys: [
      ['↑ ↓', 'select'],
      ['Enter', 'keep the search and go back to the list'],
      ['Backspace', 'delete a character'],
      ['Esc', 'drop what was typed'],
    ],
  },
  {
    where: 'An edit that is not valid',
    keys: [
      ['e', 'edit again, starting from your edit'],
      ['c  q  Esc', 'cancel the modification'],
    ],
  },
];

/** The help screen's lines (our own text: nothing from a bottle is in it). */
export function helpLines(): string[] {
  const width = Math.max(...KEY_HELP.flatMap((group) => group.keys.map(([keys]) => [...keys].length)));
  return KEY_HELP.flatMap((group, index) => [...(index === 0 ? [] : ['']), group.where, ...group.keys.map(([keys, what]) => `  ${keys.padEnd(width)}  ${what}`)]);
}
