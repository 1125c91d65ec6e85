/**
 * The operator's side of a round trip (the host). On each request it waits the given delay (so
 * answers land at a random phase of any poll loop), answers, and reports shared-clock times taken
 * right before the call and right after the commit returned.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openHostDatabase } from '../../src/database.js';
import { benchKeysDir } from '../keys.js';
import { sharedClockMs } from '../lib/stats.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file] = process.argv.slice(2) as [string];
const database = await openHostDatabase({ path: file, keysDir: benchKeysDir(file) });

void next('stop').then(async () => {
  await database.close();
  process.exit(0);
});

send({ type: 'ready' });
for (;;) {
  const request = await next<{ type: 'answer'; slug: string; id: string; delayMs: number }>('answer');
  await sleep(request.delayMs);
  const started = sharedClockMs();
  await database.queue.writeResponse(request.slug, request.id, { status: 'approved', responder: 'operator', notes: 'fine for this task' });
  const committed = sharedClockMs();
  send({ type: 'answered', id: request.id, started, committed });
}
