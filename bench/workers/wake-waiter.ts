/**
 * The waiting side of a round trip (a sidecar). Per round: enqueue, start waiting, tell the bench,
 * and report the shared-clock time the wait resolved. `notifier` waits with waitForResponse
 * (file watcher on or off); `poll` re-reads the response every `pollMs`, as the original system did;
 * `data-version` checks `PRAGMA data_version` every `pollMs` on a connection of its own and reads the
 * response only when it changed (as the Honker queue waits). On request it reports the CPU time it
 * has used since it was ready, and how many polls or data_version checks it made.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openSidecarDatabase } from '../../src/database.js';
import { benchBottleKeysDir } from '../keys.js';
import type { ProposalResponse } from '../../src/queue/proposal.js';
import { DataVersionCheck } from '../lib/data-version.js';
import { JUSTIFICATION, currentRoutesYaml, routesYaml } from '../lib/fixtures.js';
import { sharedClockMs } from '../lib/stats.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file, mode, pollText, slug] = process.argv.slice(2) as [string, 'notifier' | 'notifier-nowatch' | 'poll' | 'data-version', string, string];
const pollMs = Number(pollText);
const database = openSidecarDatabase(slug, { path: file, watch: mode === 'notifier', keysDir: benchBottleKeysDir(file, slug) });
const { queue } = database;
const currentFile = currentRoutesYaml();
const versions = mode === 'data-version' ? new DataVersionCheck(file) : undefined;
let polls = 0;

async function pollForResponse(id: string): Promise<ProposalResponse> {
  for (;;) {
    polls++;
    const response = queue.readResponse(id);
    if (response) return response;
    await sleep(pollMs);
  }
}

async function dataVersionWait(id: string): Promise<ProposalResponse> {
  for (;;) {
    if (versions?.changed()) {
      const response = queue.readResponse(id);
      if (response) return response;
    }
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
    send({ type: 'cpu', ms: (used.user + used.system) / 1000, checks: versions?.checks ?? polls });
  }
})();

send({ type: 'ready' });
while (!stopping) {
  const { round } = await next<{ type: 'round'; round: number }>('round');
  const proposal = await queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: routesYaml(round), justification: JUSTIFICATION, currentFile });
  let resolved: Promise<unknown>;
  if (mode === 'poll') {
    resolved = pollForResponse(proposal.id);
  } else if (mode === 'data-version') {
    resolved = dataVersionWait(proposal.id);
  } else {
    resolved = queue.waitForResponse(proposal.id, { timeoutMs: 600_000 }).then((outcome) => {
      if (outcome.outcome !== 'answered') throw new Error(`round ${round}: wait ended ${outcome.outcome}, not answered`);
    });
  }
  send({ type: 'waiting', id: proposal.id });
  await resolved;
  const woke = sharedClockMs();
  await queue.archiveProposal(proposal.id);
  send({ type: 'woke', woke });
}
