// The sidecar's pure parts: its environment, the reload command's argv, and how a route table from
// egress is reduced to the routes-file shape without ever carrying a token value.
import { describe, expect, it } from 'vitest';
import { SuperviseError } from '../src/core/errors.js';
import { parseReloadCommand, readConfig } from '../sidecar/config.js';
import { sanitizeRouteTable } from '../sidecar/egress-routes.js';

describe('readConfig', () => {
  it('reads the slug and the defaults', () => {
    expect(readConfig({ SUPERVISE_BOTTLE_SLUG: 'acme' })).toEqual({
      slug: 'acme',
      responseTimeoutMs: 30_000,
      egressUrl: undefined,
      routesFile: undefined,
      reloadCommand: undefined,
      flood: { maxPending: 20, perMinute: 30 },
      allowedHosts: ['supervise', 'localhost', '127.0.0.1', '[::1]'],
      mcpToken: undefined,
      listenHost: '0.0.0.0',
    });
  });

  it('reads the quota, the names, the bearer token and the listen address', () => {
    const token = 'f'.repeat(64);
    expect(
      readConfig({
        SUPERVISE_BOTTLE_SLUG: 'acme',
        SUPERVISE_MAX_PENDING: '5',
        SUPERVISE_PROPOSALS_PER_MINUTE: '12',
        SUPERVISE_ALLOWED_HOSTS: 'Supervise, sidecar.internal,[::1]',
        SUPERVISE_MCP_TOKEN: token,
        SUPERVISE_LISTEN_HOST: '::',
      }),
    ).toMatchObject({ flood: { maxPending: 5, perMinute: 12 }, allowedHosts: ['supervise', 'sidecar.internal', '[::1]'], mcpToken: token, listenHost: '::' });
  });

  it('reads every setting', () => {
    const config = readConfig({
      SUPERVISE_BOTTLE_SLUG: 'acme',
      SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '2.5',
      SUPERVISE_EGRESS_URL: 'http://egress:8080/routes',
      SUPERVISE_ROUTES_FILE: '/etc/egress/routes.yaml',
      SUPERVISE_RELOAD_COMMAND: 'kill -HUP 1',
    });
    expect(config).toMatchObject({ responseTimeoutMs: 2500, routesFile: '/etc/egress/routes.yaml', reloadCommand: ['kill', '-HUP', '1'] });
    expect(config.egressUrl?.href).toBe('http://egress:8080/routes');
  });

  it.each([
    [{}, /SUPERVISE_BOTTLE_SLUG is not set/],
    [{ SUPERVISE_BOTTLE_SLUG: 'a/b' }, /path separator/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '-1' }, /SUPERVISE_RESPONSE_TIMEOUT_SECONDS/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_RESPONSE_TIMEOUT_SECONDS: '7200' }, /from 0 to 3600/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_EGRESS_URL: 'ftp://egress/routes' }, /http/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_EGRESS_URL: 'http://user:pw@egress/routes' }, /credentials/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_ROUTES_FILE: 'relative.yaml' }, /absolute/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_MAX_PENDING: '0' }, /SUPERVISE_MAX_PENDING="0" is not valid: give a whole number from 1 to 10000 \(default 20\)/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_MAX_PENDING: '2.5' }, /SUPERVISE_MAX_PENDING/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_PROPOSALS_PER_MINUTE: '20000' }, /SUPERVISE_PROPOSALS_PER_MINUTE="20000" .* \(default 30\)/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_ALLOWED_HOSTS: 'supervise:9100' }, /without ports/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_ALLOWED_HOSTS: 'http://supervise' }, /not a host name/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_ALLOWED_HOSTS: ' , ' }, /names no host/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_MCP_TOKEN: 'short' }, /at least 32 characters/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_MCP_TOKEN: `${'a'.repeat(40)} b` }, /SUPERVISE_MCP_TOKEN is not valid/],
    [{ SUPERVISE_BOTTLE_SLUG: 'acme', SUPERVISE_LISTEN_HOST: 'supervise' }, /not an IP address/],
  ])('refuses %j', (env, message) => {
    expect(() => readConfig(env)).toThrow(SuperviseError);
    expect(() => readConfig(env)).toThrow(expect.objectContaining({ code: 'config', message: expect.stringMatching(message) }));
  });
});

describe('parseReloadCommand', () => {
  it('takes a JSON array verbatim and splits a plain line on whitespace', () => {
    expect(parseReloadCommand('["sh", "-c", "kill -HUP $(cat /run/egress.pid)"]')).toEqual(['sh', '-c', 'kill -HUP $(cat /run/egress.pid)']);
    expect(parseReloadCommand('  /usr/bin/pkill   -HUP  egress ')).toEqual(['/usr/bin/pkill', '-HUP', 'egress']);
  });

  it.each([
    ['kill -HUP $(cat pid)', /without a shell/],
    ['reload && echo ok', /without a shell/],
    ["reload 'quoted arg'", /without a shell/],
    ['[not json', /not a JSON array/],
    ['[1, 2]', /array of strings/],
    ['[]', /empty/],
  ])('refuses %j', (raw, message) => {
    expect(() => parseReloadCommand(raw)).toThrow(expect.objectContaining({ code: 'config', message: expect.stringMatching(message) }));
  });
});

describe('sanitizeRouteTable', () => {
  it('maps the proxy’s flat shape to the routes file and drops every unknown field', () => {
    const doc = sanitizeRouteTable([
      { host: 'API.GitHub.com', path_allowlist: ['/repos/', 42], auth_scheme: 'Bearer', token_env: 'GH_TOKEN', token: 'ghp_secret', extra: { password: 'x' } },
      { host: 'pypi.org', outbound_on_match: 'redact' },
    ]);
    expect(doc).toEqual({
      routes: [
        { host: 'api.github.com', path_allowlist: ['/repos/'], auth: { scheme: 'bearer', token_ref: 'GH_TOKEN' } },
        { host: 'pypi.org', dlp: { outbound_on_match: 'redact' } },
      ],
    });
  });

  it('drops an auth whose token_ref is not a variable name (it could be the token itself)', () => {
    const doc = sanitizeRouteTable({ routes: [{ host: 'a.example.com', auth: { scheme: 'token', token_ref: 'ghp_live-token-value' } }] });
    expect(doc.routes[0]).toEqual({ host: 'a.example.com' });
    expect(JSON.stringify(doc)).not.toContain('ghp_');
  });

  it('refuses what is not a route table', () => {
    expect(() => sanitizeRouteTable({ rules: [] })).toThrow(/expected/);
    expect(() => sanitizeRouteTable([{ path_allowlist: ['/'] }])).toThrow(/no host/);
    expect(() => sanitizeRouteTable([{ host: 'https://bad/' }])).toThrow(/bare hostname/);
  });
});
