import fs from 'node:fs';
import path from 'node:path';
import { SuperviseError } from '../core/errors.js';

/** One line of `/proc/self/mountinfo`, fields in proc(5) order, escapes decoded. */
export interface MountinfoEntry {
  mountId: number;
  parentId: number;
  major: number;
  minor: number;
  /** Path inside the source filesystem that this mount exposes (a bind mount's origin). */
  root: string;
  mountPoint: string;
  mountOptions: string[];
  /** Propagation tags such as `shared:1` or `master:2`; often empty. */
  optionalFields: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Why the guard refuses; `not-linux` means mountinfo could not be read, so nothing could be checked. */
export type MountRefusalCause = 'file-mount' | 'vm-or-network-fs' | 'not-linux';

export type MountVerdict =
  | { ok: true; mountPoint: string; fsType: string }
  | { ok: false; cause: MountRefusalCause; message: string };

export type MountAccepted = Extract<MountVerdict, { ok: true }>;

/**
 * Filesystems on which SQLite's POSIX locks and the mmap'd -shm index are not coherent between
 * the host and the sidecar, because the file is served across a VM or network boundary:
 * - VM shares: virtiofs and fakeowner (Docker Desktop), 9p (WSL2 drvfs, QEMU, Lima),
 *   vboxsf (VirtualBox), prl_fs (Parallels), vmhgfs (VMware).
 * - Network filesystems: nfs, nfs4, cifs, smb3, smbfs, ceph, glusterfs, afs, lustre.
 * - All of FUSE (see `isRefusedFsType`).
 */
const REFUSED_FS_TYPES: ReadonlySet<string> = new Set([
  'virtiofs',
  'fakeowner',
  '9p',
  'vboxsf',
  'prl_fs',
  'vmhgfs',
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  'ceph',
  'glusterfs',
  'afs',
  'lustre',
]);

/**
 * FUSE is refused wholesale: its user-space server decides lock and mmap semantics, and the
 * common ones here (fuse.grpcfuse, fuse.sshfs, fuse.vmhgfs-fuse) forward across the boundary;
 * the guard cannot tell a local FUSE server from a remote one.
 */
function isRefusedFsType(fsType: string): boolean {
  const type = fsType.toLowerCase();
  const base = type.split('.', 1)[0] ?? type;
  return REFUSED_FS_TYPES.has(type) || base === 'fuse' || base === 'fuseblk';
}

/** The kernel escapes space, tab, newline and backslash as three-digit octal (`\040`). */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function splitOptions(field: string): string[] {
  return field === '' ? [] : field.split(',').map(unescapeOctal);
}

const INTEGER = /^\d+$/;
const DEVICE = /^(\d+):(\d+)$/;

/** Parses `/proc/<pid>/mountinfo` text as documented in proc(5). Blank lines are ignored. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const entries: MountinfoEntry[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const malformed = (why: string): Error =>
      new Error(`Malformed mountinfo line ${index + 1} (${why}): ${JSON.stringify(line)}`);
    // Split on single spaces: the kernel escapes spaces inside fields, and an empty mount
    // source shows up as two adjacent spaces that must stay an (empty) field.
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator === -1) throw malformed('no "-" separator after the sixth field');
    if (fields.length - separator - 1 !== 3) {
      throw malformed('expected fstype, mount source and super options after "-"');
    }
    // The separator search and the count check guarantee every index below exists.
    const [mountId, parentId, device, root, mountPoint, mountOptions] = fields as [
      string, string, string, string, string, string,
    ];
    const [fsType, source, superOptions] = fields.slice(separator + 1) as [string, string, string];
    if (!INTEGER.test(mountId) || !INTEGER.test(parentId)) throw malformed('non-numeric mount ID');
    const deviceMatch = DEVICE.exec(device);
    if (!deviceMatch) throw malformed('major:minor is not two numbers');
    if (fsType === '') throw malformed('empty filesystem type');
    entries.push({
      mountId: Number(mountId),
      parentId: Number(parentId),
      major: Number(deviceMatch[1]),
      minor: Number(deviceMatch[2]),
      root: unescapeOctal(root),
      mountPoint: unescapeOctal(mountPoint),
      mountOptions: splitOptions(mountOptions),
      optionalFields: fields.slice(6, separator).map(unescapeOctal),
      fsType: unescapeOctal(fsType),
      source: unescapeOctal(source),
      superOptions: splitOptions(superOptions),
    });
  });
  return entries;
}

function isWithin(mountPoint: string, target: string): boolean {
  return mountPoint === '/' || target === mountPoint || target.startsWith(`${mountPoint}/`);
}

/**
 * SQLite follows a symlinked database to its target and puts -wal/-shm beside it, so the check
 * applies to the resolved file. A database not created yet resolves through its directory.
 */
function resolveDbFile(dbPath: string, realpathOf: (p: string) => string): string {
  const absolute = path.resolve(dbPath);
  try {
    return realpathOf(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return path.join(realpathOf(path.dirname(absolute)), path.basename(absolute));
  }
}

/** Decides from mountinfo text whether the database at `dbPath` may be opened by the sidecar. */
export function checkDbMount(
  dbPath: string,
  mountinfoText: string,
  realpathOf: (p: string) => string = fs.realpathSync,
): MountVerdict {
  const entries = parseMountinfo(mountinfoText);
  const dbFile = resolveDbFile(dbPath, realpathOf);
  const dbDir = path.dirname(dbFile);

  if (entries.some((entry) => entry.mountPoint === dbFile)) {
    return {
      ok: false,
      cause: 'file-mount',
      message:
        `${dbFile} is itself a mount point (a single-file bind mount). SQLite's -wal and -shm files ` +
        'would not be shared with the host and committed rows can be lost. Mount the directory ' +
        `instead: --mount type=bind,src=$HOME/.bot-bottle/supervise,dst=${dbDir}`,
    };
  }

  // `>=` keeps the last of equal-length matches: a later mount at the same point shadows earlier ones.
  let covering: MountinfoEntry | undefined;
  for (const entry of entries) {
    if (isWithin(entry.mountPoint, dbDir) && entry.mountPoint.length >= (covering?.mountPoint.length ?? 0)) {
      covering = entry;
    }
  }
  if (!covering) throw new Error(`No mount in mountinfo covers ${dbDir}`);

  if (isRefusedFsType(covering.fsType)) {
    return {
      ok: false,
      cause: 'vm-or-network-fs',
      message:
        `${dbDir} is on a ${covering.fsType} filesystem (mounted at ${covering.mountPoint}), and ` +
        "SQLite's locks and shared memory do not cross a VM or network boundary, so the database " +
        'would be corrupted. Across a VM boundary (Docker Desktop, Apple container, a microVM) use broker ' +
        'mode instead: run `bot-bottle broker` on the host and start the sidecar with SUPERVISE_BROKER_URL ' +
        'and no database mount (prepareSupervise(slug, { backend }) gives the arguments). Otherwise keep ' +
        '~/.bot-bottle/supervise on a local disk and run the host tools and the sidecar on one Linux kernel.',
    };
  }
  return { ok: true, mountPoint: covering.mountPoint, fsType: covering.fsType };
}

const MOUNTINFO_PATH = '/proc/self/mountinfo';

/** The verdict on the database at `dbPath` as this process's mount namespace sees it. */
export function inspectDbMount(dbPath: string): MountVerdict {
  let mountinfoText: string;
  try {
    mountinfoText = fs.readFileSync(MOUNTINFO_PATH, 'utf8');
  } catch (error) {
    return {
      ok: false,
      cause: 'not-linux',
      message:
        `Cannot read ${MOUNTINFO_PATH} (${(error as NodeJS.ErrnoException).code ?? String(error)}), so ` +
        'the database mount cannot be checked. The bot-bottle sidecar only runs on Linux, on the same ' +
        'kernel as the host.',
    };
  }
  return checkDbMount(dbPath, mountinfoText);
}

/** Sidecar start-up gate: returns the accepted mount or throws `SuperviseError('mount')`; `inspectDbMount` gives the cause. */
export function assertDbMountSupported(dbPath: string): MountAccepted {
  const verdict = inspectDbMount(dbPath);
  if (!verdict.ok) throw new SuperviseError('mount', verdict.message);
  return verdict;
}
