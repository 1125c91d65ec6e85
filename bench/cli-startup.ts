/**
 * What starting a command costs against starting Node itself: `bot-bottle --version`, `--help`,
 * `supervise --once --json` on an empty database, and the sidecar from spawn to its ready line
 * and to serving calls (its first `/healthz` answer, which waits for the warm-up after `ready`),
 * each run N times interleaved with `node -e 0` (every round runs every command once, in a rotated
 * order) so that load on the machine falls on all of them alike. Each command's wall time (p50)
 * and CPU time (user + system, mean) are divided by those of `node -e 0` from the same run.
 *
 *   tsx bench/cli-startup.ts [--quick]       needs the built CLI and sidecar (npm run build)
 *
 * BENCH_NODE=/path/to/node runs the commands under another Node binary instead of this one; only
 * the commands that open no database run then (the native better-sqlite3 build belongs to one
 * Node ABI).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBottleKeys, ensureHostKeyPair } from '../src/keys/key-files.js';
import { runBench } from './lib/cli.js';
import { createDatabase } from './lib/fixtures.js';
import { ms, ratio, type Table } from './lib/format.js';
import { CLI } from './lib/measured-cli.js';
import { BENCH_DIR } from './lib/results.js';
import { distribution, type Distribution } from './lib/stats.js';

const SIDECAR = path.join(BENCH_DIR, '..', 'dist', 'bin', 'bot-bottle-sidecar.js');
const SLUG = 'bench-startup';

interface Command {
  label: string;
  args: string[];
  /** The ratio to `node -e 0` this command is held to (issue 11), if any. */
  target?: number;
  opensDatabase: boolean;
  /** Resolves when the command counts as started: its exit, or a line on stdout (then it is stopped). */
  readyLine?: RegExp;
  /** With `readyLine` (whose first group is the MCP URL): started only once `/healthz` at that URL has answered, i.e. when calls are served. */
  untilServing?: boolean;
}

interface Sample {
  wallMs: number;
  cpuMs: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time of every child this process has reaped (user + system, ms), from /proc/self/stat's
 * cutime and cstime: the child's own accounting, so nothing the harness does is counted. The
 * unit is a clock tick (10 ms), so single runs are coarse and only the mean of many is reported.
 */
function reapedChildrenCpuMs(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5); the slice starts at field 3.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

function runOnce(node: string, command: Command, env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const cpuBefore = reapedChildrenCpuMs();
    const started = performance.now();
    const child = spawn(node, command.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let readyAt: number | undefined;
    let stdout = '';
    let stderr = '';
    let seen = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const ready = command.readyLine?.exec(stdout);
      if (!ready || seen) return;
      seen = true;
      const started = (): void => {
        readyAt = performance.now();
        child.kill('SIGTERM');
      };
      if (!command.untilServing) return started();
      // The sidecar answers /healthz once it serves calls (docs/SIDECAR.md): after its warm-up.
      fetch(`${(ready[1] as string).replace(/\/mcp$/, '')}/healthz`).then(
        (response) => {
          if (response.ok) return started();
          child.kill('SIGTERM');
          reject(new Error(`${command.label}: /healthz answered ${response.status}`));
        },
        (error: unknown) => {
          child.kill('SIGTERM');
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ended = readyAt ?? performance.now();
      if (command.readyLine ? readyAt === undefined : code !== 0) return reject(new Error(`${command.label} exited ${code} without succeeding: ${stderr}`));
      resolve({ wallMs: ended - started, cpuMs: reapedChildrenCpuMs() - cpuBefore });
    });
  });
}

