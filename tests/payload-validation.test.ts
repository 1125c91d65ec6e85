import { describe, expect, it } from 'vitest';
import {
  buildTokenAllowPayload,
  gitleaksReportFromGitleaksJson,
  MIN_REDACTABLE_TOKEN_CHARS,
  parseGitleaksReport,
  parseRoutesYaml,
  parseTokenAllowReport,
  PayloadError,
  renderRoutesYaml,
  TOKEN_ALLOW_MAX_CHARS,
  type TokenAllowInput,
} from '../src/kinds/payloads.js';
import { sha256 } from '../src/core/hash.js';

function rejection(run: () => unknown): PayloadError {
  try {
    run();
  } catch (error) {
    if (error instanceof PayloadError) return error;
    throw error;
  }
  throw new Error('expected a PayloadError, but the payload was accepted');
}

/** `line: path: rule` for each problem, the shape humans read. */
function messages(run: () => unknown): string[] {
  return rejection(run).problems.map((p) => p.message);
}

const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

describe('parseRoutesYaml', () => {
  it('accepts a full routes file and lowercases hosts', () => {
    const text = yaml(
      'routes:',
      '  - host: API.GitHub.com',
      '    path_allowlist: ["/repos/", "/user"]',
      '    auth:',
      '      scheme: bearer',
      '      token_ref: EGRESS_PROXY_TOKEN_1',
      '    dlp:',
      '      outbound_on_match: supervise',
      '  - host: "*.npmjs.org"',
      '  - host: pypi.org',
      '    dlp: {}',
    );
    expect(parseRoutesYaml(text)).toEqual({
      routes: [
        {
          host: 'api.github.com',
          path_allowlist: ['/repos/', '/user'],
          auth: { scheme: 'bearer', token_ref: 'EGRESS_PROXY_TOKEN_1' },
          dlp: { outbound_on_match: 'supervise' },
        },
        { host: '*.npmjs.org' },
        { host: 'pypi.org', dlp: {} },
      ],
    });
  });

  it('accepts an empty route list', () => {
    expect(parseRoutesYaml('routes: []\n')).toEqual({ routes: [] });
  });

  it('reports auth without token_ref at the auth line', () => {
    const text = yaml(
      'routes:',
      '  - host: api.github.com',
      '  - host: example.com',
      '    path_allowlist: ["/v1/"]',
      '    auth:',
      '      scheme: bearer',
    );
    const error = rejection(() => parseRoutesYaml(text));
    expect(error.problems).toEqual([
      {
        line: 5,
        path: 'routes[1].auth',
        rule: 'both scheme and token_ref are required',
        message: 'line 5: routes[1].auth: both scheme and token_ref are required',
      },
    ]);
  });

  it('reports auth without scheme the same way', () => {
    const text = yaml('routes:', '  - host: example.com', '    auth: {token_ref: EXAMPLE_TOKEN}');
    expect(messages(() => parseRoutesYaml(text))).toEqual(['line 3: routes[0].auth: both scheme and token_ref are required']);
  });

  it('rejects an unknown auth scheme and a token value in token_ref, each at its line', () => {
    const text = yaml(
      'routes:',
      '  - host: example.com',
      '    auth:',
      '      scheme: digest',
      '      token_ref: ghp_16C7e42F292c6912E7710c838347Ae178B4a',
    );
    const problems = rejection(() => parseRoutesYaml(text)).problems;
    expect(problems.map((p) => [p.line, p.path])).toEqual([
      [4, 'routes[0].auth.scheme'],
      [5, 'routes[0].auth.token_ref'],
    ]);
    expect(problems[0]?.rule).toContain('bearer, basic, token');
    expect(problems[1]?.rule).toContain('environment variable');
  });

  it.each(['https://api.github.com', 'api.github.com:443', 'api.github.com/repos', 'api_github.com', '*.', 'a.*.com', ''])(
    'rejects host %j',
    (host) => {
      const text = yaml('routes:', '  - host: ok.example.com', `  - host: "${host}"`);
      const [problem] = rejection(() => parseRoutesYaml(text)).problems;
      expect(problem).toMatchObject({ line: 3, path: 'routes[1].host' });
      expect(problem?.rule).toMatch(/bare hostname/);
    },
  );

  it.each([
    ['relative', '"repos/"'],
    ['with whitespace', '"/a b"'],
    ['with ..', '"/repos/../admin"'],
  ])('rejects a path_allowlist entry that is %s, at the entry line', (_what, entry) => {
    const text = yaml('routes:', '  - host: example.com', '    path_allowlist:', '      - /ok/', `      - ${entry}`);
    expect(rejection(() => parseRoutesYaml(text)).problems).toMatchObject([{ line: 5, path: 'routes[0].path_allowlist[1]' }]);
  });

  it('rejects an empty path_allowlist', () => {
    const text = yaml('routes:', '  - host: example.com', '    path_allowlist: []');
    expect(messages(() => parseRoutesYaml(text))).toEqual([
      'line 3: routes[0].path_allowlist: path_allowlist must not be empty; leave it out to allow every path',
    ]);
  });

  it('rejects an unknown dlp action', () => {
    const text = yaml('routes:', '  - host: example.com', '    dlp:', '      outbound_on_match: allow');
    expect(rejection(() => parseRoutesYaml(text)).problems).toMatchObject([
      { line: 4, path: 'routes[0].dlp.outbound_on_match', rule: 'outbound_on_match must be one of: block, redact, supervise' },
    ]);
  });

  it('rejects hosts that differ only in case, at the later one', () => {
    const text = yaml('routes:', '  - host: api.github.com', '  - host: example.com', '  - host: API.GITHUB.COM');
    expect(messages(() => parseRoutesYaml(text))).toEqual([
      'line 4: routes[2].host: duplicate host "api.github.com" (already routed by routes[0])',
    ]);
  });

  it('names unknown keys at the top level and inside routes, in line order', () => {
    const text = yaml('version: 2', 'routes:', '  - host: example.com', '    methods: [GET]', '    hosts: []', 'defaults: {}');
    expect(messages(() => parseRoutesYaml(text))).toEqual([
      'line 1: version: unknown key "version"',
      'line 4: routes[0].methods: unknown key "methods"',
      'line 5: routes[0].hosts: unknown key "hosts"',
      'line 6: defaults: unknown key "defaults"',
    ]);
  });

  it('reports a missing required key against the mapping that lacks it', () => {
    expect(messages(() => parseRoutesYaml(yaml('routes:', '  - host: a.com', '  - path_allowlist: ["/"]')))).toEqual([
      'line 3: routes[1]: missing required key "host"',
    ]);
    expect(messages(() => parseRoutesYaml('{}\n'))).toEqual(['line 1: (top level): missing required key "routes"']);
  });

  it('requires a mapping with a routes list at the top', () => {
    expect(rejection(() => parseRoutesYaml('- host: a.com\n')).problems[0]?.rule).toBe(
      'the top level must be a mapping with exactly the key "routes"',
    );
    expect(rejection(() => parseRoutesYaml('')).problems[0]?.rule).toBe('the top level must be a mapping with exactly the key "routes"');
    expect(messages(() => parseRoutesYaml('routes:\n'))).toEqual(['line 1: routes: routes must be a list of routes (it may be empty)']);
  });

  it('reports YAML syntax errors with their line', () => {
    const text = yaml('routes:', '  - host: a.com', '  - host: b.com', '    auth: scheme: bearer', '  - host: c.com');
    const problems = rejection(() => parseRoutesYaml(text)).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 4, path: '(document)' });
    expect(problems[0]?.rule).toMatch(/^YAML BLOCK_AS_IMPLICIT_KEY: /);
  });

  it('rejects more than one document', () => {
    const problems = rejection(() => parseRoutesYaml(yaml('routes: []', '---', 'routes: []'))).problems;
    expect(problems).toMatchObject([{ line: 2 }]);
    expect(problems[0]?.rule).toContain('only one YAML document is allowed');
  });

  it('rejects anchors and aliases at their lines', () => {
    const text = yaml(
      'routes:',
      '  - host: a.com',
      '    path_allowlist: &shared ["/v1/"]',
      '  - host: b.com',
      '    path_allowlist: *shared',
    );
    const problems = rejection(() => parseRoutesYaml(text)).problems;
    expect(problems.map((p) => p.line)).toEqual([3, 5]);
    expect(problems[0]?.rule).toContain('anchors (&name) and aliases (*name) are not allowed');
  });

  it('sums up every problem in a multi-line message that ends with what to do', () => {
    const text = yaml('routes:', '  - host: https://a.com', '    auth: {scheme: bearer}');
    const error = rejection(() => parseRoutesYaml(text));
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('2 problems in the egress routes file:');
    expect(lines[1]).toMatch(/^ {2}- line 2: routes\[0\]\.host: /);
    expect(lines[2]).toBe('  - line 3: routes[0].auth: both scheme and token_ref are required');
    expect(lines.at(-1)).toBe('Fix the routes file at the lines listed and submit it again.');
  });
});

