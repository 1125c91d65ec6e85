/**
 * The host side of the round-trip benchmark: subscribed to new pending proposals as the operator
 * view is, it approves each one as soon as it learns of it.
 */
import { openHostDatabase } from '../../src/database.js';
import { benchKeysDir } from '../keys.js';
import { failOnError, next, send } from '../lib/worker.js';

failOnError();
const [file] = process.argv.slice(2) as [string];
const database = await openHostDatabase({ path: file, keysDir: benchKeysDir(file) });
const { queue } = database;
let answering = false;

/** Answers everything pending, one at a time; a notification during a pass triggers another. */
async function answerPending(): Promise<void> {
  if (answering) {
    again = true;
    return;
  }
  answering = true;
  do {
    again = false;
    for (const proposal of queue.listPendingProposals()) {
      await queue.writeResponse(proposal.slug, proposal.id, { status: 'approved', responder: 'operator', notes: 'ok' });
    }
  } while (again);
  answering = false;
}
let again = false;

const unsubscribe = queue.subscribe({ target: 'operator', types: ['created'] }, () => void answerPending());
void next('stop').then(async () => {
  unsubscribe();
  await database.close();
  process.exit(0);
});
send({ type: 'ready' });
