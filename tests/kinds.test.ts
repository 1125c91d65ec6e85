/** The kinds registry and the built-in kinds: which kinds exist, their payloads, and every rule about an answer. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isSuperviseError, SuperviseError, type SuperviseErrorCode } from '../src/core/errors.js';
import { MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import { renderDiff } from '../src/kinds/diff.js';
import { KIND_EGRESS_ALLOW, KIND_EGRESS_BLOCK, KIND_EGRESS_ROUTES_APPLY, KIND_EGRESS_TOKEN_ALLOW, KIND_GITLEAKS_ALLOW } from '../src/kinds/builtin-rules.js';
import { KindRegistry } from '../src/kinds/registry.js';
import type { NewResponse } from '../src/kinds/response.js';
import { GITLEAKS_REPORT, ROUTES_YAML, routesFor, TOKEN_REPORT } from './fixtures/storage-support.js';

const kinds = KindRegistry.withBuiltins();

function refusal(run: () => unknown): SuperviseError {
  try {
    run();
  } catch (error) {
    if (isSuperviseError(error)) return error;
    throw error;
  }
  throw new Error('expected a SuperviseError, but the call succeeded');
}

function expectRefused(run: () => unknown, code: SuperviseErrorCode, message: RegExp): SuperviseError {
  const error = refusal(run);
  expect({ code: error.code, message: error.message }).toEqual({ code, message: expect.stringMatching(message) });
  return error;
}

describe('the built-in kinds', () => {
  it.each([
    [KIND_EGRESS_ALLOW, { component: 'egress', target: 'operator', modifiable: true, reasonRequiredToApprove: false }, ROUTES_YAML],
    [KIND_EGRESS_BLOCK, { component: 'egress', target: 'operator', modifiable: true, reasonRequiredToApprove: false }, ROUTES_YAML],
    [KIND_GITLEAKS_ALLOW, { component: 'git-gate', target: 'operator', modifiable: false, reasonRequiredToApprove: true }, GITLEAKS_REPORT],
    [KIND_EGRESS_TOKEN_ALLOW, { component: 'egress', target: 'operator', modifiable: false, reasonRequiredToApprove: true }, TOKEN_REPORT],
    [KIND_EGRESS_ROUTES_APPLY, { component: 'egress', target: 'sidecar', modifiable: false, reasonRequiredToApprove: false }, ROUTES_YAML],
  ])('%s: its rules, and it parses its own payload', (name, rules, payload) => {
    const kind = kinds.get(name);
    expect(kind).toMatchObject({ name, ...rules });
    expect(kind.description).not.toBe('');
    expect(() => kind.parse(payload)).not.toThrow();
  });

  it('routes kinds show the file as it is; report kinds indent their JSON', () => {
    expect(kinds.get(KIND_EGRESS_ALLOW).render(ROUTES_YAML)).toBe(ROUTES_YAML);
    expect(kinds.get(KIND_GITLEAKS_ALLOW).render(GITLEAKS_REPORT)).toBe(JSON.stringify(JSON.parse(GITLEAKS_REPORT), null, 2));
    expect(kinds.get(KIND_EGRESS_TOKEN_ALLOW).render(TOKEN_REPORT)).toBe(JSON.stringify(JSON.parse(TOKEN_REPORT), null, 2));
    expect(kinds.get(KIND_GITLEAKS_ALLOW).render('not json')).toBe('not json');
  });

  it('each kind diffs against the current file under its own name', () => {
    const proposed = routesFor('pypi.org');
    for (const name of kinds.names()) {
      const diff = kinds.get(name).diff(ROUTES_YAML, proposed);
      expect(diff).toBe(renderDiff(ROUTES_YAML, proposed, name));
      expect(diff).toContain(`--- ${name} (current)`);
    }
    expect(kinds.get(KIND_EGRESS_ALLOW).diff(ROUTES_YAML, ROUTES_YAML)).toBe('');
  });

  it('a payload problem is an invalid-payload error carrying each problem with its line', () => {
    const error = expectRefused(() => kinds.get(KIND_EGRESS_BLOCK).parse('routes:\n  - host: https://a.com\n'), 'invalid-payload', /^1 problem in the egress routes file:/);
    expect(error.problems).toMatchObject([{ line: 2, path: 'routes[0].host' }]);
    expect(error.category).toBe('input');
  });
});

describe('KindRegistry', () => {
  it('find returns the kind, or undefined for a name it does not know', () => {
    expect(kinds.find(KIND_GITLEAKS_ALLOW)?.name).toBe(KIND_GITLEAKS_ALLOW);
    expect(kinds.find('deploy-approve')).toBeUndefined();
    expect(kinds.find('')).toBeUndefined();
  });

  it('get throws unknown-kind naming the known kinds', () => {
    expectRefused(
      () => kinds.get('deploy-approve'),
      'unknown-kind',
      /^unknown proposal kind "deploy-approve"\. Known kinds: egress-allow, egress-block, gitleaks-allow, egress-token-allow, egress-routes-apply\.$/,
    );
  });

  it('registers a launcher’s kind in its own registry only', () => {
    const mine = KindRegistry.withBuiltins().register({
      name: 'deploy-approve',
      component: 'deploy',
      target: 'operator',
      modifiable: true,
      reasonRequiredToApprove: false,
      format: 'text',
      schema: z.string().regex(/^deploy api$/),
      description: 'a deploy to confirm',
    });
    expect(mine.find('deploy-approve')?.name).toBe('deploy-approve');
    expect(kinds.find('deploy-approve')).toBeUndefined();
    expectRefused(() => mine.validate('deploy-approve', 'deploy web'), 'invalid-payload', /^payload is not a valid deploy-approve payload: 1 problem in the deploy-approve payload \(text\):\n {2}- \(top level\): must match pattern "\^deploy api\$"/);
  });

  it('validate names what was checked and keeps the problems', () => {
    expect(() => kinds.validate(KIND_EGRESS_ALLOW, ROUTES_YAML)).not.toThrow();
    const error = expectRefused(() => kinds.validate(KIND_EGRESS_ALLOW, 'routes: 7\n', 'the edited file'), 'invalid-payload', /^the edited file is not a valid egress-allow payload: 1 problem in the egress routes file:/);
    expect(error.problems).toMatchObject([{ line: 1, path: 'routes' }]);
    expectRefused(() => kinds.validate('nope', ROUTES_YAML), 'unknown-kind', /unknown proposal kind "nope"/);
  });
});

describe('KindRegistry.checkResponse', () => {
  const routes = { kind: KIND_EGRESS_ALLOW };
  const gitleaks = { kind: KIND_GITLEAKS_ALLOW };
  const approve: NewResponse = { status: 'approved', responder: 'operator' };

  it('returns the answer as it is stored: notes never missing, a final file only with modified', () => {
    expect(kinds.checkResponse(routes, approve)).toEqual({ status: 'approved', responder: 'operator', notes: '', finalPayload: null });
    expect(kinds.checkResponse(gitleaks, { status: 'rejected', responder: 'operator' })).toEqual({ status: 'rejected', responder: 'operator', notes: '', finalPayload: null });
    const edited = routesFor('pypi.org');
    expect(kinds.checkResponse(routes, { status: 'modified', responder: 'operator:bob', notes: 'narrowed', finalPayload: edited })).toEqual({
      status: 'modified',
      responder: 'operator:bob',
      notes: 'narrowed',
      finalPayload: edited,
    });
    expect(kinds.checkResponse(gitleaks, { ...approve, notes: 'test fixture, not a real key' }).notes).toBe('test fixture, not a real key');
  });

  it('a proposal of a kind this registry does not know: unknown-kind', () => {
    expectRefused(() => kinds.checkResponse({ kind: 'deploy-approve' }, approve), 'unknown-kind', /unknown proposal kind "deploy-approve"/);
  });

  it('a status that is not approved, modified or rejected: invalid-input', () => {
    const response = { ...approve, status: 'maybe' } as unknown as NewResponse;
    expectRefused(() => kinds.checkResponse(routes, response), 'invalid-input', /^response status "maybe" is not valid: use approved, modified or rejected\.$/);
  });

  it('an invalid responder or oversized notes', () => {
    expectRefused(() => kinds.checkResponse(routes, { ...approve, responder: 'rm -rf /' }), 'invalid-input', /^responder "rm -rf \/" is not valid/);
    expectRefused(() => kinds.checkResponse(routes, { ...approve, notes: 'n'.repeat(MAX_NOTES_BYTES + 1) }), 'too-large', /^notes is \d+ bytes, over the limit/);
  });

  it.each([KIND_GITLEAKS_ALLOW, KIND_EGRESS_TOKEN_ALLOW, KIND_EGRESS_ROUTES_APPLY])('modifying %s: modify-not-allowed', (kind) => {
    expectRefused(
      () => kinds.checkResponse({ kind }, { status: 'modified', responder: 'operator', notes: 'why', finalPayload: ROUTES_YAML }),
      'modify-not-allowed',
      new RegExp(`^${kind} proposals cannot be modified, only approved \\(with a reason\\) or rejected\\.$`),
    );
  });

  it('modified needs a final file that fits and is valid for the kind', () => {
    expectRefused(() => kinds.checkResponse(routes, { status: 'modified', responder: 'operator' }), 'invalid-input', /^a modified response needs the final file \(finalPayload\)\.$/);
    expectRefused(
      () => kinds.checkResponse(routes, { status: 'modified', responder: 'operator', finalPayload: 'x'.repeat(MAX_PAYLOAD_BYTES + 1) }),
      'too-large',
      /^final file is \d+ bytes, over the limit/,
    );
    const error = expectRefused(
      () => kinds.checkResponse(routes, { status: 'modified', responder: 'operator', finalPayload: 'routes:\n  - host: a.com\n    auth: {scheme: bearer}\n' }),
      'invalid-payload',
      /^the modified file is not a valid egress-allow payload: 1 problem in the egress routes file:/,
    );
    expect(error.problems).toMatchObject([{ line: 3, path: 'routes[0].auth', rule: 'both scheme and token_ref are required' }]);
  });

  it.each(['approved', 'rejected'] as const)('a final file with %s: invalid-input', (status) => {
    expectRefused(
      () => kinds.checkResponse(routes, { status, responder: 'operator', notes: 'x', finalPayload: ROUTES_YAML }),
      'invalid-input',
      new RegExp(`^a final file only goes with status "modified", not "${status}"\\.$`),
    );
  });

  it.each([KIND_GITLEAKS_ALLOW, KIND_EGRESS_TOKEN_ALLOW])('approving %s without a reason: reason-required; rejecting needs none from the kind', (kind) => {
    for (const notes of [undefined, '', '  \n ']) {
      expectRefused(
        () => kinds.checkResponse({ kind }, { ...approve, ...(notes === undefined ? {} : { notes }) }),
        'reason-required',
        new RegExp(`^approving a ${kind} proposal needs a reason: say why this is safe to allow\\.$`),
      );
    }
    expect(kinds.checkResponse({ kind }, { status: 'rejected', responder: 'operator' }).status).toBe('rejected');
  });

  it('the first broken rule wins: status, then responder, then whether the kind may be modified or take a final file', () => {
    expectRefused(() => kinds.checkResponse(gitleaks, { status: 'bogus', responder: '' } as unknown as NewResponse), 'invalid-input', /response status/);
    expectRefused(() => kinds.checkResponse(gitleaks, { status: 'modified', responder: '' }), 'invalid-input', /responder "" is not valid/);
    expectRefused(() => kinds.checkResponse(gitleaks, { status: 'modified', responder: 'operator' }), 'modify-not-allowed', /cannot be modified/);
    expectRefused(() => kinds.checkResponse(gitleaks, { ...approve, finalPayload: GITLEAKS_REPORT }), 'invalid-input', /a final file only goes with status "modified"/);
  });
});
