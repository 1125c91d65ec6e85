import { safeLine, safeText } from '../../core/safe-text.js';
import type { Proposal } from '../../queue/proposal.js';

/** What the pending list shows of everything pending: a search, one bottle, one kind, and whether rows are grouped by bottle. */
export interface ListFilter {
  /** Words that must each occur in a row's id, bottle, kind or justification (case-insensitive). */
  query: string;
  slug: string | undefined;
  kind: string | undefined;
  grouped: boolean;
}

export const NO_FILTER: ListFilter = { query: '', slug: undefined, kind: undefined, grouped: false };

/** Whether the filter hides anything (grouping only reorders). */
export function narrows(filter: ListFilter): boolean {
  return filter.query.trim() !== '' || filter.slug !== undefined || filter.kind !== undefined;
}

/**
 * Searched as displayed: a bottle's hidden characters are markers on the screen, so they are
 * markers here too. A zero-width space cannot split a word the operator searches for without
 * showing `⟨ZWSP⟩`, and nothing matches on text the operator cannot see.
 */
function searchable(proposal: Proposal): string {
  return [proposal.id, proposal.slug, proposal.kind, proposal.justification].map((text) => safeText(text).replace(/\s+/g, ' ').toLowerCase()).join('\n');
}

export function matchesQuery(proposal: Proposal, query: string): boolean {
  const words = query.toLowerCase().split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) return true;
  const text = searchable(proposal);
  return words.every((word) => text.includes(word));
}

/**
 * The rows to show, in the fair order they came in; grouped, each bottle's rows together, the
 * bottles in the order of their first row (so the bottle waiting longest still comes first).
 */
export function applyFilter(proposals: readonly Proposal[], filter: ListFilter): Proposal[] {
  const shown = proposals.filter(
    (proposal) => (filter.slug === undefined || proposal.slug === filter.slug) && (filter.kind === undefined || proposal.kind === filter.kind) && matchesQuery(proposal, filter.query),
  );
  if (!filter.grouped) return shown;
  const groups = new Map<string, Proposal[]>();
  for (const proposal of shown) {
    const group = groups.get(proposal.slug);
    if (group) group.push(proposal);
    else groups.set(proposal.slug, [proposal]);
  }
  return [...groups.values()].flat();
}

/** The filter in words for the screen, each part display-safe (a bottle's slug or kind can be anything a raw row holds). */
export function describeFilter(filter: ListFilter): string[] {
  return [
    ...(filter.query.trim() === '' ? [] : [`search "${safeLine(filter.query.trim())}"`]),
    ...(filter.slug === undefined ? [] : [`bottle ${safeLine(filter.slug)}`]),
    ...(filter.kind === undefined ? [] : [`kind ${safeLine(filter.kind)}`]),
    ...(filter.grouped ? ['grouped by bottle'] : []),
  ];
}
