/**
 * Kinds a launcher registers are recorded in the database, sealed by the host, so the operator's
 * CLI (another process, which never ran the launcher) shows, validates and answers them like the
 * built-ins. Found on the earlier main: `supervise --once` listed such a proposal and `supervise
 * approve ID` exited 3 with "unknown proposal kind".
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sha256 } from '../src/core/hash.js';
import { openHostDatabase, openSidecarDatabase, type SuperviseDatabase } from '../src/database.js';
import type { KindDeclaration } from '../src/kinds/declared-kind.js';
import { KindRegistry } from '../src/kinds/registry.js';
import { renderDetail } from '../src/cli/supervise/detail.js';
import { colorsFor } from '../src/cli/common.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';
import { assertBuilt, killCliChildren, runCli } from './fixtures/cli-support.js';
import { expectFailure, rowCounts, tempDir } from './fixtures/storage-support.js';

const SLUG = 'acme';

const deploy = {
  name: 'deploy-approve',
  component: 'deploy',
  target: 'operator',
  modifiable: true,
  reasonRequiredToApprove: false,
  format: 'json',
  schema: z.strictObject({ service: z.string().regex(/^[a-z]+$/), replicas: z.number().int().min(1).max(10) }),
  description: 'a deploy the launcher wants a human to confirm',
} satisfies KindDeclaration;

const rotate = {
  name: 'secret-rotate',
  component: 'vault',
  target: 'operator',
  modifiable: false,
  reasonRequiredToApprove: true,
  format: 'yaml',
  schema: { type: 'object', properties: { secret: { type: 'string', minLength: 1 } }, required: ['secret'], additionalProperties: false },
  description: 'rotate a secret the bottle uses',
} satisfies KindDeclaration;

let dir: string;
let dbFile: string;
let savedHome: string | undefined;
let launcher: SuperviseDatabase;

beforeAll(() => assertBuilt());

beforeEach(async () => {
  savedHome = process.env.HOME;
  dir = tempDir('kind-records');
  // The launcher (this process), the CLI and the bottle share one HOME, so one host key.
  process.env.HOME = dir;
  dbFile = path.join(dir, 'bot-bottle.db');
  launcher = await openHostDatabase({ path: dbFile, watch: false, kinds: KindRegistry.withBuiltins().register(deploy).register(rotate) });
});

afterEach(async () => {
  await killCliChildren();
  await launcher.close();
  process.env.HOME = savedHome;
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) => runCli(['--db', dbFile, ...args], { home: dir, env: { USER: 'tester', NO_COLOR: '1' }, ...(input === undefined ? {} : { input }) });
const kindRows = () => launcher.db.prepare('SELECT name, version, definition, seal FROM kinds ORDER BY name, version').all() as Array<{ name: string; version: number; definition: string; seal: string }>;

describe('recording', () => {
  it('opening the host database with a registry records each launcher kind once, sealed by the host; a changed kind is a new version', async () => {
    expect(kindRows().map((r) => [r.name, r.version, r.seal.slice(0, 4)])).toEqual([
      ['deploy-approve', 1, 'sig:'],
      ['secret-rotate', 1, 'sig:'],
    ]);
    const definition = JSON.parse(kindRows()[0]?.definition ?? '') as Record<string, unknown>;
    expect(definition).toMatchObject({ name: 'deploy-approve', component: 'deploy', target: 'operator', modifiable: true, reasonRequiredToApprove: false, format: 'json' });
    expect(definition.schema).toMatchObject({ type: 'object', required: ['service', 'replicas'], additionalProperties: false });

    // The same declaration again, from another launcher process's open: nothing new.
    const again = await openHostDatabase({ path: dbFile, watch: false, kinds: KindRegistry.withBuiltins().register(deploy) });
    await again.close();
    expect(kindRows()).toHaveLength(2);

    // The launcher's next release narrows the kind: version 2 is the rule from now on, version 1 stays as history.
    const narrowed = { ...deploy, modifiable: false, schema: z.strictObject({ service: z.enum(['api']), replicas: z.literal(1) }) };
    const next = await openHostDatabase({ path: dbFile, watch: false, kinds: KindRegistry.withBuiltins().register(narrowed) });
    await next.close();
    expect(kindRows().filter((r) => r.name === 'deploy-approve').map((r) => r.version)).toEqual([1, 2]);
    const operator = await openHostDatabase({ path: dbFile, watch: false, mustExist: true });
    try {
      expect(operator.queue.kinds.get('deploy-approve').modifiable).toBe(false);
      await expectFailure(() => operator.queue.kinds.validate('deploy-approve', '{"service":"web","replicas":1}'), 'invalid-payload', /service: must be equal to constant|service: must be equal to one of the allowed values/);
    } finally {
      await operator.close();
    }
  });

  it('a kind registered after opening is recorded in the same transaction as its first proposal', async () => {
    launcher.queue.kinds.register({ ...rotate, name: 'late-kind' });
    expect(kindRows().map((r) => r.name)).not.toContain('late-kind');
    await launcher.queue.writeProposal(SLUG, { kind: 'late-kind', origin: 'host', payload: 'secret: db\n' });
    expect(kindRows().map((r) => r.name)).toContain('late-kind');
  });

  it('a bottle proposes a recorded kind through its sidecar, held to the recorded schema', async () => {
    const sidecar = openSidecarDatabase(SLUG, { path: dbFile, watch: false, keysDir: bottleKeysDir(SLUG) });
    try {
      const before = rowCounts(launcher.db);
      await expectFailure(() => sidecar.queue.writeProposal({ kind: 'deploy-approve', origin: 'agent', payload: '{"service":"API","replicas":0,"extra":1}' }), 'invalid-payload', /3 problems in the deploy-approve payload \(json\)/);
      expect(rowCounts(launcher.db)).toEqual(before);
      const proposal = await sidecar.queue.writeProposal({ kind: 'deploy-approve', origin: 'agent', payload: '{"service":"api","replicas":2}' });
      expect(launcher.queue.proposalSeal(proposal)).toBe('bottle');
    } finally {
      await sidecar.close();
    }
  });

  it('payload problems name each path, and each line for YAML', async () => {
    const error = await expectFailure(() => launcher.queue.kinds.validate('secret-rotate', 'secret: ""\nttl: 3\n'), 'invalid-payload', /2 problems/);
    expect(error.message).toContain('line 1: secret: must NOT have fewer than 1 characters');
    expect(error.message).toContain('line 2: ttl: unknown key "ttl"');
    const json = await expectFailure(() => launcher.queue.kinds.validate('deploy-approve', '{"replicas":1}'), 'invalid-payload', /1 problem/);
    expect(json.message).toContain('(top level): missing required key "service"');
    await expectFailure(() => launcher.queue.kinds.validate('deploy-approve', '{not json'), 'invalid-payload', /\(document\): not valid JSON/);
  });

  it('the operator’s detail view shows the recorded kind’s description, its rules and its report', async () => {
    const proposal = await launcher.queue.writeProposal(SLUG, { kind: 'secret-rotate', origin: 'host', payload: 'secret: db\n' });
    const operator = await openHostDatabase({ path: dbFile, watch: false, mustExist: true });
    try {
      const text = renderDetail(proposal, operator.queue.kinds, colorsFor({ isTTY: false } as NodeJS.WriteStream), Date.now()).join('\n');
      expect(text).toContain('rotate a secret the bottle uses');
      expect(text).toContain('This kind cannot be modified; approving it needs a reason.');
      expect(text).toMatch(/Report\n {2}secret: db/);
    } finally {
      await operator.close();
    }
  });
});

describe('the operator’s CLI answers a recorded kind like a built-in', () => {
  it('--once --json shows its rules; approve, modify (with validation feedback) and reject work', async () => {
    const payload = '{"service":"api","replicas":2}';
    const approveMe = await launcher.queue.writeProposal(SLUG, { kind: 'deploy-approve', origin: 'host', payload, justification: 'ship it' });
    const modifyMe = await launcher.queue.writeProposal(SLUG, { kind: 'deploy-approve', origin: 'host', payload: '{"service":"web","replicas":3}' });
    const rejectMe = await launcher.queue.writeProposal(SLUG, { kind: 'secret-rotate', origin: 'host', payload: 'secret: db\n' });

    const listed = await cli(['supervise', '--once', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const pending = JSON.parse(listed.stdout) as Array<Record<string, unknown>>;
    expect(pending.map((p) => [p.kind, p.modifiable, p.reasonRequiredToApprove, p.kindProblem])).toEqual([
      ['deploy-approve', true, false, null],
      ['deploy-approve', true, false, null],
      ['secret-rotate', false, true, null],
    ]);

    const approved = await cli(['supervise', 'approve', approveMe.id, '--expect-sha256', sha256(payload)]);
    expect(approved, approved.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^approved .* \(deploy-approve, bottle "acme"\) as operator:tester\.\n$/) });

    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{"service":"web","replicas":99}');
    const before = rowCounts(launcher.db);
    const refused = await cli(['supervise', 'modify', modifyMe.id, '--file', bad, '--expect-sha256', sha256(modifyMe.payload)]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/the modified file is not a valid deploy-approve payload: 1 problem in the deploy-approve payload \(json\):\n {2}- replicas: must be <= 10/);
    expect(rowCounts(launcher.db)).toEqual(before);

    const good = path.join(dir, 'good.json');
    fs.writeFileSync(good, '{"service":"web","replicas":1}');
    const modified = await cli(['supervise', 'modify', modifyMe.id, '--file', good, '--expect-sha256', sha256(modifyMe.payload), '--reason', 'one is enough']);
    expect(modified.code, modified.stderr).toBe(0);

    const noReason = await cli(['supervise', 'approve', rejectMe.id, '--expect-sha256', sha256(rejectMe.payload)]);
    expect(noReason).toMatchObject({ code: 3, stderr: expect.stringContaining('approving a secret-rotate proposal needs a reason') });
    const cannotModify = await cli(['supervise', 'modify', rejectMe.id, '--file', good, '--expect-sha256', sha256(rejectMe.payload)]);
    expect(cannotModify).toMatchObject({ code: 3, stderr: expect.stringContaining('secret-rotate proposals cannot be modified') });
    const rejected = await cli(['supervise', 'reject', rejectMe.id, '--reason', 'not now']);
    expect(rejected.code, rejected.stderr).toBe(0);

    const answers = launcher.db.prepare('SELECT p.kind, r.status, r.final_payload FROM responses r JOIN proposals p ON p.id = r.proposal_id ORDER BY p.seq').all();
    expect(answers).toEqual([
      { kind: 'deploy-approve', status: 'approved', final_payload: null },
      { kind: 'deploy-approve', status: 'modified', final_payload: '{"service":"web","replicas":1}' },
      { kind: 'secret-rotate', status: 'rejected', final_payload: null },
    ]);
    const detail = JSON.parse(launcher.db.prepare(`SELECT detail FROM audit_entries WHERE proposal_id = ? AND action = 'proposal-decision'`).pluck().get(approveMe.id) as string) as Record<string, unknown>;
    expect(detail.kindDefinitionSha256).toBe(sha256(kindRows()[0]?.definition ?? ''));
    expect((await cli(['audit', 'verify'])).code).toBe(0);
  });
});

describe('declarations the launcher cannot record', () => {
  const refusedDeclarations: Array<[string, Partial<KindDeclaration>, RegExp]> = [
    ['a built-in name', { name: 'egress-allow' }, /kind "egress-allow" is already registered/],
    ['a bad name', { name: 'Deploy!' }, /kind name "Deploy!" is not valid/],
    ['a component the audit log refuses', { component: 'Deploy Team' }, /component must be 1–48 lowercase letters/],
    ['an unknown format', { format: 'xml' as 'json' }, /format must be one of: json, yaml, text/],
    ['a refinement JSON Schema cannot say', { schema: z.string().refine((s) => s.length > 2) }, /a refinement \(\.refine, \.superRefine, \.check\) cannot be expressed in JSON Schema/],
    ['a transform', { schema: z.string().transform((s) => s.length) }, /Transforms cannot be represented in JSON Schema/],
    ['a recursive zod schema', { schema: (() => { const node: z.ZodType = z.object({ get children() { return z.array(node); } }); return node; })() }, /Cycle detected/],
    ['a JSON Schema with a reference', { schema: { $ref: '#' } }, /uses "\$ref"; a recorded kind's schema must stand alone/],
    ['a schema nested too deeply', { schema: Array.from({ length: 40 }).reduce<Record<string, unknown>>((inner) => ({ type: 'array', items: inner }), { type: 'string' }) }, /nests deeper than 32 levels/],
    ['a huge schema', { schema: { type: 'string', enum: Array.from({ length: 10_000 }, (_, i) => `value-${i}`) } }, /the definition is \d+ bytes as JSON, over the limit of 65536/],
    ['another draft', { schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'string' } }, /\$schema must be https:\/\/json-schema\.org\/draft\/2020-12\/schema/],
    ['an invalid JSON Schema', { schema: { type: 'strng' } }, /its schema is not valid JSON Schema 2020-12/],
    ['a long description', { description: 'x'.repeat(501) }, /description must be at most 500 characters/],
  ];
  it.each(refusedDeclarations)('refuses %s, naming the problem', async (_label, change, message) => {
    await expectFailure(() => KindRegistry.withBuiltins().register({ ...deploy, ...change } as KindDeclaration), 'invalid-input', message);
  });
});