await runBench('cli-startup', async ({ quick, dir }) => {
  for (const file of [CLI, SIDECAR]) if (!fs.existsSync(file)) throw new Error(`${file} is missing; run \`npm run build\` first.`);
  const node = process.env.BENCH_NODE ?? process.execPath;
  const nodeVersion = (await new Promise<string>((resolve) => {
    const child = spawn(node, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('close', () => resolve(out.trim()));
  })) as string;
  const rounds = quick ? 5 : 20;
  const warmup = 2;

  // Everything the commands touch lives under a throwaway HOME: keys, the default layout.
  const home = path.join(dir, 'home');
  fs.mkdirSync(home, { mode: 0o700 });
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, SUPERVISE_BOTTLE_SLUG: SLUG };
  const shared = path.join(dir, 'supervise');
  fs.mkdirSync(shared, { mode: 0o700 });
  const db = await createDatabase(shared, 'bot-bottle.db');
  const keysDir = ensureBottleKeys(SLUG, ensureHostKeyPair(path.join(home, '.bot-bottle', 'keys')), path.join(home, '.bot-bottle', 'keys'));

  const baseline: Command = { label: 'node -e 0', args: ['-e', '0'], opensDatabase: false };
  const all: Command[] = [
    baseline,
    { label: 'bot-bottle --version', args: [CLI, '--version'], target: 1.5, opensDatabase: false },
    { label: 'bot-bottle --help', args: [CLI, '--help'], target: 1.5, opensDatabase: false },
    { label: 'bot-bottle supervise --help', args: [CLI, 'supervise', '--help'], opensDatabase: false },
    { label: 'bot-bottle supervise --once --json (empty database)', args: [CLI, '--db', db, 'supervise', '--once', '--json'], target: 2.5, opensDatabase: true },
    { label: 'bot-bottle-sidecar --version', args: [SIDECAR, '--version'], opensDatabase: false },
    {
      label: 'bot-bottle-sidecar serve, spawn to ready',
      args: [SIDECAR, 'serve', '--db', db, '--keys-dir', keysDir, '--port', '0', '--host', '127.0.0.1'],
      target: 3,
      opensDatabase: true,
      readyLine: /^ready (http:\S+)$/m,
    },
    {
      label: 'bot-bottle-sidecar serve, spawn to serving (/healthz answered)',
      args: [SIDECAR, 'serve', '--db', db, '--keys-dir', keysDir, '--port', '0', '--host', '127.0.0.1'],
      opensDatabase: true,
      readyLine: /^ready (http:\S+)$/m,
      untilServing: true,
    },
  ];
  const commands = node === process.execPath ? all : all.filter((command) => !command.opensDatabase);

  const samples = new Map<Command, Sample[]>(commands.map((command) => [command, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    // Rotating the order spreads any drift in the machine's load evenly over the commands.
    for (let i = 0; i < commands.length; i++) {
      const command = commands[(round + i) % commands.length] as Command;
      const sample = await runOnce(node, command, env);
      if (round >= warmup) samples.get(command)?.push(sample);
    }
    process.stdout.write(`\r  round ${round + 1} / ${warmup + rounds}`);
  }
  process.stdout.write('\n');

  const summary = commands.map((command) => {
    const runs = samples.get(command) ?? [];
    return { command, wall: distribution(runs.map((s) => s.wallMs)), cpuMeanMs: runs.reduce((sum, s) => sum + s.cpuMs, 0) / runs.length };
  });
  const base = summary[0] as { wall: Distribution; cpuMeanMs: number };
  const table: Table = {
    title: `Start-up against \`node -e 0\` (Node ${nodeVersion}, ${rounds} interleaved rounds after ${warmup} warm-up rounds)`,
    columns: ['command', 'wall p50 ms', 'wall p90 ms', 'CPU mean ms', 'wall ratio', 'CPU ratio', 'target'],
    rows: summary.map(({ command, wall, cpuMeanMs }) => [
      command.label,
      ms(wall.p50, 1),
      ms(wall.p90, 1),
      ms(cpuMeanMs, 0),
      ratio(wall.p50 / base.wall.p50),
      ratio(cpuMeanMs / base.cpuMeanMs),
      command.target === undefined ? '' : `≤ ${command.target}×`,
    ]),
  };
  return {
    params: { rounds, warmup, node, nodeVersion },
    tables: [table],
    targets: summary
      .filter(({ command }) => command.target !== undefined)
      .map(({ command, wall }) => {
        const got = wall.p50 / base.wall.p50;
        return { name: `${command.label}, wall p50 / node -e 0`, target: `≤ ${command.target}×`, actual: ratio(got), met: got <= (command.target as number) };
      }),
    notes: [
      'Wall: from spawn to exit (the sidecar: to its `ready` line on stdout, or to its first `/healthz` answer, which waits for the warm-up after `ready`; then it is stopped). CPU: user + system of the child as the kernel accounted it (/proc/self/stat cutime + cstime, 10 ms ticks), for the sidecar including its warm-up and shutdown.',
      `The database commands run on a freshly migrated empty database under a throwaway HOME.${node === process.execPath ? '' : ' Under BENCH_NODE only the commands that open no database ran.'}`,
    ],
    data: { summary: summary.map(({ command, wall, cpuMeanMs }) => ({ label: command.label, wall, cpuMeanMs })) },
  };
});
