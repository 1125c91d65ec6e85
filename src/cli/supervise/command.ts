import fs from 'node:fs';
import type { Command } from 'commander';
import { stalenessLookup } from '../../bottles/staleness.js';
import type { SuperviseDatabase } from '../../database.js';
import type { Proposal, ReviewedProposal } from '../../queue/proposal.js';
import { UserError, colorsFor, printJson, withHostDatabase } from '../common.js';
import { safeLine } from '../../core/safe-text.js';
import { VERB_EXIT } from '../../core/exit-codes.js';
import { answerProposal, checkDecision, operatorName, requireOperatorProposal, type Decision } from './actions.js';
import { listPending, pendingJson, renderPendingTable, SHORT_ID_LENGTH } from './list-model.js';
import { assertInteractiveTerminal } from './terminal.js';
import { loadSuperviseTui } from './load-tui.js';

interface AnswerOptions {
  reason?: string;
  file?: string;
  json?: boolean;
  expectSha256?: string;
}

/**
 * Prints the pending list once: a table for people, JSON for scripts, each with every payload's
 * sha256 to answer with and forged proposals marked (and audited the first time they are seen).
 */
export async function printPendingOnce(database: SuperviseDatabase, json: boolean): Promise<void> {
  const proposals = listPending(database.queue);
  const now = Date.now();
  const staleness = stalenessLookup(database.bottles);
  const seal = (proposal: Proposal) => database.queue.proposalSeal(proposal);
  for (const proposal of proposals.filter((p) => seal(p) === 'forged')) await database.queue.auditForged(proposal, 'proposal');
  if (json) return printJson(proposals.map((proposal) => pendingJson(proposal, database.queue.kinds, now, staleness(proposal), seal(proposal))));
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

function readFinalFile(file: string): string {
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

async function answerFromScript(command: Command, id: string, decision: Decision, options: AnswerOptions): Promise<void> {
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
    if (options.json || command.optsWithGlobals<AnswerOptions>().json) printJson(result.response);
    else process.stdout.write(`${describeAnswer(proposal, result.response.status, responder)}\n`);
  });
}

export function registerSupervise(program: Command): void {
  const supervise = program
    .command('supervise')
    .description('Triage pending proposals of every bottle: an interactive terminal UI, or --once/--json and the approve|modify|reject verbs for scripts.')
    .option('--once', 'print the pending proposals (oldest first) and exit instead of starting the interactive UI')
    .option('--json', 'with --once: print the pending proposals as JSON (implies --once)')
    .addHelpText(
      'after',
      `
Interactive keys: ↑↓ select, Enter open (justification and diff), a approve, m modify in $EDITOR
(the edit's diff is shown before the reason), r reject, / search, b/t only the selected bottle/kind,
o group by bottle, B bottles (alive, stale, gone), Space mark, R reject the marked with one reason,
q/Esc back or quit, ? every key. Reasons are required to reject, and to approve gitleaks-allow and
egress-token-allow (which cannot be modified). The list updates live as proposals arrive or are
answered elsewhere.

approve and modify take --expect-sha256 HASH, the payload sha256 --once prints: an answer is
refused when the proposal changed since it was reviewed. A proposal marked [FORGED] (its seal
does not verify) can only be rejected.

Exit codes: 0 ok, 2 bad flags, 3 bad input (unknown id, invalid file, missing reason),
4 no longer pending (answered elsewhere, expired, cancelled), changed since reviewed, or forged,
5 environment (no TTY, database).`,
    )
    .action(async (options: { once?: boolean; json?: boolean }, command: Command) => {
      if (options.once || options.json) return withHostDatabase(command, (database) => printPendingOnce(database, Boolean(options.json)), { existing: true });
      // Refused before the database is touched: a TUI without a terminal can only hang.
      assertInteractiveTerminal('bot-bottle supervise');
      await withHostDatabase(
        command,
        async (database) => {
          // ink and React load only for the TUI, so --once and the answer verbs start fast.
          const { runSuperviseTui } = await loadSuperviseTui();
          const summary = await runSuperviseTui(database, { responder: operatorName() });
          process.stdout.write(`Answered ${summary.answered} proposal${summary.answered === 1 ? '' : 's'}.\n`);
        },
        { watch: true },
      );
    });

  supervise
    .command('approve')
    .description('approve a pending proposal by id (or unique id prefix of 8+ characters)')
    .argument('<id>', 'proposal id, as listed by supervise --once')
    .option('--reason <text>', 'why; required for gitleaks-allow and egress-token-allow')
    .option('--expect-sha256 <hash>', 'required: the payload sha256 supervise --once printed; refused if the proposal changed since you reviewed it')
    .option('--json', 'print the response written as JSON')
    .action(async (id: string, options: AnswerOptions, command: Command) => {
      await answerFromScript(command, id, { status: 'approved', reason: options.reason ?? '' }, options);
    });

  supervise
    .command('modify')
    .description('answer a pending proposal with an edited file (validated for its kind before anything is written)')
    .argument('<id>', 'proposal id, as listed by supervise --once')
    .requiredOption('--file <path>', 'the edited file to approve instead of the proposed one (- reads stdin)')
    .option('--reason <text>', 'why the change was made')
    .option('--expect-sha256 <hash>', 'required: the proposed payload\'s sha256 supervise --once printed; refused if the proposal changed since you reviewed it')
    .option('--json', 'print the response written as JSON')
    .action(async (id: string, options: AnswerOptions, command: Command) => {
      const finalPayload = readFinalFile(options.file ?? '');
      await answerFromScript(command, id, { status: 'modified', reason: options.reason ?? '', finalPayload }, options);
    });

  supervise
    .command('reject')
    .description('reject a pending proposal by id, with a reason the agent gets back')
    .argument('<id>', 'proposal id, as listed by supervise --once')
    .requiredOption('--reason <text>', 'why; required')
    .option('--expect-sha256 <hash>', 'the payload sha256 supervise --once printed: refused if the proposal changed since')
    .option('--json', 'print the response written as JSON')
    .action(async (id: string, options: AnswerOptions, command: Command) => {
      await answerFromScript(command, id, { status: 'rejected', reason: options.reason ?? '' }, options);
    });
}
