#!/usr/bin/env node
// Copies what the sidecar loads, and nothing else, into OUT: the compiled files reachable from
// dist/bin/bot-bottle-sidecar.js (the bundled bin and its chunks, scripts/bundle-bins.mjs) through
// import/export statements and literal dynamic imports, migrations/,
// the installed packages those files import with every dependency package-lock.json records for
// them, and a package.json naming exactly those packages. The sidecar image is built from OUT, so
// the operator's tools (the terminal UI with ink and react, the CLI's other verbs) stay out of it.
//
//   node scripts/sidecar-modules.mjs OUT     run from the repository root after `npm ci` and the build
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import process from 'node:process';

const ENTRY = 'dist/bin/bot-bottle-sidecar.js';
const out = process.argv[2];
if (!out) fail('usage: node scripts/sidecar-modules.mjs OUT (the directory the sidecar image copies to /app)');
if (!fs.existsSync(ENTRY)) fail(`${ENTRY} is missing: run \`npm run build\` first.`);
if (!fs.existsSync('package-lock.json')) fail('package-lock.json is missing: run this from the repository root.');

function fail(message) {
  process.stderr.write(`sidecar-modules: ${message}\n`);
  process.exit(1);
}

const STATIC = /\b(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?['"]([^'"]+)['"]/g;
const DYNAMIC = /\bimport\(\s*(['"]?)([^'")]*)\1\s*\)/g;
const BUILTINS = new Set(builtinModules);

/** The compiled files the entry reaches, and the package names they import. */
function trace(entry) {
  const files = new Set();
  const packages = new Set();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop();
    if (files.has(file)) continue;
    files.add(file);
    const text = fs.readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(STATIC)].map((m) => m[1]);
    for (const [, quote, specifier] of text.matchAll(DYNAMIC)) {
      if (quote === '') fail(`${file} imports a computed module (import(${specifier})): this script cannot follow it; import a literal path.`);
      specifiers.push(specifier);
    }
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) {
        const target = path.join(path.dirname(file), specifier);
        if (!fs.existsSync(target)) fail(`${file} imports ${specifier}, which is not in the build (${target}).`);
        queue.push(target);
      } else if (!specifier.startsWith('node:') && !BUILTINS.has(specifier)) {
        const parts = specifier.split('/');
        packages.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
      }
    }
  }
  return { files, packages };
}

/** Every installed package location the named ones need, by Node's lookup through nested node_modules. */
function closure(names, lock) {
  const locations = new Set();
  const resolve = (from, name) => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const candidate = `${dir === '' ? '' : `${dir}/`}node_modules/${name}`;
      if (lock.packages[candidate]) return candidate;
      if (dir === '') return undefined;
    }
  };
  const visit = (from, name, optional) => {
    const location = resolve(from, name);
    if (location === undefined) {
      if (optional) return;
      fail(`${name} (needed by ${from || 'the sidecar'}) is not in package-lock.json: run \`npm install\` and commit the lock.`);
    }
    if (locations.has(location)) return;
    const entry = lock.packages[location];
    if (entry.link) fail(`${location} is a link; the image copies installed packages only.`);
    locations.add(location);
    for (const dependency of Object.keys(entry.dependencies ?? {})) visit(location, dependency, false);
    for (const dependency of Object.keys(entry.optionalDependencies ?? {})) visit(location, dependency, true);
    const peerMeta = entry.peerDependenciesMeta ?? {};
    for (const dependency of Object.keys(entry.peerDependencies ?? {})) visit(location, dependency, peerMeta[dependency]?.optional === true);
  };
  for (const name of names) visit('', name, false);
  return locations;
}

/**
 * A package directory without its nested node_modules (those are copied as packages of their own).
 * A native addon (one with a binding.gyp, like better-sqlite3) keeps its compiled build/Release/*.node
 * and its prebuilt addon for this platform (prebuilds/<platform>-<arch>.node, which the image's build
 * stage runs on), but not the C sources, the object files or other platforms' prebuilds.
 */
function copyPackage(location) {
  const native = fs.existsSync(path.join(location, 'binding.gyp'));
  fs.cpSync(location, path.join(out, location), {
    recursive: true,
    filter: (source) => {
      const parts = path.relative(location, source).split(path.sep);
      if (parts.includes('node_modules')) return false;
      if (!native) return true;
      if (parts[0] === 'deps' || parts[0] === 'src') return false;
      if (parts[0] === 'prebuilds') return parts.length === 1 || parts[1] === `${process.platform}-${process.arch}.node`;
      if (parts[0] !== 'build' || parts.length === 1) return true;
      return parts[1] === 'Release' && (parts.length === 2 || (parts.length === 3 && (parts[2] ?? '').endsWith('.node')));
    },
  });
}

const manifest = JSON.parse(fs.readFileSync('package.json', 'utf8'));
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8'));
const { files, packages } = trace(ENTRY);
for (const name of packages) {
  if (!manifest.dependencies?.[name]) fail(`the sidecar imports ${name}, which package.json does not list in dependencies.`);
}
const locations = closure([...packages].sort(), lock);

fs.rmSync(out, { recursive: true, force: true });
for (const file of files) {
  fs.mkdirSync(path.join(out, path.dirname(file)), { recursive: true });
  fs.copyFileSync(file, path.join(out, file));
}
fs.cpSync('migrations', path.join(out, 'migrations'), { recursive: true });
// The help commander printed at build time (scripts/render-help.mjs), which the bin answers --help with.
const help = ENTRY.replace(/\.js$/, '.help.json');
if (fs.existsSync(help)) fs.copyFileSync(help, path.join(out, help));
for (const location of [...locations].sort()) copyPackage(location);
const dependencies = Object.fromEntries([...packages].sort().map((name) => [name, manifest.dependencies[name]]));
const sidecarManifest = { name: manifest.name, version: manifest.version, license: manifest.license, private: true, type: manifest.type, dependencies };
fs.writeFileSync(path.join(out, 'package.json'), `${JSON.stringify(sidecarManifest, null, 2)}\n`);
process.stdout.write(`sidecar-modules: ${files.size} files, ${packages.size} direct and ${locations.size} installed packages in ${out}: ${[...packages].sort().join(', ')}\n`);
