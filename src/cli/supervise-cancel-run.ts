import type { Command } from 'commander';
import { SuperviseError } from '../core/errors.js';
import { safeLine } from '../core/safe-text.js';
import { printJson, withHostDatabase } from './common.js';
import { operatorName } from './supervise/actions.js';

/** `bot-bottle supervise cancel ID --reason`. */
export async function superviseCancel(id: string, options: { reason: string; json?: boolean }, command: Command): Promise<void> {
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
}
