import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { MAX_PAYLOAD_BYTES } from '../src/core/limits.js';
import type { Proposal } from '../src/queue/proposal.js';
import { assertBuilt, killCliChildren, runCli, runCliOnTerminal, type CliRun } from './fixtures/cli-support.js';
import { ROUTES_YAML, routesFor, tempDir } from './fixtures/storage-support.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let home: string;
let dbFile: string;
let database: SuperviseDatabase;

const propose = (args: string[], input?: string): Promise<CliRun> => runCli(['--db', dbFile, 'propose', ...args], { home, ...(input !== undefined ? { input } : {}) });

function proposals(): Proposal[] {
  const db = new Database(dbFile, { readonly: true });
  try {
    return db.prepare('SELECT id, slug, kind, origin, target, state, justification, current_file AS currentFile FROM proposals ORDER BY seq').all() as Proposal[];
  } finally {
    db.close();
  }
}

/** Polls until the CLI's proposal is in the queue (the CLI prints its id only when it is done). */
async function pendingFor(slug: string): Promise<Proposal> {
  for (;;) {
    const [pending] = database.queue.listPendingProposals({ slug, target: 'operator' }).concat(database.queue.listPendingProposals({ slug, target: 'sidecar' }));
    if (pending) return pending;
    await sleep(20);
  }
}

beforeAll(assertBuilt);
beforeEach(async () => {
  home = tempDir('cli-propose');
  dbFile = path.join(home, 'bot-bottle.db');
  // The CLI runs with HOME=home, so the test signs and checks with the same host keys it uses.
  database = await openHostDatabase({ path: dbFile, watch: false, keysDir: path.join(home, '.bot-bottle', 'keys') });
});
afterEach(async () => {
  await killCliChildren();
  await database.close();
});

describe('propose: enqueue', () => {
  it('enqueues and exits 2 with the id when not waiting; --json says the same', async () => {
    const payload = path.join(home, 'routes.yaml');
    const current = path.join(home, 'current.yaml');
    fs.writeFileSync(payload, routesFor('pypi.org'));
    fs.writeFileSync(current, ROUTES_YAML);
    const run = await propose(['--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', payload, '--current-file', current, '--justification', 'pip needs it']);
    expect(run.code, run.stderr).toBe(2);
    const id = run.stdout.trim();
    expect(id).toMatch(UUID);
    expect(run.stderr).toMatch(new RegExp(`Proposal ${id} \\(egress-allow, bottle "acme"\\) is pending\\. Wait again with: bot-bottle propose --bottle acme --resume ${id}`));
    expect(proposals()).toEqual([{ id, slug: 'acme', kind: 'egress-allow', origin: 'host', target: 'operator', state: 'pending', justification: 'pip needs it', currentFile: ROUTES_YAML }]);

    const viaStdin = await propose(['--bottle', 'acme', '--kind', 'egress-routes-apply', '--payload-stdin', '--json'], ROUTES_YAML);
    expect(viaStdin.code).toBe(2);
    expect(JSON.parse(viaStdin.stdout)).toMatchObject({ status: 'pending', slug: 'acme', kind: 'egress-routes-apply', target: 'sidecar', proposalId: expect.stringMatching(UUID) });
  });

  it('returns the first proposal again for a repeated idempotency key', async () => {
    const args = ['--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin', '--idempotency-key', 'launch-42'];
    const first = await propose(args, ROUTES_YAML);
    const second = await propose(args, ROUTES_YAML);
    expect(second.stdout).toBe(first.stdout);
    expect(proposals()).toHaveLength(1);
  });
});

describe('propose: wait', () => {
  it('waits for the operator: approved exits 0 with the notes, and the waiter archives', async () => {
    const run = propose(['--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin', '--wait', '60'], ROUTES_YAML);
    const pending = await pendingFor('acme');
    await database.queue.writeResponse('acme', pending.id, { status: 'approved', responder: 'operator', notes: 'go ahead' });
    const done = await run;
    expect(done).toMatchObject({ code: 0, stdout: 'go ahead\n' });
    expect(done.stderr).toMatch(/was approved by operator: go ahead/);
    expect(proposals()[0]?.state).toBe('archived');
  });

  it('rejected exits 1; modified exits 0 and writes the final file', async () => {
    const rejected = propose(['--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin', '--wait', '60', '--json'], ROUTES_YAML);
    await database.queue.writeResponse('acme', (await pendingFor('acme')).id, { status: 'rejected', responder: 'operator', notes: 'no' });
    const no = await rejected;
    expect(no.code).toBe(1);
    expect(JSON.parse(no.stdout)).toMatchObject({ status: 'rejected', notes: 'no', responder: 'operator' });

    const finalFile = path.join(home, 'final.yaml');
    const modified = propose(['--bottle', 'zeta', '--kind', 'egress-allow', '--payload-stdin', '--wait', '60', '--final-file', finalFile], ROUTES_YAML);
    await database.queue.writeResponse('zeta', (await pendingFor('zeta')).id, { status: 'modified', responder: 'operator', notes: 'narrowed', finalPayload: routesFor('api.github.com') });
    const changed = await modified;
    expect(changed.code).toBe(0);
    expect(fs.readFileSync(finalFile, 'utf8')).toBe(routesFor('api.github.com'));
  });

  it('a downward proposal is answered by the sidecar side the same way', async () => {
    const run = propose(['--bottle', 'acme', '--kind', 'egress-routes-apply', '--payload-stdin', '--wait', '60'], ROUTES_YAML);
    const pending = await pendingFor('acme');
    expect(pending.target).toBe('sidecar');
    await database.queue.forSlug('acme').writeResponse(pending.id, { status: 'approved', responder: 'sidecar', notes: 'applied' });
    expect(await run).toMatchObject({ code: 0, stdout: 'applied\n' });
  });

  it('times out as pending (2), resumes by id, and reports expired (3) and cancelled (6)', async () => {
    const first = await propose(['--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin', '--wait', '0.2'], ROUTES_YAML);
    expect(first.code).toBe(2);
    const id = first.stdout.trim();
    const resumed = propose(['--bottle', 'acme', '--resume', id, '--wait', '60']);
    await database.queue.writeResponse('acme', id, { status: 'approved', responder: 'operator' });
    expect((await resumed).code).toBe(0);

    const expiring = await propose(['--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin', '--ttl', '0.3', '--wait', '30', '--json'], routesFor('b.example.com'));
    expect(expiring.code).toBe(3);
    expect(JSON.parse(expiring.stdout)).toMatchObject({ status: 'expired' });

    const cancelled = propose(['--bottle', 'zeta', '--kind', 'egress-allow', '--payload-stdin', '--wait', '60'], ROUTES_YAML);
    await database.queue.cancelProposal('zeta', (await pendingFor('zeta')).id, { actor: 'launcher', reason: 'bottle stopped' });
    const gone = await cancelled;
    expect(gone.code).toBe(6);
    expect(gone.stderr).toMatch(/was cancelled before anyone answered it/);
  });
});

