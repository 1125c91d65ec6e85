// The route-granularity three-way merge the sidecar applies an approved routes file with when the
// live file changed after the proposal was made (base = proposed-against, ours = live, theirs = approved).
import { describe, expect, it } from 'vitest';
import { parseRoutesYaml } from '../src/kinds/routes-file.js';
import { mergeRoutes, mergeRoutesFiles } from '../src/kinds/routes-merge.js';

const BASE = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/acme/\n  - host: pypi.org\n';

function merge(base: string, live: string, approved: string) {
  return mergeRoutesFiles(base, live, approved);
}

describe('mergeRoutesFiles', () => {
  it('disjoint edits merge: the live file’s new route and the approved file’s new route both survive', () => {
    const live = `${BASE}  - host: registry.npmjs.org\n`;
    const approved = `${BASE}  - host: files.pythonhosted.org\n`;
    const result = merge(BASE, live, approved);
    expect(result.clean).toBe(true);
    if (!result.clean) return;
    expect(result.merged.routes.map((r) => r.host)).toEqual(['api.github.com', 'pypi.org', 'registry.npmjs.org', 'files.pythonhosted.org']);
    expect(parseRoutesYaml(result.yaml)).toEqual(result.merged);
    expect(result.unchangedLive).toBe(false);
  });

  it('an edit on one side and a removal on the other, of different hosts, merge', () => {
    const live = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/acme/\n';
    const approved = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/acme/\n      - /orgs/acme/\n  - host: pypi.org\n';
    const result = merge(BASE, live, approved);
    expect(result).toMatchObject({ clean: true, merged: { routes: [{ host: 'api.github.com', path_allowlist: ['/repos/acme/', '/orgs/acme/'] }] } });
  });

  it('the same host changed on both sides, differently, conflicts', () => {
    const live = BASE.replace('/repos/acme/', '/repos/acme/widgets/');
    const approved = BASE.replace('/repos/acme/', '/repos/');
    expect(merge(BASE, live, approved)).toEqual({
      clean: false,
      conflicts: [{ host: 'api.github.com', reason: 'changed both in the live file since the proposal was made and in the approved file, differently' }],
    });
  });

  it('a removal on one side against an edit on the other conflicts, either way round', () => {
    const edited = BASE.replace('  - host: pypi.org\n', '  - host: pypi.org\n    path_allowlist:\n      - /simple/\n');
    const removed = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/acme/\n';
    expect(merge(BASE, removed, edited)).toEqual({
      clean: false,
      conflicts: [{ host: 'pypi.org', reason: 'removed from the live file since the proposal was made, but the approved file changes it' }],
    });
    expect(merge(BASE, edited, removed)).toEqual({
      clean: false,
      conflicts: [{ host: 'pypi.org', reason: 'changed in the live file since the proposal was made, but the approved file removes it' }],
    });
  });

  it('the same host added on both sides conflicts only when the additions differ', () => {
    const addedLive = `${BASE}  - host: ghcr.io\n`;
    const addedAlike = `${BASE}  - host: ghcr.io\n`;
    const addedOtherwise = `${BASE}  - host: ghcr.io\n    path_allowlist:\n      - /v2/\n`;
    expect(merge(BASE, addedLive, addedAlike)).toMatchObject({ clean: true, unchangedLive: true });
    expect(merge(BASE, addedLive, addedOtherwise)).toMatchObject({ clean: false, conflicts: [{ host: 'ghcr.io', reason: expect.stringContaining('added to the live file') }] });
  });

  it('every conflict is named, not only the first', () => {
    const live = 'routes:\n  - host: api.github.com\n  - host: pypi.org\n    path_allowlist:\n      - /a/\n';
    const approved = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /b/\n  - host: pypi.org\n    path_allowlist:\n      - /b/\n';
    const result = merge(BASE, live, approved);
    expect(result.clean).toBe(false);
    expect(!result.clean && result.conflicts.map((c) => c.host)).toEqual(['api.github.com', 'pypi.org']);
  });

  it('when the merge means exactly the approved file, the approved text is written as is (comments kept)', () => {
    const live = BASE.replace('routes:\n', '# edited by hand\nroutes:\n');
    const approved = `${BASE}  - host: ghcr.io # for images\n`;
    const result = merge(BASE, live, approved);
    expect(result).toMatchObject({ clean: true, yaml: approved, unchangedLive: false });
  });

  it('when the live file already holds the approved change, nothing needs writing', () => {
    const approved = `${BASE}  - host: ghcr.io\n`;
    expect(merge(BASE, approved, approved)).toMatchObject({ clean: true, yaml: approved, unchangedLive: true });
  });

  it('a blank base or live file (one that did not exist) has no routes', () => {
    const approved = 'routes:\n  - host: pypi.org\n';
    expect(merge('', 'routes:\n  - host: ghcr.io\n', approved)).toMatchObject({ clean: true, merged: { routes: [{ host: 'ghcr.io' }, { host: 'pypi.org' }] } });
    expect(merge('routes:\n  - host: ghcr.io\n', '', approved)).toMatchObject({ clean: true, merged: { routes: [{ host: 'pypi.org' }] } });
  });

  it('hosts compare case-insensitively, as the routes file reads them', () => {
    const live = `${BASE}  - host: GHCR.io\n`;
    expect(merge(BASE, live, `${BASE}  - host: ghcr.io\n`)).toMatchObject({ clean: true, unchangedLive: true });
  });

  it('an invalid live file is refused as invalid, never merged', () => {
    expect(() => merge(BASE, 'routes: [oops', BASE)).toThrow(/^the live routes file is not a valid routes file \(line 1: /);
  });
});

describe('mergeRoutes', () => {
  it('keeps the live order and appends the approved file’s new hosts in its order', () => {
    const doc = (...hosts: string[]) => ({ routes: hosts.map((host) => ({ host })) });
    const result = mergeRoutes(doc('a.example', 'b.example'), doc('b.example', 'a.example', 'c.example'), doc('a.example', 'b.example', 'e.example', 'd.example'));
    expect(result).toMatchObject({ clean: true, merged: doc('b.example', 'a.example', 'c.example', 'e.example', 'd.example') });
  });
});
