import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { assertDbMountSupported, checkDbMount, inspectDbMount, parseMountinfo } from '../src/storage/mount-guard.js';

const DB = '/run/supervise/bot-bottle.db';
const identity = (p: string): string => p;

// Recorded from containers (Docker Engine on Linux, Docker Desktop on macOS, WSL2) and trimmed.
const CONTAINER_BASE = [
  '1046 980 0:94 / / rw,relatime master:512 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/6SXPGQ2Q3JFZ:/var/lib/docker/overlay2/l/ZQ5W3RDBJ2KX,upperdir=/var/lib/docker/overlay2/9f2c/diff,workdir=/var/lib/docker/overlay2/9f2c/work',
  '1047 1046 0:97 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '1048 1046 0:98 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755',
  '1051 1046 0:99 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro',
  '1056 1046 259:2 /var/lib/docker/containers/9f2c/hostname /etc/hostname rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro',
];
const EXT4_DIR_BIND =
  '1060 1046 259:2 /home/alice/.bot-bottle/supervise /run/supervise rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro';
const EXT4_FILE_BIND =
  '1061 1046 259:2 /home/alice/.bot-bottle/supervise/bot-bottle.db /run/supervise/bot-bottle.db rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro';
const FAKEOWNER_DIR =
  '1060 1046 0:152 /Users/alice/.bot-bottle/supervise /run/supervise rw,relatime - fakeowner fakeowner rw,fakeowner';
const VIRTIOFS_DIR =
  '1060 1046 0:151 /Users/alice/.bot-bottle/supervise /run/supervise rw,relatime - virtiofs virtiofs0 rw';
const GRPCFUSE_DIR =
  '1060 1046 0:153 /host_mnt/Users/alice/.bot-bottle/supervise /run/supervise rw,nosuid,nodev,relatime - fuse.grpcfuse grpcfuse rw,user_id=0,group_id=0,allow_other,max_read=1048576';
const NINEP_DIR =
  '1060 1046 0:70 /alice/.bot-bottle/supervise /run/supervise rw,noatime - 9p drvfs rw,dirsync,aname=drvfs;path=C:\\134Users;uid=1000;gid=1000;symlinkroot=/mnt/,mmap,access=client,msize=65536,trans=fd,rfd=3,wfd=3';
const NFS4_DIR =
  '1060 1046 0:64 /export/alice/supervise /run/supervise rw,relatime - nfs4 filer.lan:/export rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=10.0.0.7,local_lock=none,addr=10.0.0.5';
const CIFS_SUPERVISE2 =
  '1062 1046 0:66 / /run/supervise2 rw,relatime - cifs //nas.lan/supervise rw,vers=3.1.1,cache=strict,username=alice,uid=0,noforceuid,gid=0,noforcegid,addr=10.0.0.9,file_mode=0755,dir_mode=0755,soft,nounix,serverino,mapposix,rsize=4194304,wsize=4194304,bsize=1048576,echo_interval=60,actimeo=1';
const ESCAPED_SPACE_DIR =
  '1063 1046 259:2 /home/alice/My\\040Files/supervise /run/my\\040supervise rw,relatime - ext4 /dev/nvme0n1p2 rw,errors=remount-ro';

const mountinfo = (...lines: string[]): string => `${[...CONTAINER_BASE, ...lines].join('\n')}\n`;

describe('parseMountinfo', () => {
  it('parses every proc(5) field, including optional fields and escapes', () => {
    const [root, , , , , space] = parseMountinfo(mountinfo(ESCAPED_SPACE_DIR));
    expect(root).toMatchObject({
      mountId: 1046,
      parentId: 980,
      major: 0,
      minor: 94,
      root: '/',
      mountPoint: '/',
      mountOptions: ['rw', 'relatime'],
      optionalFields: ['master:512'],
      fsType: 'overlay',
      source: 'overlay',
    });
    expect(root?.superOptions[0]).toBe('rw');
    expect(space).toEqual({
      mountId: 1063,
      parentId: 1046,
      major: 259,
      minor: 2,
      root: '/home/alice/My Files/supervise',
      mountPoint: '/run/my supervise',
      mountOptions: ['rw', 'relatime'],
      optionalFields: [],
      fsType: 'ext4',
      source: '/dev/nvme0n1p2',
      superOptions: ['rw', 'errors=remount-ro'],
    });
  });

  it('parses several optional fields, an empty mount source and escaped super options', () => {
    const [entry, ninep] = parseMountinfo(
      ['36 35 98:0 /mnt1 /mnt2 rw,noatime shared:1 master:2 - tmpfs  rw', NINEP_DIR].join('\n'),
    );
    expect(entry?.optionalFields).toEqual(['shared:1', 'master:2']);
    expect(entry?.source).toBe('');
    expect(entry?.superOptions).toEqual(['rw']);
    expect(ninep?.superOptions).toContain('aname=drvfs;path=C:\\Users;uid=1000;gid=1000;symlinkroot=/mnt/');
  });

  it.each([
    ['no separator', '22 27 0:21 / /proc rw,relatime proc proc rw'],
    ['too few fields after the separator', '22 27 0:21 / /proc rw,relatime - proc proc'],
    ['a non-numeric mount ID', 'x 27 0:21 / /proc rw,relatime - proc proc rw'],
    ['a bad major:minor', '22 27 0-21 / /proc rw,relatime - proc proc rw'],
  ])('throws on %s, naming the line', (_, bad) => {
    const text = mountinfo(bad);
    const lineNumber = CONTAINER_BASE.length + 1;
    expect(() => parseMountinfo(text)).toThrow(`Malformed mountinfo line ${lineNumber}`);
    expect(() => parseMountinfo(text)).toThrow(JSON.stringify(bad));
  });
});