describe('propose: bad input exits 4 (5 for the environment) and writes nothing', () => {
  it('names the problem for every kind of bad input', async () => {
    const payload = path.join(home, 'routes.yaml');
    fs.writeFileSync(payload, ROUTES_YAML);
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [['--bottle', 'acme', '--kind', 'egress-teleport', '--payload-file', payload], undefined, /unknown proposal kind "egress-teleport"\. Known kinds: egress-allow/],
      [['--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin'], 'routes: [', /payload is not a valid egress-allow payload/],
      [['--bottle', 'acme', '--kind', 'egress-allow'], undefined, /give the payload with exactly one of --payload-file FILE or --payload-stdin/],
      [['--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', payload, '--payload-stdin'], ROUTES_YAML, /exactly one of --payload-file FILE or --payload-stdin/],
      [['--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', path.join(home, 'missing.yaml')], undefined, /cannot read --payload-file .*missing\.yaml \(ENOENT\): pass a readable file/],
      [['--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', home], undefined, /--payload-file .* is a directory; give the file itself/],
      [['--bottle', '../acme', '--kind', 'egress-allow', '--payload-file', payload], undefined, /bottle slug "\.\.\/acme" contains a path separator/],
      [['--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', payload, '--wait', 'soon'], undefined, /--wait "soon" is not valid: give a number of seconds \(0 or more\)/],
      [['--bottle', 'acme', '--kind', 'egress-allow', '--payload-file', payload, '--target', 'everyone'], undefined, /--target "everyone" is not valid: use operator .* or sidecar/],
      [['--bottle', 'acme', '--resume', '00000000-0000-4000-8000-000000000000'], undefined, /no proposal "00000000-0000-4000-8000-000000000000" for bottle "acme"/],
      [['--bottle', 'acme', '--resume', 'x', '--kind', 'egress-allow'], undefined, /--resume waits on an existing proposal; drop --kind and the payload flags/],
      [['--bottle', 'acme', '--payload', payload], undefined, /unknown option '--payload'.*Run `bot-bottle propose --help` for usage/],
      [['--kind', 'egress-allow'], undefined, /required option '--bottle <slug>' not specified/],
    ];
    for (const [args, input, message] of cases) {
      const run = await propose(args, input);
      expect({ code: run.code, stderr: run.stderr, stdout: run.stdout }, args.join(' ')).toEqual({ code: 4, stderr: expect.stringMatching(message), stdout: '' });
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect(proposals()).toEqual([]);
  });

  it('refuses a payload on stdin over the limit, writing nothing', async () => {
    const run = await propose(['--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin', '--wait', '30'], `${ROUTES_YAML}#${'x'.repeat(MAX_PAYLOAD_BYTES)}\n`);
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 4, stdout: '' });
    expect(run.stderr).toContain(`the payload on stdin is over the limit of ${MAX_PAYLOAD_BYTES} bytes`);
    expect(proposals()).toEqual([]);
  });

  it('refuses --payload-stdin on a terminal instead of waiting for typing', async () => {
    const run = await runCliOnTerminal(['--db', dbFile, 'propose', '--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin'], { home });
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(/--payload-stdin reads the payload from a pipe, but stdin is a terminal/);
    expect(proposals()).toEqual([]);
  });

  it('exits 5 when the database is newer than this build', async () => {
    await database.close();
    const db = new Database(dbFile);
    db.pragma('user_version = 999');
    db.close();
    const run = await propose(['--bottle', 'acme', '--kind', 'egress-allow', '--payload-stdin'], ROUTES_YAML);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/newer than this build knows.*Upgrade bot-bottle/);
    database = await openHostDatabase({ path: path.join(home, 'other.db'), watch: false, keysDir: path.join(home, '.bot-bottle', 'keys') });
  });

  it('answers --help with exit 0', async () => {
    const run = await propose(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: bot-bottle propose \[options\]/);
    expect(run.stdout).toContain('Exit codes (the same as the sidecar\'s propose):\n   0  approved or modified');
    expect(run.stdout).toContain('   2  still pending (stdout: the id; wait again with --resume ID --wait SECONDS)');
  });
});
