import { describe, expect, it } from 'vitest';
import { buildTokenAllowPayload, MIN_REDACTABLE_TOKEN_CHARS, parseTokenAllowReport, TOKEN_ALLOW_MAX_CHARS, type TokenAllowInput } from '../src/kinds/token-report.js';
import { rejection } from './fixtures/payload-rejection.js';

describe('parseTokenAllowReport', () => {
  const report = {
    detector: 'github-pat',
    host: 'api.example.com',
    method: 'POST',
    path: '/v1/upload?key=[REDACTED:github-pat]',
    redacted_snippet: 'Authorization: [REDACTED:github-pat]',
  };

  it('accepts a report and fields exactly at their bounds', () => {
    expect(parseTokenAllowReport(JSON.stringify(report))).toEqual(report);
    const atBounds = {
      ...report,
      detector: 'd'.repeat(TOKEN_ALLOW_MAX_CHARS.detector),
      method: 'M'.repeat(TOKEN_ALLOW_MAX_CHARS.method),
      path: `/${'p'.repeat(TOKEN_ALLOW_MAX_CHARS.path - 1)}`,
      redacted_snippet: 's'.repeat(TOKEN_ALLOW_MAX_CHARS.redacted_snippet),
    };
    expect(parseTokenAllowReport(JSON.stringify(atBounds))).toEqual(atBounds);
  });

  it.each([
    ['a lowercase method', { method: 'post' }, 'method'],
    ['a relative path', { path: 'v1/upload' }, 'path'],
    ['a host with a port', { host: 'api.example.com:443' }, 'host'],
    ['a detector with spaces', { detector: 'github pat' }, 'detector'],
    ['an over-long snippet', { redacted_snippet: 's'.repeat(TOKEN_ALLOW_MAX_CHARS.redacted_snippet + 1) }, 'redacted_snippet'],
    ['an over-long path', { path: `/${'p'.repeat(TOKEN_ALLOW_MAX_CHARS.path)}` }, 'path'],
    ['an over-long detector', { detector: 'd'.repeat(TOKEN_ALLOW_MAX_CHARS.detector + 1) }, 'detector'],
    ['an unknown key', { token: 'x' }, 'token'],
    ['a missing key', { detector: undefined }, '(top level)'],
  ])('rejects %s', (_what, change, path) => {
    const problems = rejection(() => parseTokenAllowReport(JSON.stringify({ ...report, ...change }))).problems;
    expect(problems.map((p) => p.path)).toEqual([path]);
  });
});

describe('buildTokenAllowPayload', () => {
  const token = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
  const base: TokenAllowInput = {
    host: 'API.Example.com',
    method: 'POST',
    path: '/v1/upload',
    detector: 'github-pat',
    token,
    context: `Authorization: token ${token}`,
  };

  it('returns canonical JSON that parses back', () => {
    const payload = buildTokenAllowPayload(base);
    expect(payload).toBe(
      '{"detector":"github-pat","host":"api.example.com","method":"POST","path":"/v1/upload","redacted_snippet":"Authorization: token [REDACTED:github-pat]"}',
    );
    expect(parseTokenAllowReport(payload).host).toBe('api.example.com');
  });

  it('never contains the token, however often it appears in the context and the path', () => {
    const context = `${'a'.repeat(500)}${token}${token} mid ${token}\n${'b'.repeat(500)}${token}`;
    const payload = buildTokenAllowPayload({ ...base, path: `/v1/${token}/upload?key=${token}`, context });
    expect(payload).not.toContain(token);
    expect(payload).not.toContain(token.slice(0, 12));
    const report = parseTokenAllowReport(payload);
    expect(report.path).toBe('/v1/[REDACTED:github-pat]/upload?key=[REDACTED:github-pat]');
    expect(report.redacted_snippet.length).toBe(TOKEN_ALLOW_MAX_CHARS.redacted_snippet);
    expect(report.redacted_snippet).toContain('[REDACTED:github-pat][REDACTED:github-pat] mid [REDACTED:github-pat]');
  });

  it('centres the snippet on the first redaction', () => {
    const context = `${'a'.repeat(1000)}${token}${'b'.repeat(1000)}`;
    const snippet = parseTokenAllowReport(buildTokenAllowPayload({ ...base, context })).redacted_snippet;
    const marker = '[REDACTED:github-pat]';
    const before = (TOKEN_ALLOW_MAX_CHARS.redacted_snippet - marker.length) / 2;
    expect(snippet).toBe(`${'a'.repeat(Math.floor(before))}${marker}${'b'.repeat(Math.ceil(before))}`);
  });

  it('keeps the snippet inside the context near its ends', () => {
    const atEnd = parseTokenAllowReport(buildTokenAllowPayload({ ...base, context: `${'a'.repeat(400)}${token}` })).redacted_snippet;
    expect(atEnd).toBe(`${'a'.repeat(179)}[REDACTED:github-pat]`);
    const atStart = parseTokenAllowReport(buildTokenAllowPayload({ ...base, context: `${token}${'b'.repeat(400)}` })).redacted_snippet;
    expect(atStart).toBe(`[REDACTED:github-pat]${'b'.repeat(179)}`);
  });

  it('redacts tokens with characters JSON escapes', () => {
    const quoted = 'se"cret\\value';
    const payload = buildTokenAllowPayload({ ...base, token: quoted, context: `x=${quoted};` });
    expect(payload).not.toContain(quoted);
    expect(payload).not.toContain(JSON.stringify(quoted).slice(1, -1));
    expect(parseTokenAllowReport(payload).redacted_snippet).toBe('x=[REDACTED:github-pat];');
  });

  it(`refuses tokens shorter than ${MIN_REDACTABLE_TOKEN_CHARS} characters without echoing them`, () => {
    const error = rejection(() => buildTokenAllowPayload({ ...base, token: 'abc1234', context: 'k=abc1234' }));
    expect(error.problems).toMatchObject([{ path: 'token' }]);
    expect(error.message).not.toContain('abc1234');
    expect(() => buildTokenAllowPayload({ ...base, token: 'abcd1234', context: 'k=abcd1234' })).not.toThrow();
  });

  it('refuses to build a payload the token would survive in', () => {
    const error = rejection(() => buildTokenAllowPayload({ ...base, host: 'leaky-token.example.com', token: 'leaky-token' }));
    expect(error.problems[0]?.rule).toBe('the token would still appear in the payload after redaction');
    expect(error.message).not.toContain('leaky-token');
  });

  it('validates the other fields', () => {
    expect(rejection(() => buildTokenAllowPayload({ ...base, method: 'post' })).problems.map((p) => p.path)).toEqual(['method']);
  });
});
