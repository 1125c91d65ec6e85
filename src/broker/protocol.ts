import { createHash, createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * The wire between a sidecar and the host broker. Every request is a POST of one JSON object to
 * `/v1/<operation>`, signed with a key derived from the bottle's key: the key itself never
 * crosses, a signature covers the method, path, slug, time, a nonce and the body's hash, and the
 * broker refuses a time outside `CLOCK_SKEW_MS` or a nonce it has seen.
 */
export const BROKER_API_PREFIX = '/v1/';
export const BROKER_HEALTH_PATH = '/healthz';
export { DEFAULT_BROKER_HOST, DEFAULT_BROKER_PORT } from './defaults.js';
/** A routes file and its current file (256 KiB each), JSON-escaped at worst, fit within this. */
export const MAX_BROKER_BODY_BYTES = 4 * 1024 * 1024;
/** One long poll never outlasts this; the client asks again, so proxies and NATs see traffic. */
export const MAX_POLL_MS = 25_000;
/** How far a request's time may be from the broker's clock; VMs' clocks drift after a suspend. */
export const CLOCK_SKEW_MS = 120_000;
export const PROTOCOL_VERSION = 'bot-bottle-broker-v1';

export const AUTH_HEADERS = {
  slug: 'x-bot-bottle-slug',
  time: 'x-bot-bottle-time',
  nonce: 'x-bot-bottle-nonce',
  signature: 'x-bot-bottle-signature',
} as const;

export const BROKER_OPERATIONS = [
  'hello',
  'propose',
  'read',
  'list-pending',
  'respond',
  'wait',
  'archive',
  'audit-forged',
  'changes',
  'heartbeat',
  'routes-applied',
] as const;
export type BrokerOperation = (typeof BROKER_OPERATIONS)[number];

/** The request key: the bottle key's MAC over a label, so a request signature can never double as a row seal. */
export function brokerRequestKey(bottleKey: Buffer): Buffer {
  return createHmac('sha256', bottleKey).update(`${PROTOCOL_VERSION} request key`).digest();
}

export interface SignedFields {
  method: string;
  path: string;
  slug: string;
  time: string;
  nonce: string;
  body: Buffer;
}

export function requestSignature(requestKey: Buffer, fields: SignedFields): Buffer {
  const bodyHash = createHash('sha256').update(fields.body).digest('hex');
  return createHmac('sha256', requestKey)
    .update([PROTOCOL_VERSION, fields.method, fields.path, fields.slug, fields.time, fields.nonce, bodyHash].join('\n'))
    .digest();
}

/** The headers that authenticate one request as bottle `slug`. */
export function signRequest(requestKey: Buffer, slug: string, method: string, path: string, body: Buffer, now: number = Date.now()): Record<string, string> {
  const time = String(now);
  const nonce = randomBytes(16).toString('hex');
  const signature = requestSignature(requestKey, { method, path, slug, time, nonce, body }).toString('hex');
  return { [AUTH_HEADERS.slug]: slug, [AUTH_HEADERS.time]: time, [AUTH_HEADERS.nonce]: nonce, [AUTH_HEADERS.signature]: signature };
}

/** What a refused request gets back: the error's stable code and its message. */
export const brokerErrorBody = z.object({
  error: z.object({ code: z.string().max(64), message: z.string().max(16_384), state: z.string().max(32).optional() }),
});
export type BrokerErrorBody = z.infer<typeof brokerErrorBody>;

// Request bodies. Strings are bounded here only loosely (the stores apply the real limits, with
// their own messages); what this refuses is the wrong shape, before any store sees it.
const id = z.string().min(1).max(200);
const text = z.string().max(MAX_BROKER_BODY_BYTES);
const target = z.enum(['operator', 'sidecar']);
const timeoutMs = z.number().int().min(0).max(24 * 60 * 60 * 1000);

export const brokerRequests = {
  hello: z.object({}).strict(),
  propose: z
    .object({
      kind: z.string().max(200),
      payload: text,
      origin: z.string().max(200),
      justification: text.optional(),
      target: target.optional(),
      currentFile: text.optional(),
      currentFileHash: z.string().max(200).optional(),
      idempotencyKey: z.string().max(1000).optional(),
      ttlMs: z.number().int().min(0).nullable().optional(),
    })
    .strict(),
  read: z.object({ id }).strict(),
  'list-pending': z.object({ target: target.optional(), limit: z.number().int().min(1).max(10_000).optional() }).strict(),
  respond: z
    .object({
      id,
      status: z.enum(['approved', 'modified', 'rejected']),
      responder: z.string().max(200),
      notes: text.optional(),
      finalPayload: text.optional(),
    })
    .strict(),
  wait: z.object({ id, timeoutMs }).strict(),
  archive: z.object({ id }).strict(),
  'audit-forged': z.object({ id, row: z.enum(['proposal', 'response']) }).strict(),
  changes: z.object({ cursor: z.number().int().min(0).nullable(), timeoutMs }).strict(),
  heartbeat: z
    .object({
      sidecarVersion: z.string().max(200),
      schemaVersion: z.number().int().min(0),
      liveRoutes: z.object({ hash: z.string().max(200), text: text.optional() }).strict().optional(),
    })
    .strict(),
  'routes-applied': z
    .object({
      proposalId: id,
      kind: z.string().max(200),
      action: z.enum(['routes-merged', 'routes-stale', 'routes-apply-failed']),
      status: z.enum(['merged', 'stale', 'failed']),
      notes: text,
      diff: text.optional(),
    })
    .strict(),
} satisfies Record<BrokerOperation, z.ZodType>;

export type BrokerRequest<Op extends BrokerOperation> = z.infer<(typeof brokerRequests)[Op]>;
