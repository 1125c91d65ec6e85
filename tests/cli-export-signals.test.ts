/**
 * An `audit export --output F` interrupted by a real signal (Ctrl-C's SIGINT, SIGTERM, a closed
 * terminal's SIGHUP) leaves neither F nor F.partial, and ends by that signal: the shell that ran it
 * sees the conventional 128 + the signal's number (130, 143, 129).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, CLI, killCliChildren, runFixture } from './fixtures/cli-support.js';
import { REPO_ROOT, tempDir } from './fixtures/storage-support.js';

let home: string;
let dbFile: string;

beforeAll(async () => {
  assertBuilt();
  home = tempDir('cli-export-signals');
  dbFile = path.join(home, 'supervise.db');
  const fill = await runFixture('cli-audit-fill.ts', [dbFile, '60000'], { home });
  expect(fill.code, fill.stderr).toBe(0);
});

afterEach(killCliChildren);
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

/**
 * Runs the export from sh, as a user's shell would, and sends `signal` to the CLI (not the shell)
 * once the partial file exists. Resolves with the status sh saw and what is left in `dir`.
 */
function interruptedExport(signal: NodeJS.Signals, dir: string): Promise<{ status: number; left: string[] }> {
  const output = path.join(dir, 'audit.jsonl');
  const script = '"$@" & cli=$!; echo "$cli"; wait "$cli"; echo "status=$?"';
  const shell = spawn('sh', ['-c', script, 'sh', process.execPath, CLI, '--db', dbFile, 'audit', 'export', '--output', output], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  shell.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return new Promise((resolve, reject) => {
    let sent = false;
    const watcher = fs.watch(dir, (_event, name) => {
      const pid = Number(stdout.split('\n')[0]);
      if (sent || name !== 'audit.jsonl.partial' || !fs.existsSync(path.join(dir, name)) || !Number.isInteger(pid) || pid === 0) return;
      sent = true;
      process.kill(pid, signal);
    });
    shell.once('error', reject);
    shell.once('close', () => {
      watcher.close();
      const status = /status=(\d+)/.exec(stdout)?.[1];
      if (!sent || status === undefined) reject(new Error(`the export was not interrupted (sent: ${sent}); sh printed ${JSON.stringify(stdout)}`));
      else resolve({ status: Number(status), left: fs.readdirSync(dir) });
    });
  });
}

describe('audit export --output, interrupted', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('by %s removes the partial file and ends with 128 + the signal', async (signal) => {
    const dir = fs.mkdtempSync(path.join(home, 'out-'));
    const { status, left } = await interruptedExport(signal, dir);
    expect(left).toEqual([]);
    expect(status).toBe(128 + os.constants.signals[signal]);
  });
});
