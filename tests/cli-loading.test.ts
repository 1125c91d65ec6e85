import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHostDatabase } from '../src/database.js';
import { KindRegistry } from '../src/kinds/registry.js';
import { migrateUp } from '../src/storage/migrations.js';
import { bottleKeysDir } from './fixtures/bottle-keys.js';
import { assertBuilt, CLI } from './fixtures/cli-support.js';
import { SIDECAR_MAIN } from './fixtures/sidecar-harness.js';
import { FIXTURES_DIR, REPO_ROOT, ROUTES_YAML, tempDir } from './fixtures/storage-support.js';

/**
 * What each command loads, as recorded by tests/fixtures/module-trace.mjs: module by module in
 * tsc's build of the entries (dist/src/cli/main.js, dist/sidecar/main.js), and package by package
 * in the bins bundled from them (dist/bin/, scripts/bundle-bins.mjs), which must keep every lazy
 * load lazy:
 * `--version` and the top-level help load neither commander nor a command tree; any other command
 * that needs no database (a verb's help, a usage error) loads the command trees and commander and
 * nothing else; and every command loads only the heavy packages it uses. Start-up
 * time itself is measured by bench/cli-startup.ts, never here.
 */

const TRACER = path.join(FIXTURES_DIR, 'module-trace.mjs');
/** tsc's build of the bins' entries: one file per source module, so the trace shows which. */
const PROGRAM = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const SIDECAR_PROGRAM = path.join(REPO_ROOT, 'dist', 'sidecar', 'main.js');
/** The packages scripts/bundle-bins.mjs bundles into the bins instead of loading them from node_modules. */
const BUNDLED = ['commander', 'picocolors'];
const SLUG = 'loading';

interface Loaded {
  code: number | null;
  stderr: string;
  /** Packages under node_modules, by name (`@scope/name` for scoped ones). */
  packages: string[];
  /** The project's own modules, relative to dist/. */
  own: string[];
  stdout: string;
}

function packageOf(file: string): string | undefined {
  const parts = file.split('/node_modules/').at(-1)?.split('/') ?? [];
  if (!file.includes('/node_modules/')) return undefined;
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** The packages among the module URLs in a trace file; with `beforeMark`, only those noted before its `mark` line. */
function packagesIn(trace: string, beforeMark = false): string[] {
  const lines = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').split('\n') : [];
  if (beforeMark && !lines.includes('mark')) throw new Error(`${trace} has no mark line`);
  const urls = (beforeMark ? lines.slice(0, lines.indexOf('mark')) : lines).filter((line) => line.startsWith('file:'));
  return [...new Set(urls.map((url) => packageOf(decodeURIComponent(new URL(url).pathname))).filter((name): name is string => name !== undefined))].sort();
}

function traced(program: string, args: string[], env: Record<string, string> = {}): Loaded {
  const dir = tempDir('module-trace-');
  const trace = path.join(dir, 'loaded.txt');
  const run = spawnSync(process.execPath, ['--import', TRACER, program, ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, MODULE_TRACE_FILE: trace, ...env },
    encoding: 'utf8',
    input: '',
  });
  const urls = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').split('\n').filter((line) => line.startsWith('file:')) : [];
  fs.rmSync(dir, { recursive: true, force: true });
  const files = [...new Set(urls.map((url) => decodeURIComponent(new URL(url).pathname)))].filter((file) => file !== TRACER);
  const dist = `${path.join(REPO_ROOT, 'dist')}/`;
  return {
    code: run.status,
    stderr: run.stderr,
    stdout: run.stdout,
    packages: [...new Set(files.map(packageOf).filter((name): name is string => name !== undefined))].sort(),
    own: files.filter((file) => file.startsWith(dist)).map((file) => file.slice(dist.length)),
  };
}

/** A verb's implementation module (`run.ts`, `<verb>-run.ts`): what its command tree imports only when the action runs. */
const isImplementation = (file: string): boolean => /(^|\/)([\w-]+-)?run\.js$/.test(file);

let dbFile: string;

beforeAll(async () => {
  assertBuilt();
  const shared = path.join(tempDir('module-trace-db-'), 'supervise');
  fs.mkdirSync(shared, { mode: 0o700 });
  dbFile = path.join(shared, 'bot-bottle.db');
  await migrateUp(dbFile);
});

/** What a bin loads to answer `--version` or its top-level help (src/core/quick-answer.ts): its entry and a few core modules. */
const QUICK = {
  cli: ['src/cli/main.js', 'src/cli/closed-output.js', 'src/core/quick-answer.js', 'src/core/exit-codes.js', 'src/core/errors.js', 'src/core/version.js'],
  sidecar: ['sidecar/main.js', 'sidecar/defaults.js', 'src/core/quick-answer.js', 'src/core/version.js'],
};

