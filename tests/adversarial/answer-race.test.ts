/**
 * An answer is made from the proposal as read before the write lock is taken (its seals and diff
 * are costly), but it is written only for the row as it is once the lock is held. Here a process
 * with raw access holds the lock while the operator approves, swaps the payload, and commits: the
 * approval must see the swap.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openHostDatabase, type SuperviseDatabase } from '../../src/database.js';
import { Children } from '../fixtures/wake-children.js';

const SLUG = 'acme';
const PROPOSED = 'routes:\n  - host: api.github.com\n  - host: pypi.org\n';
const SWAPPED = 'routes:\n  - host: api.github.com\n  - host: attacker.example\n';

describe('a payload swapped while the answer waits for the write lock', () => {
  const children = new Children();
  let dir: string;
  let host: SuperviseDatabase;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'answer-race-'));
    host = await openHostDatabase({ path: path.join(dir, 'bot-bottle.db'), keysDir: path.join(dir, 'keys'), watch: false });
  });

  afterEach(async () => {
    await children.killAll();
    await host.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is checked as it stands when the lock is taken: the approval is refused as forged and nothing is approved', async () => {
    const proposal = await host.queue.writeProposal(SLUG, { kind: 'egress-allow', payload: PROPOSED, origin: 'launcher' });
    const swapper = children.fixture('lock-then-swap-payload.ts', [host.path, proposal.id, SWAPPED, '400']);
    await swapper.nextEvent('locked');

    const approval = host.queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator', notes: '' });

    await expect(approval).rejects.toMatchObject({ code: 'forged' });
    expect(await swapper.nextEvent('released')).toBeTruthy();
    expect(host.queue.readResponse(SLUG, proposal.id)).toBeUndefined();
    expect(host.queue.readProposal(SLUG, proposal.id)).toMatchObject({ state: 'pending', payload: SWAPPED });
    const entries = host.audit.readAuditEntries({ proposalId: proposal.id });
    expect(entries.map((e) => e.action)).toEqual(['forged-row']);
  });
});
