import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { stalenessLookup } from '../bottles/staleness.js';
import { SuperviseError } from '../core/errors.js';
import { MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { ImportLedger } from '../legacy/ledger.js';
import type { SuperviseDatabase } from '../database.js';
import type { Proposal, ProposalSummary } from '../queue/proposal.js';
import { verifyAnswers } from '../queue/answer-verification.js';
import { answerProposal, checkDecision, describeSettled, requireOperatorProposal, type Decision } from '../cli/supervise/actions.js';
import { csrfCheck, hostCheck, securityHeaders, tokenCheck, type AccessSecrets } from './access.js';
import { badRequest, errorResponse, errorView } from './api-errors.js';
import { auditEntryView, auditFilterFrom, auditRowView, verifyView } from './audit-view.js';
import { bottleViews } from './bottle-view.js';
import { LiveUpdates } from './live-updates.js';
import type { AnswerView, AuditListView, EditCheckView, PendingLoadView, PendingView, SessionView } from './page/api-types.js';
import { type PageAssets } from './page-assets.js';
import { pendingRowView, proposalView } from './proposal-view.js';
import { parseAnswerRequest, parseEditCheck } from './request-body.js';
import { diffView } from './view-lines.js';

export interface DashboardAppOptions {
  database: SuperviseDatabase;
  secrets: AccessSecrets;
  /** Host header values this server answers to (see allowedHostHeaders). */
  allowedHosts: ReadonlySet<string>;
  port: number;
  /** Who the audit log names for answers given here. */
  responder: string;
  assets: PageAssets;
}

/** An answer's body holds at most a payload-sized file and a reason; a little room for JSON escaping. */
const MAX_BODY_BYTES = 4 * MAX_PAYLOAD_BYTES;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An idle event stream is kept open through proxies and sleeping laptops by a comment this often. */
const KEEPALIVE_MS = 15_000;

export interface DashboardApp {
  app: Hono;
  live: LiveUpdates;
}

/**
 * The dashboard's routes. Every request passes the Host check, then the token; state-changing
 * ones also the CSRF check. Answers go through the same calls as `bot-bottle supervise`
 * (checkDecision, answerProposal), bound to the payload hash the page showed.
 */
export function createDashboardApp(options: DashboardAppOptions): DashboardApp {
  const { database, secrets, assets } = options;
  const { queue, audit, bottles } = database;
  const auditedForged = new Set<string>();

  // Summaries, not whole proposals: the list needs no payload or current file, only the payload's
  // hash (computed here from the stored payload) for the same seal check the detail view makes.
  const pendingView = (): PendingView => {
    const summaries = queue.listPendingSummaries('operator');
    const staleness = stalenessLookup(bottles);
    const rows = summaries.map((summary) => {
      const seal = queue.summarySeal(summary);
      if (seal === 'forged') recordForged(summary);
      return pendingRowView(summary, staleness(summary), seal);
    });
    return { rows, readAt: Date.now() };
  };
  // A forged proposal goes into the audit log the first time this process sees it, as the TUI does.
  const recordForged = (proposal: ProposalSummary): void => {
    if (auditedForged.has(proposal.id)) return;
    auditedForged.add(proposal.id);
    queue.auditForged(proposal, 'proposal').catch((error: unknown) => process.stderr.write(`bot-bottle dashboard: could not record a forged proposal: ${String(error)}\n`));
  };
  const live = new LiveUpdates(database.notifier, () => JSON.stringify(pendingView()));
  /** The version first: a change batch arriving after it makes this list old for the stream (see LiveUpdates). */
  const versionedPendingView = (): PendingLoadView => {
    const version = live.version();
    return { ...pendingView(), version };
  };

  const app = new Hono();
  app.onError((error, c) => errorResponse(c, error, database.path));
  app.use('*', securityHeaders(), hostCheck(options.allowedHosts), tokenCheck(secrets, options.port), csrfCheck(secrets, options.allowedHosts));
  app.use('/api/*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.json({ code: 'too-large', error: `the request body is over ${MAX_BODY_BYTES} bytes: a file to answer with is at most ${MAX_PAYLOAD_BYTES} bytes.` }, 413) }));

  app.get('/', (c) => c.html(assets.shell));
  app.get('/static/:file', (c) => {
    const asset = assets.files.get(c.req.param('file'));
    if (!asset) return c.text('404 Not Found\n', 404);
    return c.body(asset.body, 200, { 'Content-Type': asset.type });
  });

  app.get('/api/session', (c) => c.json({ csrfToken: secrets.csrfToken, responder: options.responder } satisfies SessionView));
  app.get('/api/pending', (c) => c.json(versionedPendingView()));

  const operatorProposal = (c: Context): Proposal => {
    const id = c.req.param('id') ?? '';
    if (!UUID.test(id)) throw badRequest('the proposal id must be a full lowercase UUID, as the pending list gives it.');
    return requireOperatorProposal(queue, id);
  };

  app.get('/api/proposals/:id', (c) => {
    const proposal = operatorProposal(c);
    const settled = proposal.state === 'pending' ? null : describeSettled(queue, proposal);
    return c.json(proposalView(proposal, queue.kinds, stalenessLookup(bottles)(proposal), queue.proposalSeal(proposal), settled));
  });

  app.post('/api/proposals/:id/check', async (c) => {
    const proposal = operatorProposal(c);
    const edited = parseEditCheck(await jsonBody(c));
    const kind = queue.kinds.find(proposal.kind);
    if (!kind?.modifiable) throw new SuperviseError('modify-not-allowed', `${proposal.kind} proposals cannot be modified: approve or reject them.`);
    try {
      queue.kinds.validate(proposal.kind, edited, 'the edited file');
    } catch (error) {
      if (error instanceof SuperviseError && error.code !== 'unknown-kind') {
        const view = errorView(error);
        return c.json({ ok: false, message: view.error, problems: view.problems ?? [] } satisfies EditCheckView);
      }
      throw error;
    }
    return c.json({ ok: true, unchanged: edited === proposal.payload, diff: diffView(kind.diff(proposal.payload, edited)) } satisfies EditCheckView);
  });

  app.post('/api/proposals/:id/answer', async (c) => {
    const proposal = operatorProposal(c);
    const request = parseAnswerRequest(await jsonBody(c));
    const decision: Decision =
      request.status === 'modified' ? { status: 'modified', reason: request.reason, finalPayload: request.finalPayload ?? '' } : { status: request.status, reason: request.reason };
    checkDecision(queue.kinds, proposal, decision, options.responder);
    const result = await answerProposal(queue, proposal, decision, options.responder, { payloadSha256: request.payloadSha256, currentFileHash: request.currentFileHash });
    const view: AnswerView =
      result.outcome === 'answered' ? { outcome: 'answered', status: result.response.status, responder: result.response.responder } : { outcome: 'elsewhere', description: result.description };
    return c.json(view);
  });

  app.get('/api/audit', (c) => {
    const filter = auditFilterFrom(c.req.query());
    return c.json({ rows: audit.readAuditEntries(filter).map(auditRowView), headCount: audit.head().count } satisfies AuditListView);
  });

  app.get('/api/audit/:seq', (c) => {
    const text = c.req.param('seq');
    const seq = Number(text);
    if (!/^\d{1,15}$/.test(text) || seq < 1) throw badRequest('the entry number must be a positive whole number.');
    const entry = audit.readAuditEntry(seq);
    if (!entry) throw new SuperviseError('not-found', `there is no audit entry ${seq}: the log has ${audit.head().count} entries.`);
    return c.json(auditEntryView(entry));
  });

  // Reads only, but it walks the whole log: a POST, so no prefetch or stray link starts it.
  app.post('/api/audit/verify', (c) => {
    const ledger = new ImportLedger(database.db, 0);
    return c.json(verifyView(audit.verify(), verifyAnswers(database.db, database.keyring, { isImported: (id) => ledger.has(`response:${id}`) })));
  });

  app.get('/api/bottles', (c) => c.json(bottleViews(bottles.overview(Date.now()))));

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      let end: () => void = () => undefined;
      const ended = new Promise<void>((resolve) => (end = resolve));
      stream.onAbort(end);
      // The list the page holds: the last one this stream sent (EventSource repeats its id when it
      // reconnects), else the one it read from /api/pending on load.
      const have = c.req.header('last-event-id') ?? c.req.query('have');
      // The response starts with its first write: say hello now, or a page that needs no list waits for the keepalive to learn it is live.
      await stream.write(': live\n\n');
      const leave = live.join({ send: (event, data, id) => stream.writeSSE({ event, data, ...(id === undefined ? {} : { id }) }), end }, have);
      if (!leave) {
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ error: 'too many open dashboard pages: close some and reload.' }) });
        return;
      }
      const keepalive = setInterval(() => void stream.write(': keepalive\n\n').catch(end), KEEPALIVE_MS);
      try {
        await ended;
      } finally {
        clearInterval(keepalive);
        leave();
      }
    }),
  );

  return { app, live };
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw badRequest('the request body is not valid JSON.');
  }
}