describe('bot-bottle loads only what a command uses', () => {
  it.each([[['--version']], [['-V']], [['--help']], [['-h']], [[]]])('%j: answered before commander loads, with nothing but its entry and core modules', (args) => {
    const loaded = traced(PROGRAM, args);
    expect(loaded.code, loaded.stderr).toBe(args.length === 0 ? 2 : 0);
    expect(loaded.packages).toEqual([]);
    const bundled = traced(CLI, args);
    expect({ code: bundled.code, stdout: bundled.stdout, packages: bundled.packages }).toEqual({ code: loaded.code, stdout: loaded.stdout, packages: [] });
    expect([...loaded.own].sort()).toEqual([...QUICK.cli].sort());
  });

  /** Every verb's command tree, which a command line naming no verb (help, a typo) loads to list them all. */
  const TREES = ['src/cli/supervise/command.js', 'src/cli/audit/command.js', 'src/cli/demo/command.js', 'src/cli/db.js', 'src/cli/propose.js', 'src/cli/import-legacy.js', 'src/cli/bottles.js', 'src/cli/notify.js', 'src/cli/dashboard.js', 'src/cli/broker.js'];

  it.each([
    [['supervise', '--help'], 'src/cli/supervise/command.js'],
    [['--db', 'x.db', 'audit', 'list', '--help'], 'src/cli/audit/command.js'],
    [['--db=x.db', 'db', '--help'], 'src/cli/db.js'],
  ])('%j: only the tree of the verb it names', (args, tree) => {
    const loaded = traced(PROGRAM, args);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.own.filter((file) => TREES.includes(file))).toEqual([tree]);
  });

  it.each([[['help']], [['no-such-verb']], [['--frobnicate', 'supervise']]])('%j: every tree, for the listing and the suggestions', (args) => {
    const loaded = traced(PROGRAM, args);
    expect([...loaded.own.filter((file) => TREES.includes(file))].sort()).toEqual([...TREES].sort());
  });

  const light: string[][] = [['supervise', '--help'], ['audit', 'list', '--help'], ['db', '--help'], ['propose', '--help'], ['import-legacy', '--help'], ['demo', '--help'], ['no-such-verb']];

  it.each(light.map((args) => [args.join(' '), args]))('%s: the command trees and commander, nothing else', (_name, args) => {
    const loaded = traced(PROGRAM, args as string[]);
    expect(loaded.code, loaded.stderr).toBe((args as string[])[0] === 'no-such-verb' ? 2 : 0);
    expect(loaded.packages).toEqual(['commander']);
    expect(loaded.own.filter(isImplementation)).toEqual([]);
    expect(traced(CLI, args as string[]).packages).toEqual(loaded.packages.filter((name) => !BUNDLED.includes(name)));
    expect(loaded.own).toContain('src/cli/program.js');
  });

  /** What listing never needs: the TUI, the MCP SDK, the migrator, the exporters, the file watcher and the kinds' payload formats. */
  const NOT_FOR_LISTING = ['ink', 'react', '@modelcontextprotocol/sdk', 'umzug', 'cli-progress', 'csv-stringify', 'zod', 'yaml', 'js-yaml', 'diff', 'ajv'];

  it('supervise --once --json: the database, never the terminal UI, the MCP SDK, the migrator or a payload parser', () => {
    const bundled = traced(CLI, ['--db', dbFile, 'supervise', '--once', '--json']);
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(bundled.packages).toEqual(['better-sqlite3']);
    const loaded = traced(PROGRAM, ['--db', dbFile, 'supervise', '--once', '--json']);
    expect(loaded.code, loaded.stderr).toBe(0);
    // The tracer sees CommonJS packages and those imported in an action: the positive control.
    expect(loaded.packages).toContain('better-sqlite3');
    expect(loaded.own).toContain('src/cli/supervise/run.js');
    for (const heavy of NOT_FOR_LISTING) expect(loaded.packages).not.toContain(heavy);
    expect(loaded.own.filter((file) => TREES.includes(file))).toEqual(['src/cli/supervise/command.js']);
  });

  it('supervise --once --json lists built-in proposals by their rules alone; a launcher kind’s record loads the kinds', async () => {
    const file = path.join(path.dirname(dbFile), 'listed.db');
    const host = await openHostDatabase({ path: file, watch: false });
    try {
      await host.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: ROUTES_YAML, justification: 'listed' });
      const builtins = traced(PROGRAM, ['--db', file, 'supervise', '--once', '--json']);
      expect(builtins.code, builtins.stderr).toBe(0);
      expect(JSON.parse(builtins.stdout)).toMatchObject([{ kind: 'egress-allow', modifiable: true, reasonRequiredToApprove: false, kindProblem: null }]);
      for (const heavy of NOT_FOR_LISTING) expect(builtins.packages).not.toContain(heavy);

      const kinds = KindRegistry.withBuiltins().register({ name: 'deploy-approve', component: 'deploy', target: 'operator', modifiable: false, reasonRequiredToApprove: true, format: 'json', schema: { type: 'object' }, description: 'a deploy' });
      const launcher = await openHostDatabase({ path: file, watch: false, kinds });
      try {
        await launcher.queue.writeProposal('acme', { kind: 'deploy-approve', origin: 'agent', payload: '{}', justification: 'recorded' });
      } finally {
        await launcher.close();
      }
      const recorded = traced(PROGRAM, ['--db', file, 'supervise', '--once', '--json']);
      expect(recorded.code, recorded.stderr).toBe(0);
      expect(JSON.parse(recorded.stdout)).toMatchObject([{ kind: 'egress-allow' }, { kind: 'deploy-approve', modifiable: false, reasonRequiredToApprove: true, kindProblem: null }]);
      expect(recorded.packages).toContain('ajv');
    } finally {
      await host.close();
    }
  });

  it('db migrate loads the migrator, which nothing that reads loads', () => {
    const fresh = path.join(path.dirname(dbFile), 'fresh.db');
    const loaded = traced(PROGRAM, ['--db', fresh, 'db', 'migrate']);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.packages).toContain('umzug');
    expect(loaded.packages).not.toContain('ink');
  });
});

