/**
 * Colour follows FORCE_COLOR, NO_COLOR (only when non-empty, as no-color.org says) and whether the
 * stream is a terminal, the same way for stdout and stderr: the built CLI, on a pipe and on a real
 * pseudo-terminal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, runCliOnTerminal, runFixture, type CliRun } from './fixtures/cli-support.js';
import { tempDir } from './fixtures/storage-support.js';

let home: string;
let dbFile: string;

beforeAll(async () => {
  assertBuilt();
  home = tempDir('cli-color');
  dbFile = path.join(home, 'supervise.db');
  const seed = await runFixture('cli-seed.ts', [dbFile, '3'], { home });
  expect(seed.code, seed.stderr).toBe(0);
});

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const GREEN_ADDED_LINE = '\u001b[32m+';
const ANY_COLOUR = '\u001b[3';

async function show(on: 'pipe' | 'terminal', env: Record<string, string | undefined>): Promise<CliRun> {
  const args = ['--db', dbFile, 'audit', 'show', '3'];
  const run = on === 'pipe' ? await runCli(args, { home, env }) : await runCliOnTerminal(args, { home, env });
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toContain('+  - host: api2.example.com');
  return run;
}

describe('colour', () => {
  it.each([
    { on: 'terminal', env: {}, coloured: true },
    { on: 'terminal', env: { NO_COLOR: '' }, coloured: true },
    { on: 'terminal', env: { NO_COLOR: '1' }, coloured: false },
    { on: 'terminal', env: { FORCE_COLOR: '0' }, coloured: false },
    { on: 'pipe', env: {}, coloured: false },
    { on: 'pipe', env: { FORCE_COLOR: '' }, coloured: false },
    { on: 'pipe', env: { FORCE_COLOR: 'false' }, coloured: false },
    { on: 'pipe', env: { FORCE_COLOR: '1' }, coloured: true },
    { on: 'pipe', env: { FORCE_COLOR: '1', NO_COLOR: '1' }, coloured: true },
    { on: 'pipe', env: { TERM: 'dumb', FORCE_COLOR: '3' }, coloured: true },
  ] as const)('on a $on with $env: coloured $coloured', async ({ on, env, coloured }) => {
    const run = await show(on, env);
    if (coloured) expect(run.stdout).toContain(GREEN_ADDED_LINE);
    else expect(run.stdout).not.toContain(ANY_COLOUR);
  });

  it('the error line on stderr follows the same rules', async () => {
    const forced = await runCli(['--db', dbFile, 'audit', 'show', '99'], { home, env: { FORCE_COLOR: '1' } });
    expect(forced.code).toBe(3);
    expect(forced.stderr.startsWith('\u001b[31mbot-bottle:\u001b[39m there is no audit entry 99')).toBe(true);
    const plain = await runCli(['--db', dbFile, 'audit', 'show', '99'], { home, env: { NO_COLOR: 'yes' } });
    expect(plain.stderr).toMatch(/^bot-bottle: there is no audit entry 99/);
  });
});
