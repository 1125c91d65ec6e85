// After `tsc`: has commander print each bin's `--help` (and, for bot-bottle, the help it prints
// when run without arguments) and writes them beside each bin as <bin>.help.json (for the tsc
// entries and the bundled bins alike), for
// src/core/quick-answer.ts to answer with before commander loads. The text is commander's own:
// nothing here formats help. Rendered at 80 columns (commander's default, and what it uses when
// the output is not a terminal) and unwrapped (valid at every width from its longest line up).
//
//   node scripts/render-help.mjs [ROOT]     ROOT: the directory holding dist/ (default: this checkout)
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'));
const dist = path.join(root, 'dist');
const { PACKAGE_VERSION } = await import(pathToFileURL(path.join(dist, 'src', 'core', 'version.js')).href);

/** What commander writes for `args` at `width` columns: the stream written to, the text and its exit code. */
async function printed(build, args, width) {
  const program = await build();
  const out = { stdout: '', stderr: '' };
  program.configureOutput({
    writeOut: (text) => (out.stdout += text),
    writeErr: (text) => (out.stderr += text),
    getOutHelpWidth: () => width,
    getErrHelpWidth: () => width,
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  });
  let exitCode;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    // Both bins override commander's exit: help and version end in a CommanderError.
    if (typeof error?.exitCode !== 'number') throw error;
    exitCode = error.exitCode;
  }
  if (exitCode === undefined) throw new Error(`commander ran a command for ${JSON.stringify(args)} instead of printing help`);
  if (out.stdout !== '' && out.stderr !== '') throw new Error(`${JSON.stringify(args)} wrote to both stdout and stderr`);
  return { stream: out.stdout !== '' ? 'stdout' : 'stderr', text: out.stdout || out.stderr, exitCode };
}

/** The help for `args`, at 80 columns and unwrapped, checked to be what commander prints at each width it is used for. */
async function rendered(build, args, expected) {
  const at80 = await printed(build, args, 80);
  if (at80.stream !== expected.stream || at80.exitCode !== expected.exitCode) {
    throw new Error(`${JSON.stringify(args)}: commander wrote to ${at80.stream} and exited ${at80.exitCode}, expected ${expected.stream} and ${expected.exitCode}`);
  }
  const unwrapped = (await printed(build, args, 100_000)).text;
  const unwrappedFrom = Math.max(...unwrapped.split('\n').map((line) => line.length));
  for (const width of [unwrappedFrom, unwrappedFrom + 1]) {
    if ((await printed(build, args, width)).text !== unwrapped) throw new Error(`${JSON.stringify(args)}: commander wraps at ${width} columns although no line is that long`);
  }
  return { at80: at80.text, unwrapped, unwrappedFrom };
}

async function write(file, answers) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify({ version: PACKAGE_VERSION, ...answers }, null, 1)}\n`);
}

const cli = await import(pathToFileURL(path.join(dist, 'src', 'cli', 'program.js')).href);
const cliAnswers = {
  help: await rendered(() => cli.buildProgram(), ['--help'], { stream: 'stdout', exitCode: 0 }),
  helpWithoutArguments: await rendered(() => cli.buildProgram(), [], { stream: 'stderr', exitCode: 1 }),
};

const sidecar = await import(pathToFileURL(path.join(dist, 'sidecar', 'program.js')).href);
const sidecarAnswers = {
  help: await rendered(() => sidecar.buildProgram({ code: 0 }), ['--help'], { stream: 'stdout', exitCode: 0 }),
};
await write(path.join(dist, 'src', 'cli', 'main.help.json'), cliAnswers);
await write(path.join(dist, 'sidecar', 'main.help.json'), sidecarAnswers);
// The bins bundled from those entries (scripts/bundle-bins.mjs), which package.json names.
await write(path.join(dist, 'bin', 'bot-bottle.help.json'), cliAnswers);
await write(path.join(dist, 'bin', 'bot-bottle-sidecar.help.json'), sidecarAnswers);
