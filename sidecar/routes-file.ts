import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseRoutesYaml } from '../src/kinds/routes-file.js';
import { sha256 } from '../src/core/hash.js';
import { SuperviseError } from '../src/core/errors.js';

export const RELOAD_TIMEOUT_MS = 30_000;
const NEW_FILE_MODE = 0o644;
/** Enough of a failing reload's output to say why, bounded so it fits in a response's notes. */
const OUTPUT_EXCERPT_CHARS = 2000;

export interface AppliedRoutes {
  file: string;
  sha256: string;
  routeCount: number;
  /** The reload command that ran, as shown to people; undefined when none is configured. */
  reloaded: string | undefined;
}

export interface ApplyRoutesOptions {
  signal?: AbortSignal;
  /**
   * sha256 the live file must still have (that of the empty text when it must not exist yet).
   * Checked right before the replace, so a file changed since the caller read it is not
   * overwritten: a `SuperviseError('conflict')` is thrown and nothing is written.
   */
  expectedHash?: string;
}

/**
 * Validates `yaml`, replaces `file` atomically (temp file + fsync + rename in its directory, so the
 * proxy never reads half a file), then runs the reload command without a shell. When the reload
 * fails the previous file is restored, since the proxy still runs it. Throws `SuperviseError`
 * (`invalid-payload`) for an invalid file, (`conflict`) when the live file is no longer the one
 * expected, and (`reload-failed`) for a failed reload.
 */
export async function applyRoutesFile(file: string, yaml: string, reloadCommand: string[] | undefined, options: ApplyRoutesOptions = {}): Promise<AppliedRoutes> {
  const { signal, expectedHash } = options;
  const routes = parseRoutesYaml(yaml);
  const previous = await readIfExists(file);
  if (expectedHash !== undefined && sha256(previous?.text ?? '') !== expectedHash) {
    throw new SuperviseError('conflict', `the live routes file ${file} changed while the new one was being prepared; nothing was written.`);
  }
  await writeAtomically(file, yaml, previous?.mode);
  if (!reloadCommand) return { file, sha256: sha256(yaml), routeCount: routes.routes.length, reloaded: undefined };

  const shown = reloadCommand.join(' ');
  try {
    await run(reloadCommand, signal);
  } catch (error) {
    if (previous) await writeAtomically(file, previous.text, previous.mode);
    else await fs.rm(file, { force: true });
    if (signal?.aborted) throw error;
    const restored = previous ? 'the previous routes file was restored' : 'the new routes file was removed again';
    throw new SuperviseError('reload-failed', `the reload command \`${shown}\` failed (${describeFailure(error)}); ${restored}.`);
  }
  return { file, sha256: sha256(yaml), routeCount: routes.routes.length, reloaded: shown };
}

async function readIfExists(file: string): Promise<{ text: string; mode: number } | undefined> {
  try {
    const [text, stat] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    return { text, mode: stat.mode & 0o7777 };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeAtomically(file: string, text: string, mode = NEW_FILE_MODE): Promise<void> {
  const directory = path.dirname(file);
  const temp = path.join(directory, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', mode);
  try {
    await handle.writeFile(text, 'utf8');
    await handle.chmod(mode);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  // The rename is only durable once the directory entry is on disk.
  const dir = await fs.open(directory, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

function run(argv: string[], signal?: AbortSignal): Promise<void> {
  const [program, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    execFile(program, args, { timeout: RELOAD_TIMEOUT_MS, maxBuffer: 1024 * 1024, ...(signal ? { signal } : {}) }, (error, _stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderrText: String(stderr) }));
      else resolve();
    });
  });
}

function describeFailure(error: unknown): string {
  const failure = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; stderrText?: string; code?: string | number };
  const output = failure.stderrText?.trim().slice(-OUTPUT_EXCERPT_CHARS);
  if (failure.code === 'ENOENT') return 'program not found';
  if (failure.killed && failure.signal) return `stopped after ${RELOAD_TIMEOUT_MS / 1000} s`;
  const status = typeof failure.code === 'number' ? `exit code ${failure.code}` : failure.signal ? `killed by ${failure.signal}` : failure.message;
  return output ? `${status}: ${output}` : status;
}
