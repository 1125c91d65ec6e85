import type { Command } from 'commander';

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
      const { superviseCancel } = await import('./supervise-cancel-run.js');
      await superviseCancel(id, options, command);
    });
}
