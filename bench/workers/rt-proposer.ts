/**
 * The sidecar side of the round-trip benchmarks: enqueue → wait → archive, `count` times in a row.
 * Arguments: FILE COUNT SLUG [MODE [INTERVAL_MS [WARMUP]]].
 * MODE `notifier` (default) waits with waitForResponse; `poll` re-reads readResponse every
 * INTERVAL_MS (the original plane's 50 ms loop); `data-version` checks `PRAGMA data_version` every
 * INTERVAL_MS on a connection of its own and reads the response only when it changed (as the Honker
 * queue does). The polling modes open the database with the file watcher off: they do not use it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openSidecarDatabase } from '../../src/database.js';
import { benchBottleKeysDir } from '../keys.js';
import { DataVersionCheck } from '../lib/data-version.js';
import { JUSTIFICATION, currentRoutesYaml, routesYaml } from '../lib/fixtures.js';
import { sharedClockMs } from '../lib/stats.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file, countText, slug, mode = 'notifier', intervalText = '50', warmupText = '20'] = process.argv.slice(2) as [string, string, string, string?, string?, string?];
if (!['notifier', 'poll', 'data-version'].includes(mode)) throw new Error(`unknown mode ${mode}: use notifier, poll or data-version`);
const count = Number(countText);
const intervalMs = Number(intervalText);
const warmup = Number(warmupText);
const database = openSidecarDatabase(slug, { path: file, watch: mode === 'notifier', keysDir: benchBottleKeysDir(file, slug) });
const { queue } = database;
const versions = mode === 'data-version' ? new DataVersionCheck(file) : undefined;
const currentFile = currentRoutesYaml();

async function answered(id: string, i: number): Promise<void> {
  if (mode === 'notifier') {
    const outcome = await queue.waitForResponse(id, { timeoutMs: 30_000 });
    if (outcome.outcome !== 'answered') throw new Error(`round trip ${i}: wait ended ${outcome.outcome}, not answered`);
    return;
  }
  for (;;) {
    if ((!versions || versions.changed()) && queue.readResponse(id)) return;
    await sleep(intervalMs);
  }
}

async function roundTrip(i: number): Promise<void> {
  const proposal = await queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: routesYaml(i), justification: JUSTIFICATION, currentFile });
  await answered(proposal.id, i);
  if (!(await queue.archiveProposal(proposal.id))) throw new Error(`round trip ${i}: already archived`);
}

for (let i = 0; i < warmup; i++) await roundTrip(count + i);
send({ type: 'ready' });
await next('go');
const latencies: number[] = [];
const start = sharedClockMs();
const started = performance.now();
for (let i = 0; i < count; i++) {
  const t = performance.now();
  await roundTrip(i);
  latencies.push(performance.now() - t);
}
send({ type: 'result', seconds: (performance.now() - started) / 1000, count, latencies, start, end: sharedClockMs() });
await next('stop');
versions?.close();
await database.close();
process.exit(0);
