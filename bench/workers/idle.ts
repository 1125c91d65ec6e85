/**
 * One of the processes of the idle-cost benchmark: it waits on a proposal nobody answers (our
 * waiter, file watcher on or off), or polls readResponse every `pollMs`, or (`none`) only holds the
 * database open, and reports the CPU time it used between `start` and `measure`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openSidecarDatabase } from '../../src/database.js';
import { benchBottleKeysDir } from '../keys.js';
import { JUSTIFICATION, currentRoutesYaml, routesYaml } from '../lib/fixtures.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file, mode, pollText, slug] = process.argv.slice(2) as [string, 'none' | 'notifier' | 'notifier-nowatch' | 'poll', string, string];
const database = openSidecarDatabase(slug, { path: file, watch: mode === 'notifier', keysDir: benchBottleKeysDir(file, slug) });
const { queue } = database;
const controller = new AbortController();

if (mode !== 'none') {
  const proposal = await queue.writeProposal({ kind: 'egress-allow', origin: 'agent', payload: routesYaml(1), justification: JUSTIFICATION, currentFile: currentRoutesYaml() });
  if (mode === 'poll') {
    void (async () => {
      while (!controller.signal.aborted && !queue.readResponse(proposal.id)) await sleep(Number(pollText));
    })();
  } else {
    void queue.waitForResponse(proposal.id, { timeoutMs: 30 * 60_000, signal: controller.signal });
  }
}

send({ type: 'ready' });
await next('start');
const cpu = process.cpuUsage();
const started = performance.now();
await next('measure');
const used = process.cpuUsage(cpu);
send({ type: 'usage', userMs: used.user / 1000, systemMs: used.system / 1000, elapsedMs: performance.now() - started });
await next('stop');
controller.abort();
await database.close();
process.exit(0);
