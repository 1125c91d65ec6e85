/**
 * What code inside a bottle uses besides the CLI: the egress DLP addon's token-allow call, the
 * propose-and-wait flow it is built on, and the error every refusal is (start-up checks included).
 * Published as `bot-bottle-supervise/sidecar`.
 */
export { proposeTokenAllow } from './token-allow.js';
export type { TokenAllowInput, TokenAllowOptions } from './token-allow.js';
export { askAndWait, idempotencyBase, resumeWait } from '../src/queue/proposal-flow.js';
export type { Idempotency, ProposalRequest, ProposalResult, ResumeExpectation, WaitSettings } from '../src/queue/proposal-flow.js';
export { PROPOSE_EXIT } from '../src/core/exit-codes.js';
export { SuperviseError, isSuperviseError } from '../src/core/errors.js';
export { openSidecarStorage, openSidecarStore } from './startup.js';
export type { OpenSidecarStoreOptions, SidecarStorage } from './startup.js';
export type { SidecarBottle, SidecarQueue } from '../src/queue/sidecar-view.js';
