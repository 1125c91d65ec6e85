import { spawn } from 'node:child_process';
import path from 'node:path';
import { BENCH_DIR } from './results.js';

/** The built CLI, as an operator runs it (the benchmarks need `npm run build` first). */
export const CLI = path.join(BENCH_DIR, '..', 'dist', 'bin', 'bot-bottle.js');

/** Reports the child's peak resident memory (KiB, from getrusage) on stderr as it exits. */
const MAXRSS_HOOK = 'data:text/javascript,process.on("exit",()=>process.stderr.write(`maxrss ${process.resourceUsage().maxRSS}\\n`))';

export interface MeasuredRun {
  seconds: number;
  maxRssMiB: number;
  stdout: string;
}

/** Runs `bot-bottle ARGS` as a child; rejects unless it exits 0. `stdout: 'ignore'` for large output. */
export function runMeasuredCli(label: string, args: string[], options: { nodeFlags?: string[]; stdout?: 'pipe' | 'ignore' } = {}): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', MAXRSS_HOOK, CLI, ...args], { stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const maxRss = /maxrss (\d+)/.exec(stderr);
      if (code !== 0 || !maxRss) return reject(new Error(`${label} exited ${code}: ${stderr}`));
      resolve({ seconds, maxRssMiB: Number(maxRss[1]) / 1024, stdout });
    });
  });
}
