// The package as a user gets it: packed from a clean copy of the checkout (no dist/, so `prepare`
// must build it), installed from the tarball into a fresh project with npm, imported through each
// export path, type-checked as a consumer's strict TypeScript (no skipLibCheck), and both bins run.
// npm reads the user's npm cache and prefers it to the registry, so a warm cache installs offline.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from './fixtures/sidecar-harness.js';

const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};
const ENTRIES = Object.keys(MANIFEST.exports).filter((entry) => entry !== './package.json');
const specifier = (entry: string): string => (entry === '.' ? MANIFEST.name : `${MANIFEST.name}/${entry.slice(2)}`);

/**
 * The vitest run's HOME is a throwaway directory (tests/fixtures/temp-home.ts); npm's cache is the
 * user's, so the install reads what earlier installs fetched instead of the registry.
 */
const NPM_CACHE = process.env.npm_config_cache ?? path.join(os.userInfo().homedir, '.npm');

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_cache: NPM_CACHE, npm_config_update_notifier: 'false', ...env }, timeout: 600_000 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${result.status ?? result.signal}: ${result.error ?? ''}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** What a fresh clone has: the tracked files plus new ones not yet committed, never dist/ or node_modules/. */
function cleanCopy(destination: string): void {
  const listed = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT).stdout.split('\0');
  for (const file of listed.filter((name) => name !== '' && fs.existsSync(path.join(ROOT, name)))) {
    fs.mkdirSync(path.dirname(path.join(destination, file)), { recursive: true });
    fs.copyFileSync(path.join(ROOT, file), path.join(destination, file));
  }
  // The checkout's installed dependencies, as `npm ci` would give the clone (prepare needs tsc).
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(destination, 'node_modules'));
}

/** Relative links of a markdown file (no URLs, no in-page anchors), without their anchors. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => (match[1] as string).split('#')[0] as string)
    .filter((target) => target !== '' && !/^[a-z]+:/i.test(target));
}

describe('the packed package', () => {
  let work: string;
  let tarball: string;
  let packed: string[];
  let consumer: string;
  let installed: string;

  beforeAll(() => {
    work = tempDir('package-test-');
    const source = path.join(work, 'source');
    cleanCopy(source);
    const pack = run('npm', ['pack', '--json', '--pack-destination', work], source);
    // npm prints the prepare script's output before the JSON.
    const report = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('\n[') + 1)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const first = report[0] as (typeof report)[0];
    tarball = path.join(work, first.filename);
    packed = first.files.map((file) => file.path);

    consumer = path.join(work, 'consumer');
    fs.mkdirSync(consumer);
    fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // No dependency has an install script (checked below: better-sqlite3 ships N-API prebuilds), so
    // nothing compiles and nothing is fetched from outside the registry.
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], consumer);
    installed = path.join(consumer, 'node_modules', MANIFEST.name);
  }, 900_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('carries the build, the migrations, the docs, LICENSE and CHANGELOG, and nothing of the test suite', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'Dockerfile.sidecar', 'docs/API.md', 'migrations/0001_queue_audit_events.up.sql']) {
      expect(packed, file).toContain(file);
    }
    for (const entry of Object.values(MANIFEST.exports).flatMap((target) => (typeof target === 'string' ? [target] : [target.types, target.default]))) {
      expect(packed, entry).toContain(entry.replace(/^\.\//, ''));
    }
    for (const bin of Object.values(MANIFEST.bin)) expect(packed, bin).toContain(bin);
    expect(packed.filter((file) => /^(tests|bench|node_modules|\.cache|\.ci)\//.test(file))).toEqual([]);
    expect(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('every relative link of the installed README and docs leads to a file in the package', () => {
    const broken: string[] = [];
    for (const doc of packed.filter((file) => file.endsWith('.md'))) {
      for (const target of relativeLinks(fs.readFileSync(path.join(installed, doc), 'utf8'))) {
        if (!fs.existsSync(path.join(installed, path.dirname(doc), target))) broken.push(`${doc} → ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every source and declaration map points at a source file the package ships, or carries the text itself', () => {
    const missing: string[] = [];
    const maps = packed.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const map of maps) {
      const { sources, sourcesContent } = JSON.parse(fs.readFileSync(path.join(installed, map), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      sources.forEach((source, index) => {
        // The bundled bins' maps carry the text of what they bundled from packages (scripts/bundle-bins.mjs).
        if (typeof sourcesContent?.[index] === 'string' && !source.startsWith('../')) return;
        if (!fs.existsSync(path.join(installed, path.dirname(map), source))) missing.push(`${map} → ${source}`);
      });
    }
    expect(missing).toEqual([]);
  });

  it('needs no install script: better-sqlite3 loads its prebuilt N-API addon', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(consumer, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript).map(([location]) => location);
    expect(withScripts).toEqual([]);
  });

  it('each export path imports and works: the host database opens, a proposal is written and read back', () => {
    const script = `
      const entries = ${JSON.stringify(ENTRIES.map(specifier))};
      const names = {};
      for (const entry of entries) names[entry] = Object.keys(await import(entry)).sort();
      const { openHostDatabase, SCHEMA_VERSION } = await import(${JSON.stringify(MANIFEST.name)});
      const db = await openHostDatabase({ watch: false });
      const proposal = await db.queue.writeProposal('acme', { kind: 'egress-allow', origin: 'agent', payload: 'routes: []\\n' });
      const read = db.queue.readProposal('acme', proposal.id);
      const schema = db.db.pragma('user_version', { simple: true });
      await db.close();
      console.log(JSON.stringify({ names, state: read.state, schema, SCHEMA_VERSION }));`;
    fs.writeFileSync(path.join(consumer, 'use.mjs'), script);
    const output = JSON.parse(run(process.execPath, ['use.mjs'], consumer, { HOME: tempDir('package-home-') }).stdout) as {
      names: Record<string, string[]>;
      state: string;
      schema: number;
      SCHEMA_VERSION: number;
    };
    for (const entry of ENTRIES) expect(output.names[specifier(entry)]?.length, entry).toBeGreaterThan(0);
    expect(output.names[MANIFEST.name]).toContain('openHostDatabase');
    expect(output.names[`${MANIFEST.name}/admin`]).toContain('backupDatabase');
    expect(output.names[`${MANIFEST.name}/sidecar`]).toContain('proposeTokenAllow');
    expect(output).toMatchObject({ state: 'pending', schema: output.SCHEMA_VERSION });
  });

  it("type-checks a consumer's strict TypeScript without skipLibCheck, with better-sqlite3's types and no any", () => {
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] },
        files: ['consumer.ts'],
      }),
    );
    fs.writeFileSync(
      path.join(consumer, 'consumer.ts'),
      `import { openHostDatabase, prepareSupervise, SuperviseError, type SuperviseDatabase, type SupervisePlan } from '${MANIFEST.name}';
import { backupDatabase, type BackupResult } from '${MANIFEST.name}/admin';
import { proposeTokenAllow, PROPOSE_EXIT } from '${MANIFEST.name}/sidecar';

/** true only for \`any\`: a declaration whose module could not be typed would make these any. */
type IsAny<T> = 0 extends 1 & T ? true : false;
const connectionIsTyped: IsAny<SuperviseDatabase['db']> = false;
const planIsTyped: IsAny<SupervisePlan> = false;
const backupIsTyped: IsAny<BackupResult> = false;

