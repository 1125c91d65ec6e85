import fs from 'node:fs';
import { SuperviseError } from '../core/errors.js';
import { SIDE_FILE_SUFFIXES } from '../storage/database-file.js';

/** A file being written under a temporary name, renamed over its target only once it is complete. */
export interface PartialFile {
  readonly path: string;
  /** Open for writing, and closed by `writeThroughPartial`: a stream on it must not close it (autoClose: false). */
  readonly fd: number;
}

const INTERRUPTIONS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/**
 * Writes `target` by way of `partialPath`: created exclusively and without following a link
 * (O_EXCL|O_NOFOLLOW, so neither a leftover nor a link someone planted under that name is written
 * through), mode 0600 whatever the umask (exports and backups hold what agents asked for and why),
 * renamed over `target` only when `write` succeeds, and removed, with any SQLite side files, when
 * it fails or the user interrupts (Ctrl-C, SIGTERM).
 */
export async function writeThroughPartial<T>(target: string, partialPath: string, write: (partial: PartialFile) => Promise<T>): Promise<T> {
  let fd: number;
  try {
    fd = fs.openSync(partialPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ELOOP') {
      throw new SuperviseError(
        'invalid-input',
        `${partialPath} already exists (a leftover of an interrupted run, or something put there), and ${target} is written by way of it. Remove it (rm ${partialPath}) and run the command again.`,
      );
    }
    throw error;
  }
  const partial = { path: partialPath, fd };
  let open = true;
  const close = (): void => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  const finish = (): void => {
    // On disk before it takes the target's name: a crash then leaves the old file or the new one.
    if (open) fs.fsyncSync(fd);
    close();
  };
  const discard = (): void => {
    close();
    for (const file of [partialPath, ...SIDE_FILE_SUFFIXES.map((suffix) => `${partialPath}${suffix}`)]) fs.rmSync(file, { force: true });
  };
  const onInterrupt = (signal: NodeJS.Signals): void => {
    discard();
    stopListening();
    // The default action again, now that nothing is left behind: the process ends by the signal.
    process.kill(process.pid, signal);
  };
  const stopListening = (): void => {
    for (const signal of INTERRUPTIONS) process.off(signal, onInterrupt);
  };
  for (const signal of INTERRUPTIONS) process.once(signal, onInterrupt);
  try {
    const result = await write(partial);
    finish();
    fs.renameSync(partialPath, target);
    return result;
  } catch (error) {
    discard();
    throw error;
  } finally {
    stopListening();
  }
}
