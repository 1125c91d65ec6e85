import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../common.js';
import { VERB_EXIT } from '../../core/exit-codes.js';
import { packageRoot } from '../../core/package-root.js';

const READY_LINE = /^ready (http:\/\/\S+)$/m;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
/** Enough of the sidecar's log to say why it failed, without keeping an unbounded buffer. */
const LOG_TAIL_CHARS = 4_000;

export interface SidecarStart {
  dbPath: string;
  /** The bottle's key directory, as prepareSupervise makes it (outside a container the sidecar is told where). */
  keysDir: string;
  slug: string;
  responseTimeoutSeconds: number;
  /** The live routes file the sidecar diffs proposals against. */
  routesFile: string;
}

export interface RunningSidecar {
  url: string;
  /** What the sidecar wrote to stderr so far (the tail), for error messages. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * How to run the sidecar that ships with this CLI: the built one next to a built CLI, or its
 * sources through tsx when the CLI itself runs from sources (development, tests).
 */
export function sidecarCommand(): string[] {
  const root = packageRoot();
  if (import.meta.url.endsWith('.ts')) return ['--import', 'tsx', path.join(root, 'sidecar', 'main.ts')];
  const built = path.join(root, 'dist', 'bin', 'bot-bottle-sidecar.js');
  if (!fs.existsSync(built)) {
    throw new UserError(`the sidecar is not built (${built} is missing). Run \`npm run build\` first.`, VERB_EXIT.environment);
  }
  return [built];
}

/** Starts a sidecar for `slug` on a free loopback port and resolves once it prints its URL. */
export async function startSidecar(options: SidecarStart): Promise<RunningSidecar> {
  const child = spawn(process.execPath, [...sidecarCommand(), 'serve', '--db', options.dbPath, '--keys-dir', options.keysDir, '--port', '0', '--host', '127.0.0.1'], {
    env: {
      ...process.env,
      SUPERVISE_BOTTLE_SLUG: options.slug,
      SUPERVISE_RESPONSE_TIMEOUT_SECONDS: String(options.responseTimeoutSeconds),
      SUPERVISE_ROUTES_FILE: options.routesFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-LOG_TAIL_CHARS);
  });
  const sidecar = {
    log: () => stderr.trim(),
    stop: () => stopChild(child),
  };
  try {
    const url = await waitForReady(child, () => stderr.trim());
    return { ...sidecar, url };
  } catch (error) {
    await sidecar.stop();
    throw error;
  }
}

function waitForReady(child: ChildProcess, log: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const fail = (why: string): void => {
      cleanup();
      reject(new UserError(`the sidecar did not start: ${why}.${log() ? ` Its log:\n${log()}` : ''}`, VERB_EXIT.environment));
    };
    const onData = (chunk: string): void => {
      stdout += chunk;
      const ready = READY_LINE.exec(stdout);
      if (ready?.[1]) {
        cleanup();
        resolve(ready[1]);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`it exited with ${code === null ? `signal ${String(signal)}` : `status ${code}`}`);
    const onError = (error: Error): void => fail(error.message);
    const timer = setTimeout(() => fail(`no "ready" line within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.stdout?.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** SIGTERM (the sidecar drains and closes), then SIGKILL if it takes too long. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