export async function consume(): Promise<number> {
  const database: SuperviseDatabase = await openHostDatabase({ watch: false });
  const version: number = database.db.pragma('user_version', { simple: true }) as number;
  const statement = database.db.prepare('SELECT count(*) AS n FROM proposals');
  const row = statement.get() as { n: number };
  await database.close();
  const plan = await prepareSupervise('acme');
  const args: string[] = plan.runArgs('podman', 'bot-bottle-sidecar');
  const backup = await backupDatabase(database.path, '/tmp/copy.db');
  const exit: number = PROPOSE_EXIT.approved;
  void proposeTokenAllow;
  void [connectionIsTyped, planIsTyped, backupIsTyped, args, backup];
  if (row.n < 0) throw new SuperviseError('invalid-input', 'impossible');
  return version + exit;
}
`,
    );
    const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8' });
    expect(`${tsc.stdout}${tsc.stderr}`).toBe('');
    expect(tsc.status).toBe(0);
  }, 300_000);

  it('runs both bins: bot-bottle --version and bot-bottle-sidecar --version/--help', () => {
    const bin = (name: string) => path.join(consumer, 'node_modules/.bin', name);
    expect(Object.keys(MANIFEST.bin).sort()).toEqual(['bot-bottle', 'bot-bottle-sidecar']);
    expect(run(bin('bot-bottle'), ['--version'], consumer).stdout.trim()).toBe(MANIFEST.version);
    expect(run(bin('bot-bottle-sidecar'), ['--version'], consumer).stdout.trim()).toBe(MANIFEST.version);
    const help = run(bin('bot-bottle-sidecar'), ['--help'], consumer).stdout;
    expect(help).toContain('serve');
    expect(help).toContain('propose');
    expect(run(bin('bot-bottle'), ['db', 'path'], consumer, { HOME: tempDir('package-home-') }).stdout).toContain('.bot-bottle');
  }, 120_000);
});
