import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SuperviseError } from '../core/errors.js';
import { validateSlug } from '../core/validation.js';
import { stateDir } from '../storage/layout.js';

/**
 * Key material lives outside the shared directory every sidecar can write to:
 *   ~/.bot-bottle/keys/                 0700
 *     host.key                          0600  Ed25519 private key (PKCS#8 PEM); never leaves the host
 *     host.pub                          0644  its public key (SPKI PEM)
 *     bottles/<slug>/bottle.key         0600  32 random bytes (hex) for that bottle's MACs
 *     bottles/<slug>/host.pub           0644  copy of host.pub, so one read-only mount gives a sidecar both
 * A bottle's directory is mounted read-only into that bottle's sidecar only, at KEYS_DIR_IN_CONTAINER.
 */
export const KEYS_DIR_IN_CONTAINER = '/run/supervise-keys';
export const BOTTLE_KEY_FILE = 'bottle.key';
export const HOST_PUBLIC_KEY_FILE = 'host.pub';
const HOST_PRIVATE_KEY_FILE = 'host.key';
const BOTTLE_KEY_BYTES = 32;
const PRIVATE_DIR_MODE = 0o700;
const SECRET_FILE_MODE = 0o600;
const PUBLIC_FILE_MODE = 0o644;

/** The host's keys directory; tests and tools may keep keys elsewhere by passing their own everywhere below. */
export function keysDir(): string {
  return path.join(stateDir(), 'keys');
}

export function bottleKeysDir(slug: string, dir: string = keysDir()): string {
  return path.join(dir, 'bottles', validateSlug(slug));
}

/** The host's signing pair, made once. */
export interface HostKeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** What a bottle's sidecar holds: its own MAC key and the host's public key, nothing else. */
export interface BottleKeyMaterial {
  bottleKey: Buffer;
  hostPublicKey: KeyObject;
}

function keyError(file: string, problem: string, fix: string): SuperviseError {
  return new SuperviseError('layout', `${file} ${problem}. ${fix}`);
}

/** A directory we made or own, private, and not a symlink someone planted to redirect the keys. */
function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    throw keyError(dir, `cannot be created (${(error as NodeJS.ErrnoException).code ?? String(error)})`, 'Check the permissions of ~/.bot-bottle.');
  }
  const stat = fs.lstatSync(dir);
  if (stat.isSymbolicLink() || !stat.isDirectory()) throw keyError(dir, 'is not a plain directory', `Remove it (rm -rf ${dir}) and run the command again.`);
  if (process.getuid && stat.uid !== process.getuid()) throw keyError(dir, `is owned by uid ${stat.uid}, not by you`, `Remove it or chown it to yourself.`);
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(dir, PRIVATE_DIR_MODE);
}

