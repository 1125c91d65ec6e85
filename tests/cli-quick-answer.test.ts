import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { helpFileOf, helpFor, quickAnswer, type QuickAnswers } from '../src/core/quick-answer.js';
import { PACKAGE_VERSION } from '../src/core/version.js';
import { assertBuilt, CLI } from './fixtures/cli-support.js';
import { SIDECAR_MAIN } from './fixtures/sidecar-harness.js';
import { REPO_ROOT, tempDir } from './fixtures/storage-support.js';

/**
 * `--version` and the top-level help are answered before commander loads (src/core/quick-answer.ts),
 * with text commander printed at build time. Here every quick answer is held equal to what
 * commander prints now, from the same build, so the two can never drift: through the bins, and at
 * the terminal widths a rendering is chosen for.
 */

interface Bin {
  name: string;
  main: string;
  program: string;
  build: () => Promise<Command>;
  /** The argument lists answered quickly. */
  quick: string[][];
}

const DIST = path.join(REPO_ROOT, 'dist');
const bins: Bin[] = [
  {
    name: 'bot-bottle',
    main: CLI,
    program: path.join(DIST, 'src', 'cli', 'program.js'),
    build: async () => ((await import(pathToFileURL(path.join(DIST, 'src', 'cli', 'program.js')).href)) as { buildProgram: () => Promise<Command> }).buildProgram(),
    quick: [['--version'], ['-V'], ['--help'], ['-h'], []],
  },
  {
    name: 'bot-bottle-sidecar',
    main: SIDECAR_MAIN,
    program: path.join(DIST, 'sidecar', 'program.js'),
    build: async () => ((await import(pathToFileURL(path.join(DIST, 'sidecar', 'program.js')).href)) as { buildProgram: (outcome: { code: number }) => Command }).buildProgram({ code: 0 }),
    quick: [['--version'], ['-V'], ['--help'], ['-h']],
  },
];

function run(args: string[]) {
  const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, env: { PATH: process.env.PATH, HOME: tempDir('quick-home-') }, encoding: 'utf8', input: '' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The bin's own `main` from program.js: always commander, never the quick answer. */
function throughCommander(bin: Bin, args: string[]) {
  const script = `const { main } = await import(${JSON.stringify(pathToFileURL(bin.program).href)}); process.exitCode = await main(['node', 'bin', ...process.argv.slice(1)]);`;
  return run(['--input-type=module', '-e', script, '--', ...args]);
}

/** What commander prints for `args` at `width` columns. */
async function commanderAt(bin: Bin, args: string[], width: number): Promise<string> {
  const program = await bin.build();
  let text = '';
  program.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s), getOutHelpWidth: () => width, getErrHelpWidth: () => width });
  await program.parseAsync(args, { from: 'user' }).catch((error: unknown) => {
    if (typeof (error as { exitCode?: unknown }).exitCode !== 'number') throw error;
  });
  return text;
}

function answersOf(bin: Bin): QuickAnswers {
  return JSON.parse(fs.readFileSync(helpFileOf(pathToFileURL(bin.main).href), 'utf8')) as QuickAnswers;
}

/** A stand-in terminal of `columns` columns (or a pipe), collecting what is written. */
function stream(columns: number | undefined) {
  const written: string[] = [];
  const fake = { isTTY: columns !== undefined, columns, write: (text: string) => written.push(text) > 0 };
  return { stream: fake as unknown as NodeJS.WriteStream, text: () => written.join('') };
}

beforeAll(() => assertBuilt());

describe.each(bins)('$name answers quickly exactly what commander prints', (bin) => {
  it.each(bin.quick.map((args) => [args.join(' ') || '(no arguments)', args]))('%s', (_name, args) => {
    const quick = run([bin.main, ...(args as string[])]);
    expect(quick).toEqual(throughCommander(bin, args as string[]));
    expect(quick.stdout + quick.stderr).not.toBe('');
  });

  it('chooses, for a terminal of any width, commander’s rendering at that width or none', async () => {
    const answers = answersOf(bin);
    expect(answers.version).toBe(PACKAGE_VERSION);
    const forms: Array<[string[], NonNullable<QuickAnswers['help']>]> = [[['--help'], answers.help]];
    if (answers.helpWithoutArguments) forms.push([[], answers.helpWithoutArguments]);
    for (const [args, help] of forms) {
      const widths = [40, 79, 80, 81, 120, help.unwrappedFrom - 1, help.unwrappedFrom, help.unwrappedFrom + 1, 1000];
      for (const width of widths) {
        const chosen = helpFor(help, width);
        if (chosen !== undefined) expect(chosen, `${bin.name} ${args.join(' ')} at ${width} columns`).toBe(await commanderAt(bin, args, width));
      }
      // A width between the two renderings has none: commander answers there.
      expect(help.unwrappedFrom).toBeGreaterThan(81);
      expect(helpFor(help, 81)).toBeUndefined();
    }
  });

  it('writes help to a terminal at its width, and leaves other widths to commander', async () => {
    const file = helpFileOf(pathToFileURL(bin.main).href);
    const wide = answersOf(bin).help.unwrappedFrom + 10;
    const out = stream(wide);
    expect(quickAnswer(['--help'], { file, version: PACKAGE_VERSION, usageExit: 2, stdout: out.stream, stderr: stream(undefined).stream })).toBe(0);
    expect(out.text()).toBe(await commanderAt(bin, ['--help'], wide));
    const narrow = stream(60);
    expect(quickAnswer(['-h'], { file, version: PACKAGE_VERSION, usageExit: 2, stdout: narrow.stream, stderr: stream(undefined).stream })).toBeUndefined();
    expect(narrow.text()).toBe('');
  });
});

describe('quickAnswer leaves to commander what it cannot answer exactly', () => {
  const answers: QuickAnswers = { version: PACKAGE_VERSION, help: { at80: 'help at 80\n', unwrapped: 'help\n', unwrappedFrom: 5 } };
  const file = (content: QuickAnswers) => {
    const target = path.join(tempDir('quick-answer-'), 'help.json');
    fs.writeFileSync(target, JSON.stringify(content));
    return pathToFileURL(target);
  };

  it('answers nothing but the exact flags, alone', () => {
    for (const args of [['--help', 'supervise'], ['supervise', '--help'], ['--db', 'x', '--version'], ['--versions'], ['-hV']]) {
      const out = stream(undefined);
      expect(quickAnswer(args, { file: file(answers), version: PACKAGE_VERSION, usageExit: 2, stdout: out.stream, stderr: out.stream }), args.join(' ')).toBeUndefined();
      expect(out.text()).toBe('');
    }
  });

  it('ignores help rendered by another build, a missing file, and no-argument help it was not given', () => {
    const out = stream(undefined);
    const options = { usageExit: 2, stdout: out.stream, stderr: out.stream };
    expect(quickAnswer(['--help'], { ...options, file: file({ ...answers, version: '0.0.0-other' }), version: PACKAGE_VERSION })).toBeUndefined();
    expect(quickAnswer(['--help'], { ...options, file: pathToFileURL(path.join(tempDir('quick-answer-'), 'missing.json')), version: PACKAGE_VERSION })).toBeUndefined();
    expect(quickAnswer([], { ...options, file: file(answers), version: PACKAGE_VERSION })).toBeUndefined();
    expect(out.text()).toBe('');
    expect(quickAnswer(['--help'], { ...options, file: file(answers), version: PACKAGE_VERSION })).toBe(0);
    expect(out.text()).toBe('help at 80\n');
  });
});
