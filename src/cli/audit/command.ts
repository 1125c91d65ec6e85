import type { Command } from 'commander';
import { EXPORT_FORMATS, LIST_DEFAULT_LIMIT } from './defaults.js';
import type { FilterFlags } from './run.js';

function withFilterOptions(command: Command): Command {
  return command
    .option('--bottle <slug>', 'only entries of this bottle')
    .option('--component <name>', 'only entries of this component (egress, git-gate, …)')
    .option('--kind <kind>', 'only entries about this proposal kind (egress-allow, gitleaks-allow, …)')
    .option('--status <status>', 'only entries with this status (approved, modified, rejected, expired, cancelled)')
    .option('--action <action>', 'only entries with this action (proposal-decision, operator-edit, expired, …)')
    .option('--since <time>', 'only entries at or after this time: ISO date/time, or a duration ago like 30m, 12h, 7d')
    .option('--until <time>', 'only entries before this time (same forms as --since)');
}

function listCommand(audit: Command): void {
  withFilterOptions(audit.command('list'))
    .description(`List audit entries, newest first (${LIST_DEFAULT_LIMIT} unless --limit says otherwise).`)
    .option('--limit <n>', `show at most this many entries (default ${LIST_DEFAULT_LIMIT})`)
    .option('--json', 'print the entries as a JSON array (with diffs and hashes)')
    .action(async (flags: FilterFlags & { limit?: string; json?: boolean }, command: Command) => {
      const { auditList } = await import('./run.js');
      await auditList(flags, command);
    });
}

function showCommand(audit: Command): void {
  audit
    .command('show')
    .description('Show one audit entry in full, with its diff.')
    .argument('<seq>', 'the entry number (the SEQ column of `audit list`)')
    .option('--json', 'print the entry as JSON')
    .action(async (seqText: string, flags: { json?: boolean }, command: Command) => {
      const { auditShow } = await import('./run.js');
      await auditShow(seqText, flags, command);
    });
}

function exportCommand(audit: Command): void {
  withFilterOptions(audit.command('export'))
    .description('Stream the audit log (oldest first) as JSON Lines or CSV, to a file or stdout.')
    .option('--format <format>', `${EXPORT_FORMATS.join(' or ')}`, 'jsonl')
    .option('--output <file>', 'write here instead of stdout (written as <file>.partial, renamed when complete)')
    .option('--force', 'replace --output if it exists')
    .action(async (flags: FilterFlags & { format: string; output?: string; force?: boolean }, command: Command) => {
      const { auditExport } = await import('./run.js');
      await auditExport(flags, command);
    });
}

function verifyCommand(audit: Command): void {
  audit
    .command('verify')
    .description(
      'Check the hash chain and every recorded answer (its decision entry and its seal: the host signature for an operator answer); print the head (HASH:COUNT) to keep outside the database. Exit 1 names what does not check out.',
    )
    .option('--expect-head <hash:count>', 'also check the log still contains this head, kept from an earlier verify (catches a truncated or rewritten log)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { expectHead?: string; json?: boolean }, command: Command) => {
      const { auditVerify } = await import('./run.js');
      await auditVerify(flags, command);
    });
}

/** The `audit` command tree; what its actions do is in ./run.ts, loaded when one runs. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('Review the audit log: list, show, export, verify.');
  listCommand(audit);
  showCommand(audit);
  exportCommand(audit);
  verifyCommand(audit);
}