describe('bot-bottle-sidecar loads only what a command uses', () => {
  it.each([[['--version']], [['--help']]])('%j: answered before commander loads, with nothing but its entry and core modules', (args) => {
    const loaded = traced(SIDECAR_PROGRAM, args);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.packages).toEqual([]);
    expect([...loaded.own].sort()).toEqual([...QUICK.sidecar].sort());
    const bundled = traced(SIDECAR_MAIN, args);
    expect({ code: bundled.code, stdout: bundled.stdout, packages: bundled.packages }).toEqual({ code: 0, stdout: loaded.stdout, packages: [] });
  });

  it.each([[['propose', '--help']], [['serve', '--help']]])('%j: the command tree and commander, nothing else', (args) => {
    const loaded = traced(SIDECAR_PROGRAM, args);
    expect(loaded.code, loaded.stderr).toBe(0);
    expect(loaded.packages).toEqual(['commander']);
    expect(loaded.own).toContain('sidecar/program.js');
  });

  it('propose, as git-gate runs it, never loads the MCP SDK', () => {
    const payload = path.join(path.dirname(dbFile), 'routes.yaml');
    fs.writeFileSync(payload, ROUTES_YAML);
    const keys = bottleKeysDir(SLUG);
    const loaded = traced(SIDECAR_MAIN, ['propose', '--db', dbFile, '--keys-dir', keys, '--kind', 'egress-allow', '--payload-file', payload, '--wait', '0'], { SUPERVISE_BOTTLE_SLUG: SLUG });
    // Exit 2: enqueued and still pending, as asked with --wait 0.
    expect(loaded.code, loaded.stderr).toBe(2);
    expect(loaded.packages).toContain('better-sqlite3');
    expect(loaded.packages).not.toContain('@modelcontextprotocol/sdk');
  });

  it.each([
    ['the bundled bin', SIDECAR_MAIN],
    ["tsc's modules", SIDECAR_PROGRAM],
  ])('serve (%s) reports ready before it loads the MCP SDK or a payload parser, and /healthz answers once they are loaded', async (_name, entry) => {
    const dir = tempDir('module-trace-serve-');
    const trace = path.join(dir, 'loaded.txt');
    const child = spawn(process.execPath, ['--import', TRACER, entry, 'serve', '--db', dbFile, '--keys-dir', bottleKeysDir(SLUG), '--port', '0', '--host', '127.0.0.1'], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MODULE_TRACE_FILE: trace, MODULE_TRACE_MARK: '^ready ', SUPERVISE_BOTTLE_SLUG: SLUG },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    try {
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const ready = /^ready (http:\/\/\S+)$/m.exec(stdout);
          if (ready) resolve(ready[1] as string);
        });
        void exited.then((code) => reject(new Error(`the sidecar exited (${code}) before it was ready: ${stderr}`)));
      });
      // The tracer marks the ready line as the sidecar writes it: above the mark is what loaded before it.
      const atReady = packagesIn(trace, true);
      expect(atReady).toContain('better-sqlite3');
      for (const heavy of ['@modelcontextprotocol/sdk', 'zod', 'yaml', 'js-yaml', 'diff', 'ajv']) expect(atReady).not.toContain(heavy);
      const health = await fetch(url.replace(/\/mcp$/, '/healthz'));
      expect(await health.json()).toMatchObject({ ok: true, slug: SLUG });
      expect(packagesIn(trace)).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk', 'zod', 'yaml']));
    } finally {
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
