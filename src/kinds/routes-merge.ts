/**
 * Applying an approved routes file onto a live file that changed after it was proposed would
 * silently drop the newer routes. Instead the change is merged at route granularity (routes are
 * keyed by host, which the routes file keeps unique): base = the file the proposal was made
 * against, ours = the live file, theirs = the approved file. A host both sides changed differently
 * is a conflict, and one conflict refuses the whole merge: a half-applied request is not what
 * anyone approved.
 */
import { SuperviseError, isSuperviseError } from '../core/errors.js';
import { parseRoutesYaml, renderRoutesYaml, type Route, type RoutesDocument } from './routes-file.js';

export interface RouteConflict {
  host: string;
  /** Said to the agent (and audited) as is: which side did what to this host. */
  reason: string;
}

export type RoutesMerge =
  /** `yaml` is what to write: the approved file itself when the merge equals it, otherwise the merged routes rendered. */
  | { clean: true; merged: RoutesDocument; yaml: string; unchangedLive: boolean }
  | { clean: false; conflicts: RouteConflict[] };

/** Fixed field order, so two routes that mean the same compare equal whatever their YAML looked like. */
function normalRoute(r: Route): unknown[] {
  return [r.host, r.path_allowlist ?? null, r.auth ? [r.auth.scheme, r.auth.token_ref] : null, r.dlp ? (r.dlp.outbound_on_match ?? null) : null];
}

function routeIdentity(route: Route | undefined): string | undefined {
  return route === undefined ? undefined : JSON.stringify(normalRoute(route));
}

function sameDocument(a: RoutesDocument, b: RoutesDocument): boolean {
  return JSON.stringify(a.routes.map(normalRoute)) === JSON.stringify(b.routes.map(normalRoute));
}

/** A file that does not exist yet is read as empty text: no routes. A bad file is named, since three are in play. */
function parseSide(text: string, which: string): RoutesDocument {
  if (text.trim() === '') return { routes: [] };
  try {
    return parseRoutesYaml(text);
  } catch (error) {
    if (!isSuperviseError(error)) throw error;
    const first = error.problems[0]?.message ?? error.message;
    throw new SuperviseError('invalid-payload', `${which} is not a valid routes file (${first}), so nothing can be merged with it.`, { problems: error.problems });
  }
}

function byHost(doc: RoutesDocument): Map<string, Route> {
  return new Map(doc.routes.map((route) => [route.host, route]));
}

function conflictReason(base: Route | undefined, ours: Route | undefined, theirs: Route | undefined): string {
  if (base === undefined) return 'added to the live file since the proposal was made, differently from the approved file';
  if (ours === undefined) return 'removed from the live file since the proposal was made, but the approved file changes it';
  if (theirs === undefined) return 'changed in the live file since the proposal was made, but the approved file removes it';
  return 'changed both in the live file since the proposal was made and in the approved file, differently';
}

/**
 * The three-way merge of routes documents. Per host: the sides agree → that; only one side
 * differs from base → that side (a removal included); both differ from base and from each other →
 * a conflict. Routes keep the live file's order; hosts new in the approved file follow in its order.
 */
export function mergeRoutes(base: RoutesDocument, ours: RoutesDocument, theirs: RoutesDocument): RoutesMerge {
  const [baseRoutes, ourRoutes, theirRoutes] = [byHost(base), byHost(ours), byHost(theirs)];
  const hosts = [...new Set([...ourRoutes.keys(), ...theirRoutes.keys(), ...baseRoutes.keys()])];
  const merged = new Map<string, Route | undefined>();
  const conflicts: RouteConflict[] = [];
  for (const host of hosts) {
    const [b, o, t] = [baseRoutes.get(host), ourRoutes.get(host), theirRoutes.get(host)];
    const [bId, oId, tId] = [routeIdentity(b), routeIdentity(o), routeIdentity(t)];
    if (oId === tId || tId === bId) merged.set(host, o);
    else if (oId === bId) merged.set(host, t);
    else conflicts.push({ host, reason: conflictReason(b, o, t) });
  }
  if (conflicts.length > 0) return { clean: false, conflicts };

  const order = [...ourRoutes.keys(), ...[...theirRoutes.keys()].filter((host) => !ourRoutes.has(host))];
  const result: RoutesDocument = { routes: order.flatMap((host) => merged.get(host) ?? []) };
  const unchangedLive = sameDocument(result, ours);
  return { clean: true, merged: result, yaml: renderRoutesYaml(result), unchangedLive };
}

/**
 * `mergeRoutes` on the three files' texts. When the merge means exactly the approved file, that
 * file is written as approved (its comments and layout kept); otherwise the merged routes are
 * rendered afresh. Throws `SuperviseError('invalid-payload')` naming the file that is not a valid
 * routes file (a blank base or live file is one without routes: the file did not exist yet).
 */
export function mergeRoutesFiles(base: string, live: string, approved: string): RoutesMerge {
  const theirs = parseSide(approved, 'the approved file');
  const result = mergeRoutes(parseSide(base, 'the file the proposal was made against'), parseSide(live, 'the live routes file'), theirs);
  if (!result.clean) return result;
  if (result.unchangedLive) return { ...result, yaml: live };
  return sameDocument(result.merged, theirs) ? { ...result, yaml: approved } : result;
}

/**
 * The merge an approval would make of `approved` into `live`, or why it cannot make one: what the
 * operator's views show beside a stale routes proposal. `base` is the file the proposal was made
 * against (null when the proposal does not carry it).
 */
export function mergeOrWhy(base: string | null, live: string, approved: string): RoutesMerge | string {
  if (base === null) return 'the proposal does not carry the file it was made against, so nothing can be merged';
  try {
    return mergeRoutesFiles(base, live, approved);
  } catch (error) {
    if (isSuperviseError(error)) return error.message;
    throw error;
  }
}
