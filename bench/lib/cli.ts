import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineInfo, report, type BenchResult } from './results.js';

export interface BenchContext {
  quick: boolean;
  /** A fresh temporary directory for this benchmark's databases, removed afterwards. */
  dir: string;
}

export type BenchBody = (context: BenchContext) => Promise<Omit<BenchResult, 'name' | 'quick' | 'startedAt' | 'durationS' | 'machine'>>;

export function parseQuick(argv: readonly string[]): boolean {
  const unknown = argv.filter((arg) => arg !== '--quick');
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(' ')}. The only option is --quick (reduced sizes for a smoke run).`);
    process.exit(2);
  }
  return argv.includes('--quick');
}

/** Runs one benchmark script: temp dir, timing, machine info, report, cleanup, exit code. */
export async function runBench(name: string, body: BenchBody): Promise<void> {
  const quick = parseQuick(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bb-bench-${name}-`));
  const startedAt = new Date();
  console.log(`# ${name}${quick ? ' (--quick)' : ''}  [${dir}]`);
  try {
    const machine = machineInfo(dir);
    const partial = await body({ quick, dir });
    report({ name, quick, startedAt: startedAt.toISOString(), durationS: Math.round((Date.now() - startedAt.getTime()) / 100) / 10, machine, ...partial });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
