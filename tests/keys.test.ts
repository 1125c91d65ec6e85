import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from './fixtures/storage-support.js';
import { bottleKeysDir, ensureBottleKeys, ensureHostKeyPair, keysDir, readBottleKey, readBottleKeyMaterial } from '../src/keys/key-files.js';
import { BottleKeyring, HostKeyring } from '../src/keys/keyring.js';

let home: string;
let savedHome: string | undefined;

beforeEach(() => {
  savedHome = process.env.HOME;
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'keys-'));
  process.env.HOME = home;
});

afterEach(() => {
  process.env.HOME = savedHome;
  fs.rmSync(home, { recursive: true, force: true });
});

const proposal = { id: '6f1c1c9e-4a44-4c53-9b1e-2f0c0a7f0a11', slug: 'acme', kind: 'egress-allow', origin: 'agent', target: 'operator', payload: 'routes: []\n', currentFileHash: null, justification: 'why' };
const response = { proposalId: proposal.id, slug: 'acme', kind: 'egress-allow', payload: proposal.payload, currentFileHash: null, status: 'approved', finalPayload: null, notes: 'ok', responder: 'operator' };

describe('key files', () => {
  it('makes the host pair and a bottle key once, private, and gives the same keys back', () => {
    const pair = ensureHostKeyPair();
    const dir = ensureBottleKeys('acme', pair);
    expect(dir).toBe(bottleKeysDir('acme'));
    expect(fs.statSync(keysDir()).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(keysDir(), 'host.key')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dir, 'bottle.key')).mode & 0o777).toBe(0o600);
    const again = ensureHostKeyPair();
    expect(again.publicKey.export({ type: 'spki', format: 'pem' })).toBe(pair.publicKey.export({ type: 'spki', format: 'pem' }));
    const key = readBottleKey('acme');
    ensureBottleKeys('acme', pair);
    expect(readBottleKey('acme')?.equals(key as Buffer)).toBe(true);
    expect(readBottleKeyMaterial(dir).bottleKey.equals(key as Buffer)).toBe(true);
    expect(readBottleKey('other')).toBeUndefined();
  });

  it('refuses a key file replaced by a symlink, and one others can read', () => {
    const pair = ensureHostKeyPair();
    const dir = ensureBottleKeys('acme', pair);
    const keyFile = path.join(dir, 'bottle.key');
    fs.chmodSync(keyFile, 0o644);
    expect(() => readBottleKey('acme')).toThrow(/readable by others.*chmod 600/);
    fs.rmSync(keyFile);
    const elsewhere = path.join(home, 'planted');
    fs.writeFileSync(elsewhere, 'a'.repeat(64), { mode: 0o600 });
    fs.symlinkSync(elsewhere, keyFile);
    expect(() => readBottleKey('acme')).toThrow(/is a symlink/);
  });

  it('a sidecar without its key mount is told what to mount', () => {
    expect(() => readBottleKeyMaterial(path.join(home, 'nothing'))).toThrow(/keys are missing.*prepareSupervise/);
  });
});

describe('keys made by many at once', () => {
  it('are never read half written: every thread racing to make them gets the same complete keys', async () => {
    const THREADS = 6;
    const ROUNDS = 60;
    const barrier = new SharedArrayBuffer(4);
    const gate = new Int32Array(barrier);
    const results: Array<{ round: number; bottleKey?: string; host?: string; error?: string }> = [];
    const workers = Array.from({ length: THREADS }, () => {
      // The fixture is TypeScript: the worker registers tsx's loader before importing it.
      const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(pathToFileURL(path.join(FIXTURES_DIR, 'keys-racer.ts')).href)}); });`;
      const worker = new Worker(boot, { eval: true, workerData: { root: home, rounds: ROUNDS, barrier } });
      worker.on('message', (message: (typeof results)[number]) => results.push(message));
      return new Promise<void>((resolve, reject) => worker.once('exit', () => resolve()).once('error', reject));
    });
    for (let round = 0; round < ROUNDS; round += 1) {
      // Open this round's gate once every thread has reported the last one.
      while (results.length < round * THREADS) await new Promise((resolve) => setTimeout(resolve, 5));
      Atomics.store(gate, 0, round + 1);
      Atomics.notify(gate, 0);
    }
    await Promise.all(workers);

    expect(results.filter((result) => result.error !== undefined)).toEqual([]);
    for (let round = 0; round < ROUNDS; round += 1) {
      const read = results.filter((result) => result.round === round);
      expect(read).toHaveLength(THREADS);
      expect(new Set(read.map((keys) => keys.bottleKey)).size).toBe(1);
      expect(new Set(read.map((keys) => keys.host)).size).toBe(1);
      // Nothing of the writing is left behind.
      const dir = path.join(home, `round-${round}`);
      expect(fs.readdirSync(dir).sort()).toEqual(['bottles', 'host.key', 'host.pub']);
      expect(fs.readdirSync(path.join(dir, 'bottles', 'acme')).sort()).toEqual(['bottle.key', 'host.pub']);
    }
  });
});

describe('keyrings', () => {
  it('a bottle seals as itself and verifies the host; it cannot pass for the host or another bottle', () => {
    const pair = ensureHostKeyPair();
    const host = new HostKeyring(pair, readBottleKey);
    const acme = new BottleKeyring('acme', readBottleKeyMaterial(ensureBottleKeys('acme', pair)));
    const other = new BottleKeyring('other', readBottleKeyMaterial(ensureBottleKeys('other', pair)));

    const sealed = acme.sealProposal(proposal);
    expect(host.checkProposal(proposal, sealed)).toBe('bottle');
    expect(host.checkProposal({ ...proposal, payload: 'routes:\n  - host: "*.attacker.example"\n' }, sealed)).toBe('forged');
    expect(host.checkProposal({ ...proposal, slug: 'other' }, sealed)).toBe('forged');
    expect(host.checkProposal(proposal, other.sealProposal(proposal))).toBe('forged');
    expect(host.checkProposal(proposal, null)).toBe('forged');

    const answer = host.sealResponse(response);
    expect(acme.checkResponse(response, answer)).toBe('host');
    expect(acme.checkResponse({ ...response, status: 'rejected' }, answer)).toBe('forged');
    // A bottle's own MAC on an answer is never the host's approval.
    expect(acme.checkResponse(response, acme.sealResponse(response))).toBe('bottle');
    expect(acme.checkResponse(response, 'sig:' + Buffer.alloc(64).toString('base64'))).toBe('forged');
  });
});
