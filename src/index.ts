export { AuditStore, GENESIS_HASH, canonicalAuditEntry, chainHash } from './audit/audit-store.js';
export type { AuditEntry, AuditEntryInput, AuditFilter, AuditHead, AuditVerification } from './audit/audit-store.js';
export { BUSY_TIMEOUT_MS, checkpoint, openConnection, retryOnBusy, writeTransaction } from './storage/connection.js';
export type { Db, OpenOptions } from './storage/connection.js';
export { assertSchemaVersion, openHostDatabase, openSidecarDatabase, startCheckpointing } from './database.js';
export type { OpenDatabaseOptions, SuperviseDatabase } from './database.js';
export { renderDiff } from './kinds/diff.js';
export { SuperviseError, isSuperviseError } from './core/errors.js';
export type { SuperviseErrorCode } from './core/errors.js';
export type { ChangeEvent, ChangeType } from './notify/events.js';
export {
  KIND_EGRESS_ALLOW,
  KIND_EGRESS_BLOCK,
  KIND_EGRESS_ROUTES_APPLY,
  KIND_EGRESS_TOKEN_ALLOW,
  KIND_GITLEAKS_ALLOW,
  KindRegistry,
} from './kinds/registry.js';
export type { KindDefinition } from './kinds/registry.js';
export type { Target } from './core/target.js';
export * from './core/limits.js';
export { loadMigrations, migrateDown, migrateUp, migrationStatus, readUserVersion } from './storage/migrations.js';
export type { MigrationFile, MigrationResult, MigrationStatus } from './storage/migrations.js';
export { ChangeNotifier } from './notify/notifier.js';
export type { ChangeListener, Notification, NotifierOptions, SubscribeOptions } from './notify/notifier.js';
export { DB_PATH_IN_CONTAINER, SHARED_DIR_IN_CONTAINER, ensureHostLayout, hostDbPath, sharedDbFile, sharedDir, stateDir } from './storage/layout.js';
export { QueueStore } from './queue/queue-store.js';
export { BottleQueue } from './queue/bottle-queue.js';
export { RESPONSE_STATUSES } from './queue/proposal.js';
export { sha256 } from './core/hash.js';
export type { NewProposal, NewResponse, Proposal, ProposalResponse, ProposalState, ResponseStatus, WaitOptions, WaitOutcome } from './queue/proposal.js';
export { SCHEMA_VERSION } from './storage/schema-version.js';
export { validateSlug } from './core/validation.js';
export { applyRoutes, prepareSupervise } from './launcher/launcher.js';
export type { ApplyRoutesOptions, ApplyRoutesResult, ContainerEngine, PrepareSuperviseOptions, SuperviseMount, SupervisePlan } from './launcher/launcher.js';
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
} from './kinds/payloads.js';
export type { GitleaksFinding, GitleaksReport, PayloadProblem, Route, RoutesDocument, TokenAllowInput, TokenAllowReport } from './kinds/payloads.js';
export { MountGuardError, assertDbMountSupported, checkDbMount, parseMountinfo } from './storage/mount-guard.js';
export type { MountVerdict, MountinfoEntry } from './storage/mount-guard.js';
export { PROPOSE_EXIT } from './core/exit-codes.js';
export { assertLegacyRoot, importLegacy } from './legacy/import.js';
export type { LegacyImportOptions, LegacyImportSummary, UnitCounts } from './legacy/import.js';
export { backupDatabase } from './admin/backup.js';
export type { BackupOptions, BackupResult } from './admin/backup.js';
export { adoptLegacyDatabase } from './admin/adopt.js';
export type { AdoptResult } from './admin/adopt.js';
export { readDatabaseStatus } from './admin/status.js';
export type { DatabaseStatus } from './admin/status.js';
export { checkDatabaseFile, checkHostLayout } from './admin/check.js';
export type { CheckResult } from './admin/check.js';
