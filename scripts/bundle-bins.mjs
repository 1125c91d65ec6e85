#!/usr/bin/env node
// Bundles the two bins from tsc's output in dist/ into dist/bin/ (bot-bottle.js,
// bot-bottle-sidecar.js, each with its chunks in dist/bin/chunks/<bin>/), because starting a
// command is mostly Node resolving, reading and linking modules: one import per chunk instead of
// one per source file.
//
// - Code splitting keeps every dynamic import lazy: a verb's implementation, the kinds' payload
//   formats and the MCP SDK still load only when used.
// - Packages stay in node_modules (better-sqlite3 is a native addon; the others load lazily and
//   ship as they are), except the few the start-up path always needs, which are bundled.
// - A Node built-in is taken with process.getBuiltinModule instead of an ES import: building an
//   ES namespace of a built-in reads every export, and some are getters that load more of Node
//   (node:fs's `promises`, node:process, node:http's WebSocket: milliseconds each).
//
// The library (dist/src/index.js and the other exports) stays tsc's output, module by module.
// The stand-ins list the exports of the Node that builds; the bins' tests run on 22, 24 and 26.
//
//   node scripts/bundle-bins.mjs     after `tsc -p tsconfig.build.json`; npm run build runs both
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import process from 'node:process';

/** Packages bundled into the bins: small, loaded by every command that gets past the quick answers. */
const BUNDLED_PACKAGES = new Set(['commander', 'picocolors']);

const manifest = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const external = Object.keys(manifest.dependencies).filter((name) => !BUNDLED_PACKAGES.has(name));
const builtins = new Set(builtinModules);

/**
 * Built-ins a command may never call but whose loading costs milliseconds: node:crypto (the seals and
 * hashes: an empty listing needs none) and node:child_process (commander imports it for executable
 * subcommands, which bot-bottle has none of). Their modules load on the first call.
 */
const LOADED_ON_FIRST_CALL = new Set(['crypto', 'child_process']);

/** The module esbuild bundles in place of built-in `id`. */
function builtinModuleSource(id) {
  const builtin = process.getBuiltinModule(id);
  const names = Object.keys(builtin).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default');
  // `$` names: no built-in exports one, so none collides with them.
  if (!LOADED_ON_FIRST_CALL.has(id.slice('node:'.length))) {
    return [
      `const $module = process.getBuiltinModule(${JSON.stringify(id)});`,
      'const $read = (name) => $module[name];',
      'export default $module;',
      // A pure call: esbuild drops the exports nobody imports, so only the used ones are read.
      ...names.map((name) => `export const ${name} = /* @__PURE__ */ $read(${JSON.stringify(name)});`),
    ].join('\n');
  }
  // Plain functions become wrappers that load the module when called; anything else (classes,
  // constants) is read at load, which only an import of it does.
  const isPlainFunction = (name) => typeof builtin[name] === 'function' && /^[a-z]/.test(name);
  return [
    'let $loaded;',
    `const $module = () => ($loaded ??= process.getBuiltinModule(${JSON.stringify(id)}));`,
    'export default new Proxy({}, { get: (_, name) => $module()[name], has: (_, name) => name in $module() });',
    ...names.map((name) =>
      isPlainFunction(name)
        ? `export function ${name}(...args) { return $module().${name}(...args); }`
        : `export const ${name} = /* @__PURE__ */ (() => $module()[${JSON.stringify(name)}])();`,
    ),
  ].join('\n');
}

/**
 * `import fs from 'node:fs'` becomes a module built on process.getBuiltinModule('node:fs'), whose
 * named exports are read only where they are used.
 */
const builtinsWithoutNamespaces = {
  name: 'builtins-without-namespaces',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const bare = args.path.replace(/^node:/, '');
      // Not a built-in, or one that exists only with the prefix (node:sqlite, node:test): left to Node.
      if (!builtins.has(bare)) return undefined;
      return { path: bare, namespace: 'builtin' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: builtinModuleSource(`node:${args.path}`), loader: 'js' }));
  },
};

/** One build per bin: the CLI and the sidecar never run in one process, so they share no chunks. */
async function bundle(entry, name) {
  const result = await esbuild.build({
    entryPoints: [{ in: entry, out: name }],
    outdir: 'dist/bin',
    chunkNames: `chunks/${name}/[name]-[hash]`,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    external,
    plugins: [builtinsWithoutNamespaces],
    sourcemap: 'linked',
    sourcesContent: true,
    metafile: true,
    logLevel: 'warning',
  });
  fs.chmodSync(`dist/bin/${name}.js`, 0o755);
  for (const output of Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.map'))) withoutBuildPaths(output);
}

/**
 * The maps chain to tsc's maps and so to src/ and sidecar/, which the package ships. A bundled
 * package's files are named by their path in node_modules instead of the path from this build's
 * checkout; their text, like the built-ins' stand-ins, is in the map itself.
 */
function withoutBuildPaths(file) {
  const map = JSON.parse(fs.readFileSync(file, 'utf8'));
  map.sources = map.sources.map((source) => (source.includes('node_modules/') ? `node_modules/${source.split('node_modules/').at(-1)}` : source));
  fs.writeFileSync(file, JSON.stringify(map));
}

fs.rmSync('dist/bin', { recursive: true, force: true });
await bundle('dist/src/cli/main.js', 'bot-bottle');
await bundle('dist/sidecar/main.js', 'bot-bottle-sidecar');
