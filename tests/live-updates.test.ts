/**
 * The dashboard's fan-out of change batches (src/dashboard/live-updates.ts), with a notifier this
 * test drives by hand: which lists a joining page is sent, and with which version.
 */
import { describe, expect, it } from 'vitest';
import { LiveUpdates, type LiveClient } from '../src/dashboard/live-updates.js';
import type { ChangeNotifier, Notification } from '../src/notify/notifier.js';

interface Sent {
  event: string;
  data: string;
  id: string | undefined;
}

function harness(): { live: LiveUpdates; batch: () => Promise<void>; reads: () => number; client: () => { client: LiveClient; sent: Sent[] } } {
  let listener: ((events: Notification[]) => void) | undefined;
  const notifier = {
    subscribe: (next: (events: Notification[]) => void) => {
      listener = next;
      return () => (listener = undefined);
    },
  } as unknown as ChangeNotifier;
  let reads = 0;
  const live = new LiveUpdates(notifier, () => JSON.stringify({ read: ++reads }));
  return {
    live,
    reads: () => reads,
    // A batch is fanned out on a microtask: wait past it.
    batch: async () => {
      listener?.([{ id: 1, type: 'created', proposalId: 'p', slug: 's', target: 'operator', ts: 0 } as unknown as Notification]);
      await Promise.resolve();
      await Promise.resolve();
    },
    client: () => {
      const sent: Sent[] = [];
      return { sent, client: { send: async (event, data, id) => void sent.push({ event, data, id }), end: () => undefined } };
    },
  };
}

describe('LiveUpdates', () => {
  it('sends a joining page no list when it holds the current version, and the list when it holds none or an old one', async () => {
    const { live, batch, reads, client } = harness();
    const version = live.version();
    const current = client();
    live.join(current.client, version);
    expect(current.sent).toEqual([]);
    expect(reads()).toBe(0);

    const fresh = client();
    live.join(fresh.client, undefined);
    expect(fresh.sent).toEqual([{ event: 'pending', data: '{"read":1}', id: version }]);

    // A change batch between a page's load and its stream joining: its version is old now.
    await batch();
    expect(live.version()).not.toBe(version);
    const late = client();
    live.join(late.client, version);
    expect(late.sent.map((sent) => sent.id)).toEqual([live.version()]);
  });

  it('counts batches while no page is open, so a list read before one never passes as current', async () => {
    const { live, batch, reads, client } = harness();
    const version = live.version();
    await batch();
    expect(reads()).toBe(0);
    const page = client();
    live.join(page.client, version);
    expect(page.sent).toHaveLength(1);
  });

  it('never takes another process’s version (the dashboard restarted) for its own', () => {
    const first = harness();
    const second = harness();
    const page = second.client();
    second.live.join(page.client, first.live.version());
    expect(first.live.version()).not.toBe(second.live.version());
    expect(page.sent).toHaveLength(1);
  });

  it('sends every open page the list after each batch, read once, with its version as the event id', async () => {
    const { live, batch, reads, client } = harness();
    const pages = [client(), client(), client()];
    for (const page of pages) live.join(page.client, live.version());
    await batch();
    expect(reads()).toBe(1);
    for (const page of pages) expect(page.sent).toEqual([{ event: 'pending', data: '{"read":1}', id: live.version() }, { event: 'changed', data: '{}', id: undefined }]);
  });
});