describe('checkDbMount', () => {
  it('accepts a directory bind mount of a local ext4 filesystem', () => {
    expect(checkDbMount(DB, mountinfo(EXT4_DIR_BIND), identity)).toEqual({
      ok: true,
      mountPoint: '/run/supervise',
      fsType: 'ext4',
    });
  });

  it('refuses a single-file bind mount of the database', () => {
    const verdict = checkDbMount(DB, mountinfo(EXT4_FILE_BIND), identity);
    expect(verdict).toMatchObject({ ok: false, cause: 'file-mount' });
    expect(!verdict.ok && verdict.message).toBe(
      "/run/supervise/bot-bottle.db is itself a mount point (a single-file bind mount). SQLite's -wal " +
        'and -shm files would not be shared with the host and committed rows can be lost. Mount the ' +
        'directory instead: --mount type=bind,src=$HOME/.bot-bottle/supervise,dst=/run/supervise',
    );
  });

  it('refuses a file bind mount even when the directory is also mounted', () => {
    const verdict = checkDbMount(DB, mountinfo(EXT4_DIR_BIND, EXT4_FILE_BIND), identity);
    expect(verdict).toMatchObject({ ok: false, cause: 'file-mount' });
  });

  it.each([
    ['fakeowner', FAKEOWNER_DIR],
    ['virtiofs', VIRTIOFS_DIR],
    ['fuse.grpcfuse', GRPCFUSE_DIR],
    ['9p', NINEP_DIR],
    ['nfs4', NFS4_DIR],
  ])('refuses a %s directory', (fsType, line) => {
    const verdict = checkDbMount(DB, mountinfo(line), identity);
    expect(verdict).toMatchObject({ ok: false, cause: 'vm-or-network-fs' });
    if (verdict.ok) return;
    expect(verdict.message).toContain(`/run/supervise is on a ${fsType} filesystem`);
    expect(verdict.message).toContain('do not cross a VM or network boundary');
    expect(verdict.message).toContain('one Linux kernel');
    expect(verdict.message).toContain('use broker mode instead: run `bot-bottle broker` on the host');
    expect(verdict.message).toContain('SUPERVISE_BROKER_URL');
  });

  it('takes the last of several mounts at the same point', () => {
    expect(checkDbMount(DB, mountinfo(NFS4_DIR, EXT4_DIR_BIND), identity)).toMatchObject({
      ok: true,
      fsType: 'ext4',
    });
    expect(checkDbMount(DB, mountinfo(EXT4_DIR_BIND, NFS4_DIR), identity)).toMatchObject({
      ok: false,
      cause: 'vm-or-network-fs',
    });
  });

  it('matches mount points by path component, not by string prefix', () => {
    expect(checkDbMount(DB, mountinfo(CIFS_SUPERVISE2), identity)).toEqual({
      ok: true,
      mountPoint: '/',
      fsType: 'overlay',
    });
    expect(
      checkDbMount('/run/supervise2/bot-bottle.db', mountinfo(EXT4_DIR_BIND, CIFS_SUPERVISE2), identity),
    ).toMatchObject({ ok: false, cause: 'vm-or-network-fs' });
  });

  it('finds mount points whose names contain escaped spaces', () => {
    expect(checkDbMount('/run/my supervise/bot-bottle.db', mountinfo(ESCAPED_SPACE_DIR), identity)).toEqual({
      ok: true,
      mountPoint: '/run/my supervise',
      fsType: 'ext4',
    });
  });

  it('judges the path after resolving symlinks', () => {
    const viaVarRun = (p: string): string => p.replace(/^\/var\/run\//, '/run/');
    expect(checkDbMount('/var/run/supervise/bot-bottle.db', mountinfo(NFS4_DIR), viaVarRun)).toMatchObject({
      ok: false,
      cause: 'vm-or-network-fs',
    });
    expect(
      checkDbMount('/var/run/supervise/bot-bottle.db', mountinfo(EXT4_FILE_BIND), viaVarRun),
    ).toMatchObject({ ok: false, cause: 'file-mount' });
  });
});

describe('assertDbMountSupported', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a real database file under the temp directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-guard-'));
    made.push(dir);
    const dbPath = path.join(dir, 'bot-bottle.db');
    fs.writeFileSync(dbPath, '');

    const verdict = assertDbMountSupported(dbPath);
    expect(verdict.ok).toBe(true);
    expect(verdict.fsType).toMatch(/\S/);
    const realDir = fs.realpathSync(dir);
    expect(verdict.mountPoint === '/' || `${realDir}/`.startsWith(`${verdict.mountPoint}/`)).toBe(true);
  });

  it('acts on the verdict inspectDbMount gives', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-guard-'));
    made.push(dir);
    const dbPath = path.join(dir, 'bot-bottle.db');
    expect(inspectDbMount(dbPath)).toEqual(assertDbMountSupported(dbPath));
  });

  it('judges a database that does not exist yet by its directory', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mount-guard-'));
    made.push(dir);
    expect(assertDbMountSupported(path.join(dir, 'bot-bottle.db')).ok).toBe(true);
  });
});
