/**
 * `audit verify` shows its progress on stderr when stderr is a terminal (a real pseudo-terminal),
 * and nothing at all when it is not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, runCliOnTerminal, runFixture } from './fixtures/cli-support.js';
import { tempDir } from './fixtures/storage-support.js';

let home: string;
let dbFile: string;

beforeAll(async () => {
  assertBuilt();
  home = tempDir('cli-audit-progress');
  dbFile = path.join(home, 'supervise.db');
  const fill = await runFixture('cli-audit-fill.ts', [dbFile, '3000'], { home });
  expect(fill.code, fill.stderr).toBe(0);
});

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('audit verify progress', () => {
  it('draws a bar through the chain on a terminal, then the verdict', async () => {
    const run = await runCliOnTerminal(['--db', dbFile, 'audit', 'verify'], { home, env: { NO_COLOR: '1' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/checking the audit chain \[[█░]+\] \d+% \| entry \d+\/3000/);
    expect(run.stdout).toContain('The audit chain is intact: 3000 entries.');
  });

  it('writes nothing to stderr when it is not a terminal, with or without --json', async () => {
    const plain = await runCli(['--db', dbFile, 'audit', 'verify'], { home });
    expect(plain).toMatchObject({ code: 0, stderr: '' });
    expect(plain.stdout).toContain('The audit chain is intact: 3000 entries.');
    const json = await runCli(['--db', dbFile, 'audit', 'verify', '--json'], { home });
    expect(json).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, head: { count: 3000 } });
  });
});
