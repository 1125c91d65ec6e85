import fs from 'node:fs';
import type { Command } from 'commander';
import { stalenessLookup } from '../../bottles/staleness.js';
import type { SuperviseDatabase } from '../../database.js';
import type { Proposal } from '../../queue/proposal.js';
import { UserError, colorsFor, printJson, withHostDatabase } from '../common.js';
import { safeLine } from '../../core/safe-text.js';
import { VERB_EXIT } from '../../core/exit-codes.js';
import { answerProposal, operatorName, requireOperatorProposal, type Decision } from './actions.js';
import { listPending, pendingJson, renderPendingTable, SHORT_ID_LENGTH } from './list-model.js';
import { assertInteractiveTerminal } from './terminal.js';
import { loadSuperviseTui } from './load-tui.js';

interface AnswerOptions {
  reason?: string;
  file?: string;
  json?: boolean;
}

/** Prints the pending list once: a table for people, JSON for scripts. */
export function printPendingOnce(database: SuperviseDatabase, json: boolean): void {
  const proposals = listPending(database.queue);
  const now = Date.now();
  const staleness = stalenessLookup(database.bottles);
  if (json) return printJson(proposals.map((proposal) => pendingJson(proposal, database.queue.kinds, now, staleness(proposal))));
  process.stdout.write(renderPendingTable(proposals, { now, width: process.stdout.columns || 120, colors: colorsFor(process.stdout), staleness }));
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
    const result = await answerProposal(database.queue, proposal, decision, responder);
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
Interactive keys: ↑↓ select, Enter open (justification and diff), a approve, m modify in $EDITOR,
r reject, q/Esc back or quit. Reasons are required to reject, and to approve gitleaks-allow and
egress-token-allow (which cannot be modified). The list updates live as proposals arrive or are
answered elsewhere.

Exit codes: 0 ok, 2 bad flags, 3 bad input (unknown id, invalid file, missing reason),
4 no longer pending (answered elsewhere, expired, cancelled), 5 environment (no TTY, database).`,
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
    .option('--json', 'print the response written as JSON')
    .action(async (id: string, options: AnswerOptions, command: Command) => {
      await answerFromScript(command, id, { status: 'rejected', reason: options.reason ?? '' }, options);
    });
}
