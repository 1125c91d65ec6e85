import type { AnswerRequest } from './page/api-types.js';
import { badRequest } from './api-errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const STATUSES: ReadonlySet<string> = new Set(['approved', 'modified', 'rejected']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An answer as the page sends it, checked field by field: nothing malformed reaches the queue. */
export function parseAnswerRequest(body: unknown): AnswerRequest {
  if (!isRecord(body)) throw badRequest('the answer must be a JSON object with status, reason, payloadSha256 and currentFileHash.');
  const { status, reason, finalPayload, payloadSha256, currentFileHash } = body;
  if (typeof status !== 'string' || !STATUSES.has(status)) throw badRequest('status must be "approved", "modified" or "rejected".');
  if (typeof reason !== 'string') throw badRequest('reason must be a string (empty when none is given).');
  if (typeof payloadSha256 !== 'string' || !SHA256_HEX.test(payloadSha256)) {
    throw badRequest('payloadSha256 must be the 64 hex characters of the payload the page showed: reload the proposal and answer again.');
  }
  if (currentFileHash !== null && (typeof currentFileHash !== 'string' || !SHA256_HEX.test(currentFileHash))) {
    throw badRequest('currentFileHash must be null or the 64 hex characters of the current file the page showed.');
  }
  if (status === 'modified') {
    if (typeof finalPayload !== 'string') throw badRequest('a modified answer needs finalPayload, the edited file.');
    return { status, reason, finalPayload, payloadSha256, currentFileHash };
  }
  if (finalPayload !== undefined) throw badRequest(`finalPayload is only for a modified answer, not for ${status}.`);
  return { status: status as 'approved' | 'rejected', reason, payloadSha256, currentFileHash };
}

/** The edited file to check before it is sent as an answer. */
export function parseEditCheck(body: unknown): string {
  if (!isRecord(body) || typeof body.finalPayload !== 'string') throw badRequest('send {"finalPayload": "<the edited file>"}.');
  return body.finalPayload;
}