/** Reads a key file without following a symlink, refusing one that others could read or replace. */
function readKeyFile(file: string, secret: boolean): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw keyError(file, 'is a symlink', `Key files are never links: remove it (rm ${file}) so a new key is made, then restart the affected bottles.`);
    throw keyError(file, `cannot be read (${code ?? String(error)})`, 'Check its owner and permissions.');
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw keyError(file, 'is not a regular file', `Remove it (rm -rf ${file}) and run the command again.`);
    if (process.getuid && stat.uid !== process.getuid()) throw keyError(file, `is owned by uid ${stat.uid}, not by you`, 'Remove it so a new key is made.');
    if (secret && (stat.mode & 0o077) !== 0) throw keyError(file, `is readable by others (mode ${(stat.mode & 0o777).toString(8)})`, `Run chmod 600 ${file}, or remove it and restart the bottle so a new key is made.`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes a new key file exclusively: an existing file or a planted symlink makes this fail, never get overwritten. */
function createKeyFile(file: string, content: string | Buffer, mode: number): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
  try {
    fs.writeFileSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** A private name beside `file` for writing its content before it appears under the real name. */
function tempNameFor(file: string): string {
  return `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

/**
 * Makes `file` appear whole or not at all: the content is written and synced under a temporary
 * name, then hard-linked into place, which fails if the name exists. A process reading the key at
 * that moment finds it missing or complete, never empty or half written.
 */
function createOnce(file: string, content: () => string | Buffer, mode: number): void {
  const temp = tempNameFor(file);
  createKeyFile(temp, content(), mode);
  try {
    fs.linkSync(temp, file);
  } catch (error) {
    // Another host process made it first: theirs is the key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Puts new content in place of `file` in one step (rename), so a reader sees the old file or the new one. */
function replaceWhole(file: string, content: string | Buffer, mode: number): void {
  const temp = tempNameFor(file);
  createKeyFile(temp, content, mode);
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/** The host's Ed25519 pair, made on first use. */
export function ensureHostKeyPair(dir: string = keysDir()): HostKeyPair {
  ensurePrivateDir(dir);
  const privateFile = path.join(dir, HOST_PRIVATE_KEY_FILE);
  if (readKeyFile(privateFile, true) === undefined) {
    const pair = generateKeyPairSync('ed25519');
    createOnce(privateFile, () => pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), SECRET_FILE_MODE);
  }
  const pair = readHostKeyPair(dir) as HostKeyPair;
  const publicFile = path.join(dir, HOST_PUBLIC_KEY_FILE);
  const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' });
  const onDisk = readKeyFile(publicFile, false);
  if (onDisk === undefined) createOnce(publicFile, () => publicPem, PUBLIC_FILE_MODE);
  else if (onDisk.toString('utf8') !== publicPem) {
    throw keyError(publicFile, 'does not match host.key', `Remove ${publicFile}; it is recreated from the private key.`);
  }
  return pair;
}

/** The host's pair if it was ever made; reading it creates nothing (read-only commands only verify). */
export function readHostKeyPair(dir: string = keysDir()): HostKeyPair | undefined {
  const privatePem = readKeyFile(path.join(dir, HOST_PRIVATE_KEY_FILE), true);
  if (privatePem === undefined) return undefined;
  const privateKey = createPrivateKey(privatePem);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** The host public key alone, for readers that verify but never sign (audit verify). */
export function readHostPublicKey(dir: string = keysDir()): KeyObject | undefined {
  const pem = readKeyFile(path.join(dir, HOST_PUBLIC_KEY_FILE), false);
  return pem === undefined ? undefined : createPublicKey(pem);
}

/** Makes (once) the bottle's MAC key and its copy of the host public key; returns the directory to mount. */
export function ensureBottleKeys(slug: string, host: HostKeyPair, keys: string = keysDir()): string {
  ensurePrivateDir(keys);
  ensurePrivateDir(path.join(keys, 'bottles'));
  const dir = bottleKeysDir(slug, keys);
  ensurePrivateDir(dir);
  const keyFile = path.join(dir, BOTTLE_KEY_FILE);
  if (readKeyFile(keyFile, true) === undefined) createOnce(keyFile, () => randomBytes(BOTTLE_KEY_BYTES).toString('hex'), SECRET_FILE_MODE);
  const publicPem = host.publicKey.export({ type: 'spki', format: 'pem' });
  const publicFile = path.join(dir, HOST_PUBLIC_KEY_FILE);
  const existing = readKeyFile(publicFile, false);
  if (existing?.toString('utf8') !== publicPem) {
    if (existing === undefined) createOnce(publicFile, () => publicPem, PUBLIC_FILE_MODE);
    else replaceWhole(publicFile, publicPem, PUBLIC_FILE_MODE);
  }
  return dir;
}

function parseBottleKey(raw: Buffer, file: string): Buffer {
  const text = raw.toString('utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw keyError(file, 'is not a bottle key (64 hex digits)', 'Remove it and restart the bottle so a new key is made.');
  return Buffer.from(text, 'hex');
}

/** The host's copy of a bottle's key; undefined when that bottle was never prepared. */
export function readBottleKey(slug: string, dir: string = keysDir()): Buffer | undefined {
  const file = path.join(bottleKeysDir(slug, dir), BOTTLE_KEY_FILE);
  const raw = readKeyFile(file, true);
  return raw === undefined ? undefined : parseBottleKey(raw, file);
}

/** What a sidecar loads from its read-only key mount. */
export function readBottleKeyMaterial(dir: string = KEYS_DIR_IN_CONTAINER): BottleKeyMaterial {
  const keyFile = path.join(dir, BOTTLE_KEY_FILE);
  const publicFile = path.join(dir, HOST_PUBLIC_KEY_FILE);
  const key = readKeyFile(keyFile, true);
  const pub = readKeyFile(publicFile, false);
  if (key === undefined || pub === undefined) {
    throw new SuperviseError(
      'layout',
      `the bottle's keys are missing in ${dir} (need ${BOTTLE_KEY_FILE} and ${HOST_PUBLIC_KEY_FILE}). Start the sidecar with the key mount prepareSupervise() returns.`,
    );
  }
  return { bottleKey: parseBottleKey(key, keyFile), hostPublicKey: createPublicKey(pub) };
}
