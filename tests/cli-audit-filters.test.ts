/**
 * `audit list|export` filters on labels (--status, --action, --component, --kind): a value that no
 * entry has and bot-bottle never writes is a usage error (exit 2) listing the values there are,
 * writing nothing; a value the log holds, or one this build writes, is an ordinary filter.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHostDatabase } from '../src/database.js';
import { assertBuilt, runCli, runFixture, type CliRun } from './fixtures/cli-support.js';
import { tempDir } from './fixtures/storage-support.js';

let home: string;
let dbFile: string;

const cli = (...args: string[]): Promise<CliRun> => runCli(['--db', dbFile, ...args], { home });

beforeAll(async () => {
  assertBuilt();
  home = tempDir('cli-audit-filters');
  dbFile = path.join(home, 'supervise.db');
  const seed = await runFixture('cli-seed.ts', [dbFile, '3'], { home });
  expect(seed.code, seed.stderr).toBe(0);
  // A launcher's own entry, with labels bot-bottle itself never writes.
  const database = await openHostDatabase({ path: dbFile, watch: false });
  try {
    await database.audit.writeAuditEntry('acme', { component: 'launcher', action: 'bottle-started', actor: 'launcher', status: 'started', kind: 'vm-image' });
  } finally {
    await database.close();
  }
});

afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('audit filters on labels', () => {
  it.each([
    ['--status', 'aproved', ['approved', 'cancelled', 'expired', 'modified', 'rejected', 'started']],
    ['--action', 'decision', ['bottle-started', 'expired', 'proposal-decision', 'routes-stale']],
    ['--component', 'gitgate', ['egress', 'git-gate', 'launcher']],
    ['--kind', 'egress', ['egress-allow', 'gitleaks-allow', 'vm-image']],
  ])('audit list %s %s is a usage error naming the values there are', async (flag, typo, listed) => {
    const run = await cli('audit', 'list', flag, typo);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`bot-bottle: ${flag} "${typo}" matches no audit entry, and bot-bottle never writes it. Use one of: `);
    const values = /Use one of: (.*)\.\n$/.exec(run.stderr)?.[1]?.split(', ') ?? [];
    expect(values).toEqual(expect.arrayContaining(listed));
    expect(values).toEqual([...values].sort());
  });

  it('accepts a value only the log holds, and one bot-bottle writes that the log has not yet', async () => {
    const launcher = await cli('audit', 'list', '--json', '--status', 'started', '--component', 'launcher', '--kind', 'vm-image', '--action', 'bottle-started');
    expect(launcher.code, launcher.stderr).toBe(0);
    expect((JSON.parse(launcher.stdout) as Array<{ seq: number }>).map((entry) => entry.seq)).toEqual([4]);

    const none = await cli('audit', 'list', '--status', 'expired');
    expect(none).toMatchObject({ code: 0, stdout: '' });
    expect(none.stderr).toContain('No audit entries match.');
  });

  it('audit export with a mistyped filter writes no file, partial or whole', async () => {
    const output = path.join(home, 'export.jsonl');
    const run = await cli('audit', 'export', '--status', 'rejectd', '--output', output);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--status "rejectd" matches no audit entry');
    expect(fs.readdirSync(home).filter((name) => name.startsWith('export'))).toEqual([]);

    const toStdout = await cli('audit', 'export', '--kind', 'egres-allow');
    expect(toStdout).toMatchObject({ code: 2, stdout: '' });
  });
});
