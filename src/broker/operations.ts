import { SuperviseError } from '../core/errors.js';
import { SCHEMA_VERSION } from '../storage/schema-version.js';
import { latestEventId, oldestEventId, readEventsAfter, type ChangeEvent } from '../notify/events.js';
import { proposalSealTrusted, responseSealTrusted } from '../queue/proposal-seals.js';
import type { SuperviseDatabase } from '../database.js';
import type { BrokeredBottle } from './bottle-views.js';
import { MAX_POLL_MS, type BrokerOperation, type BrokerRequest } from './protocol.js';

/** Events one `changes` answer carries at most; the client asks again from the last one. */
const EVENTS_PER_ANSWER = 500;

export interface OperationContext {
  database: SuperviseDatabase;
  bottle: BrokeredBottle;
  /** Aborted when the client goes away or the broker stops: a long poll then answers at once. */
  signal: AbortSignal;
}

type Handlers = { [Op in BrokerOperation]: (request: BrokerRequest<Op>, context: OperationContext) => Promise<unknown> };

/**
 * Each operation is the bottle's own view doing what the sidecar would do on a mount; the view
 * refuses what a bottle may not do, so nothing here decides that again.
 */
export const OPERATIONS: Handlers = {
  hello: async (_request, { bottle }) => ({ slug: bottle.slug, schemaVersion: SCHEMA_VERSION }),
  propose: (request, { bottle }) => bottle.queue.writeProposal(request),
  read: async ({ id }, { bottle }) => ({ proposal: bottle.queue.readProposal(id) ?? null }),
  'list-pending': async (request, { bottle }) => ({ proposals: bottle.queue.listPendingProposals(request) }),
  respond: ({ id, ...response }, { bottle }) => bottle.queue.writeResponse(id, response),
  wait: ({ id, timeoutMs }, { bottle, signal }) => bottle.queue.waitForResponse(id, { timeoutMs: Math.min(timeoutMs, MAX_POLL_MS), signal }),
  archive: async ({ id }, { bottle }) => ({ archived: await bottle.queue.archiveProposal(id) }),
  'audit-forged': async ({ id, row }, { bottle }) => {
    // The row is read here, never taken from the request: only a row whose seal really fails is recorded.
    const proposal = bottle.queue.readProposal(id);
    if (!proposal) throw new SuperviseError('not-found', `no proposal ${JSON.stringify(id)} for bottle "${bottle.slug}".`);
    if (row === 'proposal') {
      if (proposalSealTrusted(proposal.target, bottle.queue.proposalSeal(proposal))) return { recorded: false };
    } else {
      const response = bottle.queue.readResponse(id);
      if (!response || responseSealTrusted(proposal.target, bottle.queue.responseSeal(proposal, response))) return { recorded: false };
    }
    return { recorded: await bottle.queue.auditForged(proposal, row) };
  },
  changes: (request, context) => changesAfter(request, context),
  heartbeat: async (heartbeat, { bottle }) => {
    await bottle.self.recordHeartbeat({ ...heartbeat, liveRoutes: heartbeat.liveRoutes === undefined ? undefined : { hash: heartbeat.liveRoutes.hash, text: heartbeat.liveRoutes.text } });
    return {};
  },
  'routes-applied': async (record, { bottle }) => {
    const entry = await bottle.self.recordRoutesApply(record);
    return { seq: entry.seq };
  },
};

export interface ChangesAnswer {
  cursor: number;
  events: ChangeEvent[];
  /** The client's cursor was unknown or older than the kept events: reread the tables. */
  resync: boolean;
}

/**
 * The bottle's change events after `cursor`, waiting (up to the poll limit) for the first one.
 * The cursor makes this lossless: an event committed between two polls is in the next answer.
 */
async function changesAfter({ cursor, timeoutMs }: BrokerRequest<'changes'>, { database, bottle, signal }: OperationContext): Promise<ChangesAnswer> {
  const { db, notifier } = database;
  const latest = latestEventId(db);
  const oldest = oldestEventId(db);
  if (cursor === null || cursor > latest || (oldest !== undefined && cursor < oldest - 1)) return { cursor: latest, events: [], resync: true };
  const read = (): ChangesAnswer | undefined => {
    const events = readEventsAfter(db, cursor, latestEventId(db), EVENTS_PER_ANSWER, [bottle.slug]);
    return events.length === 0 ? undefined : { cursor: events[events.length - 1]!.id, events, resync: false };
  };
  const ready = read();
  if (ready || timeoutMs === 0 || signal.aborted) return ready ?? { cursor, events: [], resync: false };
  return new Promise<ChangesAnswer>((resolve, reject) => {
    let done = false;
    const finish = (answer: ChangesAnswer | Error): void => {
      if (done) return;
      done = true;
      unsubscribe();
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (answer instanceof Error) reject(answer);
      else resolve(answer);
    };
    const idle = (): void => finish({ cursor, events: [], resync: false });
    const onAbort = idle;
    const unsubscribe = notifier.subscribe(
      () => {
        try {
          const answer = read();
          if (answer) finish(answer);
        } catch (error) {
          finish(error as Error);
        }
      },
      { slug: bottle.slug, onClose: idle },
    );
    const timer = setTimeout(idle, Math.min(timeoutMs, MAX_POLL_MS));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
