import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_BATCH_SIZE } from '../legacy/batch-size.js';
import type { ImportFlags } from './import-legacy-run.js';

/** The `import-legacy` command tree; what its action does is in ./import-legacy-run.ts, loaded when it runs. */
export function registerImportLegacy(program: Command): void {
  program
    .command('import-legacy')
    .description('Import the pre-SQLite state (queue/<slug>/ JSON files and audit/*.jsonl logs) into the database; idempotent, originals kept. See docs/LEGACY-IMPORT.md.')
    .option('--from <dir>', `the old state directory (default ${path.join('~', '.bot-bottle')})`)
    .option('--dry-run', 'read and count everything, write nothing')
    .option('--batch-size <n>', `files or audit lines per transaction (default ${DEFAULT_BATCH_SIZE})`)
    .option('--json', 'print the summary as JSON')
    .action(async (flags: ImportFlags, command: Command) => {
      const { importLegacyVerb } = await import('./import-legacy-run.js');
      await importLegacyVerb(flags, command);
    });
}
