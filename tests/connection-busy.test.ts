import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUSY_TIMEOUT_MS, writeTransaction } from '../src/storage/connection.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { Children } from './fixtures/wake-children.js';

const HOLD_MS = 1500;

describe('a write lock held by another process', () => {
  const children = new Children();
  let dir: string;
  let file: string;
  let host: SuperviseDatabase;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'busy-'));
    file = path.join(dir, 'bot-bottle.db');
    host = await openHostDatabase({ path: file, watch: false });
  });

  afterEach(async () => {
    await children.killAll();
    await host.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('longer than the busy timeout does not fail an enqueue, which completes after the release while timers keep firing', async () => {
    expect(HOLD_MS).toBeGreaterThan(10 * BUSY_TIMEOUT_MS);
    const holder = children.fixture('wake-lock-holder.ts', [file, String(HOLD_MS)]);
    const { id: holderId } = (await holder.nextEvent('locked')) as { id: string };

    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
    }, 10);
    try {
      const proposal = await host.queue.writeProposal('acme', { kind: 'egress-allow', payload: 'routes:\n  - host: api.example.com\n', origin: 'agent' });

      // The enqueue committed after the holder's transaction: its row comes after the holder's.
      const holderSeq = host.db.prepare('SELECT seq FROM proposals WHERE id = ?').pluck().get(holderId) as number | undefined;
      expect(holderSeq).toBeDefined();
      expect(proposal.seq).toBeGreaterThan(holderSeq as number);
      expect(host.queue.readProposal('acme', proposal.id)?.state).toBe('pending');
      // The event loop was not frozen by the lock wait: the interval kept firing meanwhile.
      expect(ticks).toBeGreaterThan(5);
    } finally {
      clearInterval(ticker);
    }
    expect(await holder.nextEvent('released')).toBeTruthy();
    expect(await holder.exited).toEqual({ code: 0, signal: null });
    // Waiting in slices leaves the connection's busy timeout as it was opened.
    expect(host.db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
  });

  it('gives up after the budget with a busy error that names how to find the holder, and the connection keeps its busy timeout', async () => {
    const holder = children.fixture('wake-lock-holder.ts', [file, String(HOLD_MS)]);
    await holder.nextEvent('locked');
    const started = Date.now();
    const attempt = writeTransaction(host.db, () => host.db.prepare(`INSERT INTO events (ts, type, proposal_id, slug, target) VALUES (0, 'created', 'x', 'acme', 'operator')`).run(), 200);
    await expect(attempt).rejects.toMatchObject({ code: 'busy', message: expect.stringContaining('fuser') });
    expect(Date.now() - started).toBeLessThan(HOLD_MS);
    expect(host.db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
    expect(host.db.prepare(`SELECT count(*) FROM events WHERE proposal_id = 'x'`).pluck().get()).toBe(0);
    expect(await holder.nextEvent('released')).toBeTruthy();
  });
});
