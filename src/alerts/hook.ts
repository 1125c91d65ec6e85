import { spawn } from 'node:child_process';

/** How a hook run ended: `ok` is exit 0 within the timeout. */
export interface HookResult {
  ok: boolean;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Why it could not start (ENOENT: no such command), if it did not. */
  spawnError: string | undefined;
  /** The end of what it wrote to stderr, for the operator's log. */
  stderr: string;
}

const STDERR_TAIL = 2_000;
const KILL_GRACE_MS = 2_000;

/**
 * Runs the operator's hook: argv without a shell (nothing in the summary can become a command),
 * `input` as JSON on stdin, stopped with SIGTERM (then SIGKILL) after `timeoutMs`.
 */
export function runHook(argv: readonly string[], input: unknown, timeoutMs: number): Promise<HookResult> {
  const [command, ...args] = argv;
  return new Promise((resolve) => {
    if (command === undefined) {
      resolve({ ok: false, code: null, signal: null, timedOut: false, spawnError: 'no command', stderr: '' });
      return;
    }
    const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    let spawnError: string | undefined;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    // A hook that exits without reading its stdin must not fail the run.
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${JSON.stringify(input)}\n`);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
    }, timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error.code ?? error.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ ok: code === 0 && !timedOut && spawnError === undefined, code, signal, timedOut, spawnError, stderr: stderr.trim() });
    });
  });
}

export function describeHookResult(result: HookResult): string {
  if (result.spawnError !== undefined) return `could not start (${result.spawnError}); check notify.hook in the settings names an executable`;
  if (result.timedOut) return 'timed out and was stopped; make it return sooner or raise notify.hookTimeoutSeconds';
  if (result.ok) return 'ok';
  const how = result.signal !== null ? `was killed by ${result.signal}` : `exited ${String(result.code)}`;
  return `${how}${result.stderr === '' ? '' : `: ${result.stderr.split('\n').at(-1) ?? ''}`}`;
}
