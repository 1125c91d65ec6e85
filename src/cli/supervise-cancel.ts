import type { Command } from 'commander';
import { SuperviseError } from '../core/errors.js';
import { safeLine } from '../core/safe-text.js';
import { printJson, withHostDatabase } from './common.js';
import { operatorName } from './supervise/actions.js';

/**
 * `supervise cancel ID --reason`: withdraws a pending proposal (either direction), audited with the
 * operator as actor; its waiter gets `cancelled`, never a decision.
 */
export function registerSuperviseCancel(supervise: Command): void {
  supervise
    .command('cancel')
    .description('withdraw a pending proposal by id (or unique id prefix of 8+ characters), with a reason recorded in the audit log; its waiter is told it was cancelled')
    .argument('<id>', 'proposal id, as listed by supervise --once')
    .requiredOption('--reason <text>', 'why; required, recorded in the audit log')
    .option('--json', 'print the cancelled proposal as JSON')
    .action(async (id: string, options: { reason: string; json?: boolean }, command: Command) => {
      if (options.reason.trim() === '') throw new SuperviseError('reason-required', 'cancelling needs a reason (--reason "…"): it is recorded in the audit log.');
      await withHostDatabase(command, async (database) => {
        const proposal = database.queue.findProposal(id);
        if (!proposal) throw new SuperviseError('not-found', `no proposal with id ${JSON.stringify(id)}. List pending proposals with: bot-bottle supervise --once`);
        const actor = operatorName();
        const cancelled = await database.queue.cancelProposal(proposal.slug, proposal.id, { actor, reason: options.reason });
        const now = database.queue.readProposal(proposal.slug, proposal.id) ?? proposal;
        if (options.json || command.optsWithGlobals<{ json?: boolean }>().json) return printJson({ cancelled, proposal: { id: now.id, slug: now.slug, kind: now.kind, state: now.state } });
        process.stdout.write(
          `${cancelled ? 'cancelled' : 'already cancelled:'} ${now.id.slice(0, 8)} (${safeLine(now.kind)}, bottle "${safeLine(now.slug)}")${cancelled ? ` as ${actor}` : ''}.\n`,
        );
      });
    });
}
