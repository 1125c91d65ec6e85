import type { Command } from 'commander';
import { registerSuperviseCancel } from '../supervise-cancel.js';
import type { AnswerOptions } from './run.js';

/** The `supervise` command tree; what its actions do is in ./run.ts, loaded when one runs. */
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
      const { supervise } = await import('./run.js');
      await supervise(options, command);
    });

  registerSuperviseCancel(supervise);

  supervise
    .command('approve')
    .description('approve a pending proposal by id (or unique id prefix of 8+ characters)')
    .argument('<id>', 'proposal id, as listed by supervise --once')
    .option('--reason <text>', 'why; required for gitleaks-allow and egress-token-allow')
    .option('--expect-sha256 <hash>', 'required: the payload sha256 supervise --once printed; refused if the proposal changed since you reviewed it')
    .option('--json', 'print the response written as JSON')
    .action(async (id: string, options: AnswerOptions, command: Command) => {
      const { answerFromScript } = await import('./run.js');
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
      const { answerFromScript, readFinalFile } = await import('./run.js');
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
      const { answerFromScript } = await import('./run.js');
      await answerFromScript(command, id, { status: 'rejected', reason: options.reason ?? '' }, options);
    });
}
