/**
 * A sidecar's store, opened the way the sidecar opens it: `mount` on the database file, `broker`
 * through the host broker's URL. Per round: enqueue, report, wait, report the shared-clock time the
 * wait resolved, archive. Per `enqueue`: that many sequential enqueues, timed.
 */
import { openSidecarStore } from '../../sidecar/startup.js';
import { benchBottleKeysDir } from '../keys.js';
import { JUSTIFICATION, currentRoutesYaml, routesYaml } from '../lib/fixtures.js';
import { sharedClockMs } from '../lib/stats.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file, mode, slug, brokerUrl] = process.argv.slice(2) as [string, 'mount' | 'broker', string, string | undefined];
const storage = await openSidecarStore(slug, {
  keysDir: benchBottleKeysDir(file, slug),
  flood: { maxPending: 10_000, perMinute: 10_000 },
  ...(mode === 'broker' ? { brokerUrl: brokerUrl as string } : { dbPath: file }),
});
const { queue } = storage;
const currentFile = currentRoutesYaml();
const cpuStart = process.cpuUsage();
let written = 0;

const propose = () => queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: routesYaml(written), justification: JUSTIFICATION, currentFile, idempotencyKey: `${mode}-${written++}` });

send({ type: 'ready' });
for (;;) {
  const message = await Promise.race([next<{ type: 'round' }>('round'), next<{ type: 'enqueue'; count: number }>('enqueue'), next<{ type: 'cpu' }>('cpu'), next<{ type: 'stop' }>('stop')]);
  if (message.type === 'stop') break;
  if (message.type === 'cpu') {
    const used = process.cpuUsage(cpuStart);
    send({ type: 'cpu', ms: (used.user + used.system) / 1000 });
  } else if (message.type === 'enqueue') {
    const started = sharedClockMs();
    for (let i = 0; i < (message as { count: number }).count; i++) await propose();
    send({ type: 'enqueued', ms: sharedClockMs() - started });
  } else {
    const started = sharedClockMs();
    const proposal = await propose();
    const enqueued = sharedClockMs();
    const waiting = queue.waitForResponse(proposal.id, { timeoutMs: 60_000 });
    send({ type: 'waiting', id: proposal.id });
    const outcome = await waiting;
    const woke = sharedClockMs();
    if (outcome.outcome !== 'answered') throw new Error(`round ended ${outcome.outcome}`);
    await queue.archiveProposal(proposal.id);
    send({ type: 'woke', started, enqueued, woke, archived: sharedClockMs() });
  }
}
await storage.close();
process.exit(0);
