import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { renderText, type Table } from './format.js';

export const BENCH_DIR = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

export interface TargetCheck {
  name: string;
  target: string;
  actual: string;
  met: boolean;
}

export interface BenchResult {
  name: string;
  quick: boolean;
  startedAt: string;
  durationS: number;
  machine: MachineInfo;
  params: Record<string, unknown>;
  tables: Table[];
  targets: TargetCheck[];
  notes: string[];
  /** Raw numbers behind the tables, for anyone who wants to recompute. */
  data: Record<string, unknown>;
}

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  sqlite: string;
  betterSqlite3: string;
  kernel: string;
  filesystem: string;
  loadAverage: number[];
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return db.prepare('SELECT sqlite_version()').pluck().get() as string;
  } finally {
    db.close();
  }
}

function packageVersion(name: string): string {
  const file = path.join(BENCH_DIR, '..', 'node_modules', name, 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

function filesystemOf(dir: string): string {
  try {
    return execFileSync('df', ['--output=fstype', dir], { encoding: 'utf8' }).trim().split('\n').at(-1) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function machineInfo(dbDir: string = os.tmpdir()): MachineInfo {
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    sqlite: sqliteVersion(),
    betterSqlite3: packageVersion('better-sqlite3'),
    kernel: os.release(),
    filesystem: `${filesystemOf(dbDir)} (${dbDir})`,
    loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** Prints the tables and target checks, and writes bench/results/<name>.json. */
export function report(result: BenchResult): string {
  for (const table of result.tables) console.log(`\n${renderText(table)}`);
  if (result.targets.length > 0) {
    console.log('\nTargets');
    for (const t of result.targets) console.log(`  ${t.met ? 'MET   ' : 'MISSED'} ${t.name}: target ${t.target}, got ${t.actual}`);
  }
  for (const note of result.notes) console.log(`  note: ${note}`);
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.name}.json`);
  fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);
  return file;
}
