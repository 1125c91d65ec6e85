/**
 * The host side of the heartbeat benchmark: an operator's process as the terminal UI and `notify
 * watch` hold it (the host database open with file watching, a subscriber on every bottle, the
 * new-proposal watcher), reporting the CPU time it used between `start` and `measure`.
 */
import { openHostDatabase } from '../../src/database.js';
import { watchNewProposals } from '../../src/queue/new-proposals.js';
import { benchKeysDir } from '../keys.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file] = process.argv.slice(2) as [string];
const database = await openHostDatabase({ path: file, watch: true, keysDir: benchKeysDir(file) });
const unsubscribe = database.queue.subscribe({}, () => undefined);
const unwatch = watchNewProposals(database.queue, () => undefined);

send({ type: 'ready' });
for (;;) {
  const message = await Promise.race([next('start'), next('stop')]);
  if (message.type === 'stop') break;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await next('measure');
  const used = process.cpuUsage(cpu);
  send({ type: 'usage', userMs: used.user / 1000, systemMs: used.system / 1000, elapsedMs: performance.now() - started });
}
unwatch();
unsubscribe();
await database.close();
process.exit(0);
