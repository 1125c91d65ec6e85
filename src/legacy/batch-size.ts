/** Queue files or audit lines per transaction unless the caller says otherwise; `import-legacy --help` shows it. */
export const DEFAULT_BATCH_SIZE = 500;