describe('renderRoutesYaml', () => {
  it('writes fixed key order and round-trips through the parser', () => {
    const doc = parseRoutesYaml(
      yaml(
        'routes:',
        '  - dlp: {outbound_on_match: redact}',
        '    auth: {token_ref: GH_TOKEN, scheme: token}',
        '    path_allowlist: ["/repos/"]',
        '    host: API.github.com',
        '  - host: pypi.org',
      ),
    );
    const text = renderRoutesYaml(doc);
    expect(text).toBe(
      yaml(
        'routes:',
        '  - host: api.github.com',
        '    path_allowlist:',
        '      - /repos/',
        '    auth:',
        '      scheme: token',
        '      token_ref: GH_TOKEN',
        '    dlp:',
        '      outbound_on_match: redact',
        '  - host: pypi.org',
      ),
    );
    expect(parseRoutesYaml(text)).toEqual(doc);
  });

  it('never emits aliases for shared arrays', () => {
    const shared = ['/v1/'];
    const text = renderRoutesYaml({ routes: [{ host: 'a.com', path_allowlist: shared }, { host: 'b.com', path_allowlist: shared }] });
    expect(text).not.toMatch(/[&*]/);
    expect(parseRoutesYaml(text).routes).toHaveLength(2);
  });

  it('renders an empty list', () => {
    expect(renderRoutesYaml({ routes: [] })).toBe('routes: []\n');
  });
});

