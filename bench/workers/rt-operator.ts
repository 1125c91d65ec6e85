/**
 * The host side of the round-trip benchmarks: it approves each pending proposal as soon as it
 * learns of it. Arguments: FILE [MODE [INTERVAL_MS [SLUG]]].
 * MODE `notifier` (default): subscribed to new pending proposals as the operator view is.
 * `poll`: lists the pending proposals every INTERVAL_MS. `data-version`: checks `PRAGMA
 * data_version` every INTERVAL_MS on a connection of its own and lists only when it changed.
 * With SLUG it answers only that bottle's proposals (one operator per proposer/operator pair).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { openHostDatabase } from '../../src/database.js';
import { benchKeysDir } from '../keys.js';
import { DataVersionCheck } from '../lib/data-version.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file, mode = 'notifier', intervalText = '50', slugArgument = ''] = process.argv.slice(2) as [string, string?, string?, string?];
if (!['notifier', 'poll', 'data-version'].includes(mode)) throw new Error(`unknown mode ${mode}: use notifier, poll or data-version`);
const intervalMs = Number(intervalText);
const slug = slugArgument === '' ? undefined : slugArgument;
const database = await openHostDatabase({ path: file, keysDir: benchKeysDir(file), watch: mode === 'notifier' });
const { queue } = database;
let answering = false;
let again = false;
let stopping = false;

/** Answers everything pending, one at a time; a notification during a pass triggers another. */
async function answerPending(): Promise<void> {
  if (answering) {
    again = true;
    return;
  }
  answering = true;
  do {
    again = false;
    for (const proposal of queue.listPendingProposals(slug === undefined ? {} : { slug })) {
      await queue.writeResponse(proposal.slug, proposal.id, { status: 'approved', responder: 'operator', notes: 'ok' });
    }
  } while (again);
  answering = false;
}

let unsubscribe = (): void => {};
if (mode === 'notifier') {
  unsubscribe = queue.subscribe({ target: 'operator', types: ['created'], ...(slug === undefined ? {} : { slug }) }, () => void answerPending());
} else {
  const versions = mode === 'data-version' ? new DataVersionCheck(file) : undefined;
  void (async () => {
    while (!stopping) {
      if (!versions || versions.changed()) await answerPending();
      await sleep(intervalMs);
    }
    versions?.close();
  })();
}
void next('stop').then(async () => {
  stopping = true;
  unsubscribe();
  await database.close();
  process.exit(0);
});
send({ type: 'ready' });
