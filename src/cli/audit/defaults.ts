/** What the `audit` command tree shows in its help and ./run.ts applies: kept apart so the tree loads nothing else. */
export type ExportFormat = 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

export const LIST_DEFAULT_LIMIT = 50;
