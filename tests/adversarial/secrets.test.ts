// Threat: a token the DLP caught gets stored in a form a reader can turn back into it. The report
// redacted only the raw token, so the same token in a Basic auth header (base64), percent-encoded,
// as hex or wrapped across two lines landed in the database, the append-only audit diff, backups
// and exports. Each form is driven through the real token-allow path, answered by the operator's
// CLI, backed up and exported; then every file is searched for every form of the token.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSuperviseError } from '../../src/core/errors.js';
import { buildTokenAllowPayload, parseTokenAllowReport, TOKEN_ALLOW_MAX_CHARS, type TokenAllowInput } from '../../src/kinds/token-report.js';
import { proposeTokenAllow } from '../../sidecar/token-allow.js';
import { assertBuilt, runCli } from '../fixtures/cli-support.js';
import { hostDatabase, tempDir, type HostFixture } from '../fixtures/sidecar-harness.js';
import { encodedCorpus } from '../fixtures/token-corpus.js';

const SLUG = 'acme';
const TOKEN = 'ghp_R8x2Kq9ZtY4mW7vB1nC3dF6hJ0aL5sE';
/** Its UTF-8 has bytes whose base64 holds `+` and `/`, so the URL-safe alphabet differs. */
const URLISH_TOKEN = 'sk-live~>>?>>?ZmY2hJ0aL5sE9';
const MARKER = '[REDACTED:github-pat]';

/** Every way the token can be read back, computed here independently of the code under test. */
function forms(token: string): string[] {
  const bytes = Buffer.from(token, 'utf8');
  const found = [token, bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
  found.push([...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join(''));
  found.push([...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
  for (let offset = 0; offset < 3; offset++) {
    // The characters that encode only the token's bytes when it starts `offset` bytes into a value.
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64').replace(/=+$/, '');
    const core = encoded.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + bytes.length)) / 6));
    found.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return found;
}

function percentDecoded(text: string): string {
  return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('latin1'));
}

