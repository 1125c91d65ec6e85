import fs from 'node:fs';
import { SuperviseError } from '../core/errors.js';
import { SIDE_FILE_SUFFIXES } from '../storage/database-file.js';

/** A file being written under a temporary name, renamed over its target only once it is complete. */
export interface PartialFile {
  readonly path: string;
  /** Open for writing, and closed by `writeThroughPartial`: a stream on it must not close it (autoClose: false). */
  readonly fd: number;
}

/** Ctrl-C, a polite kill, and the terminal going away: each ends the process, so none may leave the partial file. */
const INTERRUPTIONS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Writes `target` by way of `partialPath`: created exclusively and without following a link
 * (O_EXCL|O_NOFOLLOW, so neither a leftover nor a link someone planted under that name is written
 * through), mode 0600 whatever the umask (exports and backups hold what agents asked for and why),
 * renamed over `target` only when `write` succeeds, and removed, with any SQLite side files, when
 * it fails or the user interrupts (Ctrl-C, SIGTERM, a closed terminal's SIGHUP); the process then
 * ends by that signal, so a shell sees the conventional 130, 143 or 129.
 */
export async function writeThroughPartial<T>(target: string, partialPath: string, write: (partial: PartialFile) => Promise<T>): Promise<T> {
  let fd: number | undefined;
  let created = false;
  const close = (): void => {
    if (fd !== undefined) fs.closeSync(fd);
    fd = undefined;
  };
  const discard = (): void => {
    close();
    if (created) for (const file of [partialPath, ...SIDE_FILE_SUFFIXES.map((suffix) => `${partialPath}${suffix}`)]) fs.rmSync(file, { force: true });
    created = false;
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
  // Listening before the file exists: a Ctrl-C the moment it appears still finds it removed.
  for (const signal of INTERRUPTIONS) process.once(signal, onInterrupt);
  try {
    const opened = createExclusively(partialPath, target);
    fd = opened;
    created = true;
    const result = await write({ path: partialPath, fd: opened });
    // On disk before it takes the target's name: a crash then leaves the old file or the new one.
    fs.fsyncSync(opened);
    close();
    fs.renameSync(partialPath, target);
    created = false;
    return result;
  } catch (error) {
    discard();
    throw error;
  } finally {
    stopListening();
  }
}

function createExclusively(partialPath: string, target: string): number {
  try {
    return fs.openSync(partialPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
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
}
