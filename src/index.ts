export { AuditStore, GENESIS_HASH, canonicalAuditEntry, chainHash } from './audit-store.js';
export type { AuditEntry, AuditEntryInput, AuditFilter, AuditHead, AuditVerification } from './audit-store.js';
export { BUSY_TIMEOUT_MS, checkpoint, openConnection, retryOnBusy, writeTransaction } from './connection.js';
export type { Db, OpenOptions } from './connection.js';
export { assertSchemaVersion, openHostDatabase, openSidecarDatabase, startCheckpointing } from './database.js';
export type { OpenDatabaseOptions, SuperviseDatabase } from './database.js';
export { renderDiff } from './diff.js';
export { ConflictError, SuperviseError, isSuperviseError } from './errors.js';
export type { SuperviseErrorCode } from './errors.js';
export type { ChangeEvent, ChangeType } from './events.js';
export {
  KIND_EGRESS_ALLOW,
  KIND_EGRESS_BLOCK,
  KIND_EGRESS_ROUTES_APPLY,
  KIND_EGRESS_TOKEN_ALLOW,
  KIND_GITLEAKS_ALLOW,
  KindRegistry,
} from './kinds.js';
export type { KindDefinition, Target } from './kinds.js';
export * from './limits.js';
export { loadMigrations, migrateDown, migrateUp, migrationStatus, readUserVersion } from './migrations.js';
export type { MigrationFile, MigrationResult, MigrationStatus } from './migrations.js';
export { ChangeNotifier } from './notifier.js';
export type { ChangeListener, Notification, NotifierOptions, SubscribeOptions } from './notifier.js';
export { DB_PATH_IN_CONTAINER, SHARED_DIR_IN_CONTAINER, ensureHostLayout, hostDbPath, sharedDbFile, sharedDir, stateDir } from './paths.js';
export { BottleQueue, QueueStore, RESPONSE_STATUSES, sha256 } from './queue-store.js';
export type { NewProposal, NewResponse, Proposal, ProposalResponse, ProposalState, ResponseStatus, WaitOptions, WaitOutcome } from './queue-store.js';
export { SCHEMA_VERSION } from './schema-version.js';
export { validateSlug } from './validation.js';
export { applyRoutes, prepareSupervise } from './launcher.js';
export type { ApplyRoutesOptions, ApplyRoutesResult, ContainerEngine, PrepareSuperviseOptions, SuperviseMount, SupervisePlan } from './launcher.js';
export {
  AUTH_SCHEMES,
  DLP_ACTIONS,
  PayloadError,
  buildTokenAllowPayload,
  gitleaksReportFromGitleaksJson,
  parseGitleaksReport,
  parseRoutesYaml,
  parseTokenAllowReport,
  renderRoutesYaml,
} from './payload-validation.js';
export type { GitleaksFinding, GitleaksReport, PayloadProblem, Route, RoutesDocument, TokenAllowInput, TokenAllowReport } from './payload-validation.js';
export { MountGuardError, assertDbMountSupported, checkDbMount, parseMountinfo } from './mount-guard.js';
export type { MountVerdict, MountinfoEntry } from './mount-guard.js';
export { PROPOSE_EXIT } from './propose-exit.js';
export { assertLegacyRoot, importLegacy } from './legacy-import.js';
export type { LegacyImportOptions, LegacyImportSummary, UnitCounts } from './legacy-import.js';
export { backupDatabase } from './db-backup.js';
export type { BackupOptions, BackupResult } from './db-backup.js';
export { adoptLegacyDatabase } from './db-adopt.js';
export type { AdoptResult } from './db-adopt.js';
export { readDatabaseStatus } from './db-status.js';
export type { DatabaseStatus } from './db-status.js';
export { checkDatabaseFile, checkHostLayout } from './db-check.js';
export type { CheckResult } from './db-check.js';
