/** The sidecar side of the round-trip benchmark: enqueue → wait → archive, `count` times in a row. */
import { openSidecarDatabase } from '../../src/database.js';
import { benchBottleKeysDir } from '../keys.js';
import { JUSTIFICATION, currentRoutesYaml, routesYaml } from '../lib/fixtures.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file, countText, slug] = process.argv.slice(2) as [string, string, string];
const count = Number(countText);
const database = openSidecarDatabase(slug, { path: file, keysDir: benchBottleKeysDir(file, slug) });
const { queue } = database;
const currentFile = currentRoutesYaml();

async function roundTrip(i: number): Promise<void> {
  const proposal = await queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: routesYaml(i), justification: JUSTIFICATION, currentFile });
  const outcome = await queue.waitForResponse(proposal.id, { timeoutMs: 30_000 });
  if (outcome.outcome !== 'answered') throw new Error(`round trip ${i}: wait ended ${outcome.outcome}, not answered`);
  if (!(await queue.archiveProposal(proposal.id))) throw new Error(`round trip ${i}: already archived`);
}

for (let i = 0; i < 20; i++) await roundTrip(count + i);
send({ type: 'ready' });
await next('go');
const latencies: number[] = [];
const started = performance.now();
for (let i = 0; i < count; i++) {
  const t = performance.now();
  await roundTrip(i);
  latencies.push(performance.now() - t);
}
send({ type: 'result', seconds: (performance.now() - started) / 1000, count, latencies });
await next('stop');
await database.close();
process.exit(0);
