import fs from 'node:fs';
import path from 'node:path';

export interface FileHolder {
  pid: number;
  /** The process's command line, for the message that asks the user to stop it. */
  command: string;
  file: string;
}

/**
 * Which processes have any of `files` open, found through /proc/<pid>/fd (Linux). Files are
 * matched by device and inode, so a process that opened them through another path (a link, a
 * bind mount in a container on this kernel) is found too. Processes whose fds we may not read
 * belong to other users, who cannot open a 0600 file of ours anyway.
 */
export function processesHolding(files: string[]): FileHolder[] {
  const wanted = new Map<string, string>();
  for (const file of files) {
    const stat = fs.statSync(file, { throwIfNoEntry: false });
    if (stat) wanted.set(`${stat.dev}:${stat.ino}`, file);
  }
  if (wanted.size === 0) return [];
  const holders: FileHolder[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const fdDir = path.join('/proc', entry, 'fd');
    const seen = new Set<string>();
    for (const fd of safeReaddir(fdDir)) {
      const stat = safeStat(path.join(fdDir, fd));
      const file = stat ? wanted.get(`${stat.dev}:${stat.ino}`) : undefined;
      if (file !== undefined && !seen.has(file)) {
        seen.add(file);
        holders.push({ pid, command: commandLine(pid), file });
      }
    }
  }
  return holders;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    // The process exited while we looked, or is not ours to inspect.
    return [];
  }
}

function safeStat(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    const text = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return text.length > 120 ? `${text.slice(0, 119)}…` : text;
  } catch {
    return '(exited)';
  }
}