describe('sha256', () => {
  it('hashes the UTF-8 text', () => {
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256('\u00e9')).toBe('4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
  });
});

const COMMIT = 'a'.repeat(40);
const finding = {
  ref: 'refs/heads/main',
  file: 'config/dev.env',
  line: 3,
  rule: 'generic-api-key',
  commit: COMMIT,
  line_text: 'API_KEY=REDACTED # gitleaks:allow',
};

describe('parseGitleaksReport', () => {
  it('accepts a report with findings', () => {
    const sha256Commit = 'b'.repeat(64);
    const report = { findings: [finding, { ...finding, commit: sha256Commit, line: 9 }] };
    expect(parseGitleaksReport(JSON.stringify(report))).toEqual(report);
  });

  it.each([
    ['no findings', { findings: [] }, 'findings', 'a report needs at least one finding'],
    ['an abbreviated commit', { findings: [{ ...finding, commit: 'abc1234' }] }, 'findings[0].commit', /full lowercase SHA-1/],
    ['an uppercase commit', { findings: [{ ...finding, commit: 'A'.repeat(40) }] }, 'findings[0].commit', /full lowercase SHA-1/],
    ['line 0', { findings: [{ ...finding, line: 0 }] }, 'findings[0].line', 'line must be a positive integer'],
    ['a fractional line', { findings: [{ ...finding, line: 1.5 }] }, 'findings[0].line', 'line must be a positive integer'],
    ['an extra key', { findings: [{ ...finding, secret: 'x' }] }, 'findings[0].secret', 'unknown key "secret"'],
    ['a missing key', { findings: [{ ...finding, ref: undefined }] }, 'findings[0]', 'missing required key "ref"'],
    ['an empty rule', { findings: [{ ...finding, rule: '' }] }, 'findings[0].rule', 'rule must be a non-empty string'],
    ['an extra top-level key', { findings: [finding], scanned: 1 }, 'scanned', 'unknown key "scanned"'],
  ])('rejects %s', (_what, report, path, rule) => {
    const [problem, ...rest] = rejection(() => parseGitleaksReport(JSON.stringify(report))).problems;
    expect(rest).toEqual([]);
    expect(problem?.path).toBe(path);
    expect(problem?.line).toBeUndefined();
    if (typeof rule === 'string') expect(problem?.rule).toBe(rule);
    else expect(problem?.rule).toMatch(rule);
  });

  it('rejects text that is not JSON without quoting it back', () => {
    const error = rejection(() => parseGitleaksReport('{"findings": [ghp_secretsecret'));
    expect(error.problems).toMatchObject([{ path: '(document)', rule: 'not valid JSON' }]);
    expect(error.message).not.toContain('ghp_secretsecret');
  });
});

