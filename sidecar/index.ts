/**
 * What code inside a bottle uses besides the CLI: the egress DLP addon's token-allow call and the
 * propose-and-wait flow it is built on. Published as `bot-bottle-supervise/sidecar`.
 */
export { proposeTokenAllow } from './token-allow.js';
export type { TokenAllowInput, TokenAllowOptions } from './token-allow.js';
export { idempotencyBase, resumeWait, submitAndWait } from './proposal-flow.js';
export type { ProposalResult, WaitSettings } from './proposal-flow.js';
export { PROPOSE_EXIT } from '../src/core/exit-codes.js';
export { openSidecarStorage, StartupRefusal } from './startup.js';