/** The text with line breaks, indentation, continuations and JSON/CSV escapes of them removed. */
function joined(text: string): string {
  return text.replace(/\\[nrt]|[\s\\"]/g, '');
}

/** Which forms of `token` can be read out of `file` (raw bytes, decoded, or re-joined). */
function leaks(file: string, token: string): string[] {
  const raw = fs.readFileSync(file).toString('latin1');
  const views = [raw, joined(raw), percentDecoded(raw), joined(percentDecoded(raw))];
  return forms(token).filter((form) => views.some((view) => view.includes(form)));
}

let fixture: HostFixture;
let home: string;
let savedHome: string | undefined;

beforeAll(() => assertBuilt());

beforeEach(async () => {
  savedHome = process.env.HOME;
  home = tempDir('secrets-home-');
  process.env.HOME = home;
  fixture = await hostDatabase();
});

afterEach(async () => {
  if (fixture.host.db.open) await fixture.host.close();
  process.env.HOME = savedHome;
});

const input = (token: string, context: string, overrides: Partial<TokenAllowInput> = {}): TokenAllowInput => ({
  host: 'api.example.com',
  method: 'POST',
  path: '/v1/upload',
  detector: 'github-pat',
  token,
  context,
  ...overrides,
});

async function cli(...args: string[]) {
  return runCli(['--db', fixture.dbPath, ...args], { home });
}

describe('a caught token is stored in no form a reader can turn back into it', () => {
  it.each([
    ['ghp_…', TOKEN],
    ['a token whose base64 differs in the URL-safe alphabet', URLISH_TOKEN],
  ])('%s: database, WAL, backup and exports hold none of its forms after proposing, answering, backing up and exporting', async (_name, token) => {
    const queue = fixture.host.queue.forSlug(SLUG);
    const corpus: Array<[string, TokenAllowInput]> = encodedCorpus(token).map(([name, context]) => [name, input(token, `POST /v1/upload HTTP/1.1\n${context}\nX-After: 1`)]);
    const bytes = Buffer.from(token);
    corpus.push(['percent-encoded in the path', input(token, 'body', { path: `/v1/upload?access_token=${[...bytes].map((b) => `%${b.toString(16).toUpperCase()}`).join('')}` })]);
    corpus.push(['base64url in the path', input(token, 'body', { path: `/cb?state=${Buffer.from(`{"t":"${token}"}`).toString('base64url')}` })]);
    corpus.push(['hex in the path', input(token, 'body', { path: `/sig/${bytes.toString('hex')}` })]);

    let proposed = 0;
    for (const [name, request] of corpus) {
      try {
        const result = await proposeTokenAllow(queue, request, { timeoutMs: 0, justification: `caught: ${name}` });
        expect(result.status, name).toBe('pending');
        proposed++;
      } catch (error) {
        // Refusing (the caller then blocks the request) is safe; anything else is a bug.
        if (!isSuperviseError(error) || error.code !== 'invalid-payload') throw error;
      }
    }
    // Every form is redacted and asked about, not merely refused.
    expect(proposed).toBe(corpus.length);

    const pending = fixture.host.queue.listPendingProposals({ slug: SLUG });
    expect(pending).toHaveLength(proposed);
    for (const [i, proposal] of pending.entries()) {
      expect(proposal.payload).toContain('[REDACTED');
      // One answer through the operator's CLI; the rest through the same store call, which is quicker.
      if (i === 0) {
        const answered = await cli('supervise', 'reject', proposal.id, '--reason', 'not this token');
        expect(answered.code, answered.stderr).toBe(0);
      } else {
        await fixture.host.queue.writeResponse(SLUG, proposal.id, { status: 'rejected', notes: 'not this token', responder: 'operator' });
      }
    }
    expect(fixture.host.queue.listPendingProposals({ slug: SLUG })).toEqual([]);

    const backup = path.join(home, 'backup.db');
    const jsonl = path.join(home, 'audit.jsonl');
    const csv = path.join(home, 'audit.csv');
    expect((await cli('db', 'backup', backup)).code).toBe(0);
    expect((await cli('audit', 'export', '--format', 'jsonl', '--output', jsonl)).code).toBe(0);
    expect((await cli('audit', 'export', '--format', 'csv', '--output', csv)).code).toBe(0);
    expect(fs.readFileSync(jsonl, 'utf8')).toContain('REDACTED');

    const files = [fixture.dbPath, `${fixture.dbPath}-wal`, backup, jsonl, csv].filter((file) => fs.existsSync(file));
    expect(files).toContain(`${fixture.dbPath}-wal`);
    for (const file of files) expect(leaks(file, token), path.basename(file)).toEqual([]);
    await fixture.host.close();
    expect(leaks(fixture.dbPath, token)).toEqual([]);
  });
});

describe('the token-allow call stores nothing else derived from the token', () => {
  it('refuses a justification that carries the token in any form, writing nothing', async () => {
    const queue = fixture.host.queue.forSlug(SLUG);
    const basic = Buffer.from(`alice:${TOKEN}`).toString('base64');
    for (const justification of [`token was ${TOKEN}`, `header Basic ${basic}`]) {
      const error = await proposeTokenAllow(queue, input(TOKEN, 'x'), { timeoutMs: 0, justification }).catch((caught: unknown) => caught);
      expect(isSuperviseError(error) && error.code).toBe('invalid-payload');
      expect((error as Error).message).not.toContain(TOKEN);
    }
    expect(fixture.host.db.prepare('SELECT count(*) FROM proposals').pluck().get()).toBe(0);
  });

  it('the idempotency key is a keyed hash: neither the token nor an unkeyed hash of it', async () => {
    const result = await proposeTokenAllow(fixture.host.queue.forSlug(SLUG), input(TOKEN, `t=${TOKEN}`), { timeoutMs: 0 });
    const key = fixture.host.queue.readProposal(SLUG, result.proposalId)?.idempotencyKey ?? '';
    expect(key).toMatch(/^egress:token-allow:[0-9a-f]{64}/);
    const { createHash } = await import('node:crypto');
    expect(key).not.toContain(createHash('sha256').update(TOKEN).digest('hex'));
    expect(leaks(fixture.dbPath, TOKEN)).toEqual([]);
  });
});

describe('buildTokenAllowPayload redacts every form before it windows the snippet', () => {
  it.each(encodedCorpus(TOKEN))('%s', (_name, context) => {
    const payload = buildTokenAllowPayload(input(TOKEN, `${'a '.repeat(300)}${context}${' b'.repeat(300)}`));
    const report = parseTokenAllowReport(payload);
    // The window is centred on the redaction, not on text before it.
    expect(report.redacted_snippet).toContain(MARKER);
    expect(report.redacted_snippet.length).toBeLessThanOrEqual(TOKEN_ALLOW_MAX_CHARS.redacted_snippet);
    for (const form of forms(TOKEN)) expect(joined(percentDecoded(payload))).not.toContain(form);
  });

  it('redacts the path too', () => {
    const encoded = [...Buffer.from(TOKEN)].map((b) => `%${b.toString(16)}`).join('');
    const report = parseTokenAllowReport(buildTokenAllowPayload(input(TOKEN, 'x', { path: `/v1/upload?t=${encoded}&u=1` })));
    expect(report.path).toBe(`/v1/upload?t=${MARKER}&u=1`);
  });

  it('refuses, rather than store, a form it cannot redact (percent-encoded twice)', () => {
    const twice = [...Buffer.from(TOKEN)].map((b) => `%25${b.toString(16)}`).join('');
    let error: unknown;
    try {
      buildTokenAllowPayload(input(TOKEN, `q=${twice}`));
    } catch (caught) {
      error = caught;
    }
    expect(isSuperviseError(error) && error.code).toBe('invalid-payload');
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('stays quick on a hostile context: a long base64-looking run', () => {
    const context = `Authorization: Basic ${'A'.repeat(200_000)}`;
    const payload = buildTokenAllowPayload(input(TOKEN, `${context} ${TOKEN}`));
    expect(parseTokenAllowReport(payload).redacted_snippet).toContain(MARKER);
  });
});