describe('gitleaksReportFromGitleaksJson', () => {
  const native = {
    RuleID: 'github-pat',
    Description: 'GitHub Personal Access Token',
    StartLine: 12,
    EndLine: 12,
    StartColumn: 9,
    EndColumn: 48,
    Match: 'token = "ghp_REDACTED"',
    Secret: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a',
    File: 'src/client.ts',
    SymlinkFile: '',
    Commit: 'c'.repeat(40),
    Entropy: 4.1,
    Author: 'Dev',
    Email: 'dev@example.com',
    Date: '2024-01-01T00:00:00Z',
    Message: 'add client',
    Tags: [],
    Fingerprint: `${'c'.repeat(40)}:src/client.ts:github-pat:12`,
  };

  it('converts findings, dropping the fields it does not carry (Secret among them)', () => {
    const report = gitleaksReportFromGitleaksJson([native, { ...native, Line: '  const token = "ghp_REDACTED";', StartLine: 40 }], 'refs/heads/feature');
    expect(report).toEqual({
      findings: [
        { ref: 'refs/heads/feature', file: 'src/client.ts', line: 12, rule: 'github-pat', commit: 'c'.repeat(40), line_text: 'token = "ghp_REDACTED"' },
        { ref: 'refs/heads/feature', file: 'src/client.ts', line: 40, rule: 'github-pat', commit: 'c'.repeat(40), line_text: '  const token = "ghp_REDACTED";' },
      ],
    });
    expect(JSON.stringify(report)).not.toContain(native.Secret);
    expect(parseGitleaksReport(JSON.stringify(report))).toEqual(report);
  });

  it.each([
    ['an object instead of the findings array', { findings: [] }, '(top level)', /--report-format json/],
    ['no findings', [], '(top level)', /no findings/],
    ['a directory scan without commits', [{ ...native, Commit: '' }], '[0].Commit', /SHA-1/],
    ['a finding without Line or Match', [{ ...native, Match: undefined }], '[0]', 'a finding needs Line or Match'],
    ['a finding without RuleID', [{ ...native, RuleID: undefined }], '[0]', 'missing required key "RuleID"'],
    ['a non-integer StartLine', [{ ...native, StartLine: '12' }], '[0].StartLine', /expected number/],
  ])('rejects %s', (_what, json, path, rule) => {
    const [problem] = rejection(() => gitleaksReportFromGitleaksJson(json, 'refs/heads/main')).problems;
    expect(problem?.path).toBe(path);
    if (typeof rule === 'string') expect(problem?.rule).toBe(rule);
    else expect(problem?.rule).toMatch(rule);
  });

  it('rejects an empty ref', () => {
    expect(rejection(() => gitleaksReportFromGitleaksJson([native], '')).problems).toMatchObject([
      { path: 'findings[0].ref', rule: 'ref must be a non-empty string' },
    ]);
  });
});

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
