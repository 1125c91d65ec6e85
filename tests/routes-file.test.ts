import { describe, expect, it } from 'vitest';
import { parseRoutesYaml, renderRoutesYaml } from '../src/kinds/routes-file.js';
import { messages, rejection } from './fixtures/payload-rejection.js';

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
