import fs from 'node:fs';
import type { Command } from 'commander';
import { stalenessLookup } from '../../bottles/staleness.js';
import type { SuperviseDatabase } from '../../database.js';
import type { Proposal, ReviewedProposal } from '../../queue/proposal.js';
import { UserError, colorsFor, printJson, withHostDatabase } from '../common.js';
import { safeLine } from '../../core/safe-text.js';
import { isoTime } from '../../core/time.js';
import { UNCOLLECTED_ARCHIVE_AFTER_MS } from '../../admin/prune.js';
import { VERB_EXIT } from '../../core/exit-codes.js';
import { answerProposal, checkDecision, operatorName, requireOperatorProposal, type Decision } from './actions.js';
import { listPending, pendingJson, renderPendingTable, SHORT_ID_LENGTH, type KindLookup } from './list-model.js';
import { builtinKindRules, isBuiltinKind } from '../../kinds/builtin-rules.js';
import type { QueueStore } from '../../queue/queue-store.js';
import { assertInteractiveTerminal } from './terminal.js';
import { loadSuperviseTui } from './load-tui.js';

export interface AnswerOptions {
  reason?: string;
  file?: string;
  json?: boolean;
  expectSha256?: string;
}

/**
 * What the JSON list says of each kind. A built-in kind's rules need none of the payload parsers,
 * so a list of built-in proposals loads none; a launcher's kind is known only from its record in
 * the database, which the store's kinds check (loading them).
 */
async function kindLookup(queue: QueueStore, proposals: readonly Proposal[]): Promise<KindLookup> {
  if (proposals.every((proposal) => isBuiltinKind(proposal.kind))) return { find: builtinKindRules, problem: () => undefined };
  return queue.loadKinds();
}

/**
 * Prints the pending list once: a table for people, JSON for scripts, each with every payload's
 * sha256 to answer with and forged proposals marked (and audited the first time they are seen).
 * The database may be opened for listing (its kinds not loaded): nothing here parses a payload.
 */
export async function printPendingOnce(database: SuperviseDatabase, json: boolean): Promise<void> {
  const proposals = listPending(database.queue);
  const now = Date.now();
  const staleness = stalenessLookup(database.bottles);
  const seal = (proposal: Proposal) => database.queue.proposalSeal(proposal);
  for (const proposal of proposals.filter((p) => seal(p) === 'forged')) await database.queue.auditForged(proposal, 'proposal');
  if (json) {
    const kinds = await kindLookup(database.queue, proposals);
    return printJson(proposals.map((proposal) => pendingJson(proposal, kinds, now, staleness(proposal), seal(proposal))));
  }
  process.stdout.write(renderPendingTable(proposals, { now, width: process.stdout.columns || 120, colors: colorsFor(process.stdout), staleness, seal }));
}

/**
 * An answer from a script binds what the script reviewed: approve and modify need the payload's
 * sha256 as `supervise --once` printed it, and are refused if the proposal changed since. A
 * rejection changes nothing in the bottle, so the hash is optional there (checked when given).
 */
function reviewedFromFlag(decision: Decision, expectSha256: string | undefined, proposal: Proposal): ReviewedProposal | undefined {
  if (expectSha256 === undefined) {
    if (decision.status === 'rejected') return undefined;
    const verb = decision.status === 'approved' ? 'approve' : 'modify';
    throw new UserError(
      `${verb} needs --expect-sha256 HASH: the payload sha256 that \`bot-bottle supervise --once\` (or --json, as payloadSha256) printed for proposal ${proposal.id.slice(0, SHORT_ID_LENGTH)}, so that what you answer is exactly what you reviewed. Or answer it in the interactive UI (bot-bottle supervise), which binds what it shows.`,
      VERB_EXIT.usage,
    );
  }
  const hash = expectSha256.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new UserError(`--expect-sha256 ${JSON.stringify(expectSha256)} is not a sha256: give the 64 hex characters \`bot-bottle supervise --once\` printed for the proposal.`, VERB_EXIT.usage);
  }
  return { payloadSha256: hash };
}

export function readFinalFile(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UserError(`cannot read the modified file ${JSON.stringify(file)}: ${reason}. Pass --file with the path of the edited file (or - for stdin).`);
  }
}

function describeAnswer(proposal: Proposal, status: string, responder: string): string {
  return `${status} ${safeLine(proposal.id.slice(0, SHORT_ID_LENGTH))} (${safeLine(proposal.kind)}, bottle "${safeLine(proposal.slug)}") as ${responder}.`;
}

export async function answerFromScript(command: Command, id: string, decision: Decision, options: AnswerOptions): Promise<void> {
  await withHostDatabase(command, async (database) => {
    const proposal = requireOperatorProposal(database.queue, id);
    const responder = operatorName();
    // What is wrong with the answer itself is said first; then what it must be bound to.
    checkDecision(database.queue.kinds, proposal, decision, responder);
    const reviewed = reviewedFromFlag(decision, options.expectSha256, proposal);
    const result = await answerProposal(database.queue, proposal, decision, responder, reviewed);
    if (result.outcome === 'elsewhere') {
      throw new UserError(`proposal ${proposal.id} (${proposal.kind}, bottle "${proposal.slug}") is no longer pending: ${result.description}.`, VERB_EXIT.conflict);
    }
    // `supervise approve ID --json` reaches the parent's --json (commander hands it options it knows first).
    if (options.json || command.optsWithGlobals<AnswerOptions>().json) printJson({ ...result.response, createdAt: isoTime(result.response.createdAt) });
    else process.stdout.write(`${describeAnswer(proposal, result.response.status, responder)}\n`);
  });
}

/** `bot-bottle supervise`: the list once (`--once`, `--json`), or the interactive UI. */
export async function supervise(options: { once?: boolean; json?: boolean }, command: Command): Promise<void> {
  if (options.once || options.json) return withHostDatabase(command, (database) => printPendingOnce(database, Boolean(options.json)), { existing: true, listing: true });
  // Refused before the database is touched: a TUI without a terminal can only hang.
  assertInteractiveTerminal('bot-bottle supervise');
  await withHostDatabase(
    command,
    async (database) => {
      // The operator's open is where answers nobody collected are tidied away (also on db prune).
      await database.queue.archiveUncollected(UNCOLLECTED_ARCHIVE_AFTER_MS);
      // ink and React load only for the TUI, so --once and the answer verbs start fast.
      const { runSuperviseTui } = await loadSuperviseTui();
      const summary = await runSuperviseTui(database, { responder: operatorName() });
      process.stdout.write(`Answered ${summary.answered} proposal${summary.answered === 1 ? '' : 's'}.\n`);
    },
    { watch: true },
  );
}
