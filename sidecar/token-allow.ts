import { createHmac, randomBytes } from 'node:crypto';
import { SuperviseError } from '../src/core/errors.js';
import { KIND_EGRESS_TOKEN_ALLOW } from '../src/kinds/builtin-rules.js';
import { SecretForms } from '../src/kinds/secret-forms.js';
import { buildTokenAllowPayload, parseTokenAllowReport, type TokenAllowInput } from '../src/kinds/token-report.js';
import type { SidecarQueue } from '../src/queue/sidecar-view.js';
import { askAndWait, type ProposalResult, type WaitSettings } from '../src/queue/proposal-flow.js';

export type { TokenAllowInput } from '../src/kinds/token-report.js';

export interface TokenAllowOptions extends WaitSettings {
  /** Shown to the operator with the report; defaults to a sentence naming the detector. */
  justification?: string;
}

/**
 * Keys the idempotency key for the life of this process. Two different tokens caught in the same
 * place produce the same redacted report, so the key must depend on the token; a keyed hash with a
 * key that never leaves memory does, without putting anything derived from the token where it
 * could be brute-forced offline.
 */
const PROCESS_KEY = randomBytes(32);

/**
 * What the egress DLP addon calls when a route's `dlp.outbound_on_match` is `supervise`: asks the
 * operator whether the caught token may pass, with a report that never contains the token, and
 * waits. Anything but `approved`/`modified` must be treated as "block" (fail closed).
 * Throws `SuperviseError` (`invalid-payload`) when the token cannot be redacted reliably or the
 * justification carries it: block the request then too.
 */
export async function proposeTokenAllow(queue: SidecarQueue, input: TokenAllowInput, options: TokenAllowOptions): Promise<ProposalResult> {
  const payload = buildTokenAllowPayload(input);
  // From the checked payload, never from `input`: only the payload is proven free of the token.
  const report = parseTokenAllowReport(payload);
  const justification = options.justification ?? `The egress DLP detector "${report.detector}" caught a token in a ${report.method} request to ${report.host}; allow it to pass?`;
  // Stored beside the payload, so held to the same rule.
  if (new SecretForms(input.token).foundIn(justification)) {
    throw new SuperviseError('invalid-payload', 'the justification carries the caught token (raw or encoded): leave it out of the justification, and block the request meanwhile.');
  }
  // Different encodings of one token can redact to the same report; with another justification
  // that is another question, not a retry of the first.
  const key = createHmac('sha256', PROCESS_KEY).update(input.token).update('\0').update(payload).update('\0').update(justification).digest('hex');
  return await askAndWait(
    queue,
    { kind: KIND_EGRESS_TOKEN_ALLOW, origin: 'egress', payload, justification, idempotency: { base: `egress:token-allow:${key}`, earlierAnswer: 'report' } },
    options,
  );
}
