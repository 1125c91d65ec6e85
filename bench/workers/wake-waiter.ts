/**
 * The waiting side of a round trip (a sidecar). Per round: enqueue, start waiting, tell the bench,
 * and report the shared-clock time the wait resolved. `notifier` waits with waitForResponse
 * (file watcher on or off); `poll` re-reads the response every `pollMs`, as the original system did.
 * On request it reports the CPU time it has used since it was ready.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openSidecarDatabase } from '../../src/database.js';
import { benchBottleKeysDir } from '../keys.js';
import type { ProposalResponse } from '../../src/queue/proposal.js';
import { JUSTIFICATION, currentRoutesYaml, routesYaml } from '../lib/fixtures.js';
import { sharedClockMs } from '../lib/stats.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file, mode, pollText, slug] = process.argv.slice(2) as [string, 'notifier' | 'notifier-nowatch' | 'poll', string, string];
const pollMs = Number(pollText);
const database = openSidecarDatabase(slug, { path: file, watch: mode === 'notifier', keysDir: benchBottleKeysDir(file, slug) });
const { queue } = database;
const currentFile = currentRoutesYaml();

async function pollForResponse(id: string): Promise<ProposalResponse> {
  for (;;) {
    const response = queue.readResponse(id);
    if (response) return response;
    await sleep(pollMs);
  }
}

let stopping = false;
void next('stop').then(async () => {
  stopping = true;
  await database.close();
  process.exit(0);
});

const cpuAtStart = process.cpuUsage();
void (async () => {
  for (;;) {
    await next('cpu');
    const used = process.cpuUsage(cpuAtStart);
    send({ type: 'cpu', ms: (used.user + used.system) / 1000 });
  }
})();

send({ type: 'ready' });
while (!stopping) {
  const { round } = await next<{ type: 'round'; round: number }>('round');
  const proposal = await queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: routesYaml(round), justification: JUSTIFICATION, currentFile });
  let resolved: Promise<unknown>;
  if (mode === 'poll') {
    resolved = pollForResponse(proposal.id);
  } else {
    resolved = queue.waitForResponse(proposal.id, { timeoutMs: 60_000 }).then((outcome) => {
      if (outcome.outcome !== 'answered') throw new Error(`round ${round}: wait ended ${outcome.outcome}, not answered`);
    });
  }
  send({ type: 'waiting', id: proposal.id });
  await resolved;
  const woke = sharedClockMs();
  await queue.archiveProposal(proposal.id);
  send({ type: 'woke', woke });
}
