/**
 * Administration of the host database, published as `bot-bottle-supervise/admin`: what
 * `bot-bottle db`, `audit verify --expect-head` and `import-legacy` are built on. Every export is
 * documented in docs/API.md.
 */
export { planMigrate, planRollback } from './migration-plan.js';
export type { MigrationPlan, PlanOptions, PlannedMigration } from './migration-plan.js';
export { migrateDown, migrateUp, migrationStatus } from '../storage/migrations.js';
export type { MigrationResult, MigrationStatus } from '../storage/migrations.js';
export { readDatabaseStatus } from './status.js';
export type { DatabaseStatus, PendingStatus } from './status.js';
export { pruneArchived, UNCOLLECTED_ARCHIVE_AFTER_MS } from './prune.js';
export type { PruneOptions, PruneResult } from './prune.js';
export { vacuumDatabase } from './vacuum.js';
export type { VacuumResult } from './vacuum.js';
export { checkDatabase, checkDatabaseFile, checkHostLayout } from './check.js';
export type { CheckResult } from './check.js';
export { backupDatabase } from './backup.js';
export type { BackupOptions, BackupResult } from './backup.js';
export { adoptLegacyDatabase } from './adopt.js';
export type { AdoptResult } from './adopt.js';
export { checkKeptHead, parseKeptHead } from '../audit/kept-head.js';
export type { KeptHeadCheck } from '../audit/kept-head.js';
export { importLegacy } from '../legacy/import.js';
export type { LegacyImportOptions } from '../legacy/import.js';
export { assertLegacyRoot } from '../legacy/tree.js';
export type { LegacyImportSummary, LegacyProblem, UnitCounts } from '../legacy/summary.js';
export { startCheckpointing } from '../database.js';
