/**
 * The library a launcher and host tools use: open the host database, prepare and talk to a
 * bottle's sidecar, ask and wait through the one proposal lifecycle, and the few helpers a
 * caller needs to do that safely. Administration (migrations, backup, checks, legacy import)
 * is the `./admin` entry; code inside a bottle uses `./sidecar`. Every export is documented in
 * docs/API.md.
 */
export { openHostDatabase } from './database.js';
export type { OpenDatabaseOptions, SuperviseDatabase } from './database.js';
export { SCHEMA_VERSION_LABEL, applyRoutes, prepareSupervise } from './launcher/launcher.js';
export type { ApplyRoutesOptions, ApplyRoutesResult, ContainerEngine, PrepareSuperviseOptions, SidecarImage, SuperviseMount, SupervisePlan } from './launcher/launcher.js';
export { registerBottle, retireBottle } from './launcher/bottles.js';
export type { BottleRecordOptions } from './launcher/bottles.js';
export type { SuperviseBackend } from './launcher/backends.js';
export { startBroker } from './broker/run-broker.js';
export type { RunningBroker, StartBrokerOptions } from './broker/run-broker.js';
export { askAndWait, resumeWait } from './queue/proposal-flow.js';
export { summarizeProposal, watchNewProposals } from './queue/new-proposals.js';
export type { ProposalSummary } from './queue/new-proposals.js';
export type { Idempotency, ProposalRequest, ProposalResult, ResumeExpectation, WaitSettings } from './queue/proposal-flow.js';
export type { QueueStore } from './queue/queue-store.js';
export type { BottleQueue } from './queue/bottle-queue.js';
export type { ListPendingOptions, NewProposal, Proposal, ProposalResponse, ProposalState, WaitOptions, WaitOutcome } from './queue/proposal.js';
export type { AuditStore, AuditEntry, AuditEntryInput, AuditFilter, AuditHead, AuditVerification } from './audit/audit-store.js';
export type { Bottle, BottleRegistration, BottleSelf, BottleStore, Heartbeat, RoutesApplyRecord } from './bottles/bottle-store.js';
export { ALIVE_WITHIN_MS, GONE_AFTER_MS, HEARTBEAT_INTERVAL_MS } from './bottles/bottle-overview.js';
export type { BottleOverview, HeartbeatState, Liveness, RegistrationState } from './bottles/bottle-overview.js';
export type { ChangeNotifier, Notification } from './notify/notifier.js';
export type { ChangeEvent, ChangeType } from './notify/events.js';
export { KindRegistry } from './kinds/registry.js';
export type { KindDefinition } from './kinds/kind.js';
export type { KindDeclaration, KindFormat } from './kinds/declared-kind.js';
export type { JsonSchema } from './kinds/kind-schema.js';
export type { NewResponse, ResponseStatus } from './kinds/response.js';
export { parseRoutesYaml } from './kinds/routes-file.js';
export type { Route, RoutesDocument } from './kinds/routes-file.js';
export type { Target } from './core/target.js';
export { SuperviseError } from './core/errors.js';
export type { ErrorCategory, PayloadProblem, SuperviseErrorCode } from './core/errors.js';
export { LIMITS } from './core/limits.js';
export { safeText } from './core/safe-text.js';
export { sha256 } from './core/hash.js';
export { DB_PATH_IN_CONTAINER, hostDbPath } from './storage/layout.js';
export { SCHEMA_VERSION } from './storage/schema-version.js';
