/** The operator's answers from the CLI and the TUI: checked before anything is written, against a real database file. */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerProposal, checkDecision, reasonRequired, reviewOf } from '../src/cli/supervise/actions.js';
import { openHostDatabase, type SuperviseDatabase } from '../src/database.js';
import { dumpData, expectFailure, GITLEAKS_REPORT, ROUTES_YAML, routesFor, tempDir } from './fixtures/storage-support.js';

const SLUG = 'acme';
const RESPONDER = 'operator:tester';

describe('operator decisions', () => {
  let database: SuperviseDatabase;

  beforeAll(async () => {
    database = await openHostDatabase({ path: path.join(tempDir('actions'), 'supervise.db'), watch: false });
  });

  afterAll(async () => {
    await database.close();
  });

  const propose = (kind: string, payload: string) => database.queue.writeProposal(SLUG, { kind, origin: 'agent', payload, justification: 'needed' });

  it('a rejection needs a reason, whatever the kind', async () => {
    const proposal = await propose('egress-allow', ROUTES_YAML);
    for (const reason of ['', '  \n']) {
      await expectFailure(() => checkDecision(database.queue.kinds, proposal, { status: 'rejected', reason }, RESPONDER), 'reason-required', /^a rejection needs a reason: say why, so the agent can adjust its request\.$/);
    }
  });

  it('leaves the kind’s rules to the registry: approving a report needs a reason, a report cannot be modified', async () => {
    const proposal = await propose('gitleaks-allow', GITLEAKS_REPORT);
    const kinds = database.queue.kinds;
    await expectFailure(() => checkDecision(kinds, proposal, { status: 'approved', reason: ' ' }, RESPONDER), 'reason-required', /^approving a gitleaks-allow proposal needs a reason/);
    await expectFailure(() => checkDecision(kinds, proposal, { status: 'modified', reason: 'ok', finalPayload: GITLEAKS_REPORT }, RESPONDER), 'modify-not-allowed', /^gitleaks-allow proposals cannot be modified/);
    expect(checkDecision(kinds, proposal, { status: 'approved', reason: '  a test fixture \n' }, RESPONDER)).toEqual({ status: 'approved', responder: RESPONDER, notes: 'a test fixture' });
  });

  it('says up front when a reason is needed: to reject anything, and to approve kinds that ask for one', () => {
    const kinds = database.queue.kinds;
    expect(reasonRequired(kinds.find('egress-allow'), 'rejected')).toBe(true);
    expect(reasonRequired(kinds.find('egress-allow'), 'approved')).toBe(false);
    expect(reasonRequired(kinds.find('egress-allow'), 'modified')).toBe(false);
    expect(reasonRequired(kinds.find('gitleaks-allow'), 'approved')).toBe(true);
    expect(reasonRequired(kinds.find('egress-token-allow'), 'approved')).toBe(true);
    expect(reasonRequired(undefined, 'approved')).toBe(false);
  });

  it('a refused decision writes nothing; an accepted one is written with trimmed notes', async () => {
    const proposal = await propose('egress-allow', ROUTES_YAML);
    const before = dumpData(database.db);
    await expectFailure(() => answerProposal(database.queue, proposal, { status: 'modified', reason: '', finalPayload: 'routes: 7\n' }, RESPONDER, reviewOf(proposal)), 'invalid-payload', /^the modified file is not a valid egress-allow payload/);
    await expectFailure(() => answerProposal(database.queue, proposal, { status: 'rejected', reason: '' }, RESPONDER, reviewOf(proposal)), 'reason-required', /a rejection needs a reason/);
    expect(dumpData(database.db)).toEqual(before);

    const edited = routesFor('pypi.org');
    const result = await answerProposal(database.queue, proposal, { status: 'modified', reason: ' narrowed \n', finalPayload: edited }, RESPONDER, reviewOf(proposal));
    expect(result).toMatchObject({ outcome: 'answered', response: { status: 'modified', notes: 'narrowed', finalPayload: edited, responder: RESPONDER } });
  });

  it('a proposal answered elsewhere is an outcome, not a failure', async () => {
    const proposal = await propose('egress-block', ROUTES_YAML);
    await database.queue.writeResponse(SLUG, proposal.id, { status: 'approved', responder: 'operator:alice' });
    expect(await answerProposal(database.queue, proposal, { status: 'approved', reason: '' }, RESPONDER, reviewOf(proposal))).toEqual({
      outcome: 'elsewhere',
      description: 'answered elsewhere: approved by operator:alice',
    });
  });
});
