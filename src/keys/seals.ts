import { createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { sha256 } from '../core/hash.js';

/**
 * Seals make a decision unforgeable by anyone who can write the shared database. Each covers a
 * canonical encoding of a row's decisive fields: a JSON array with a domain tag first, so a seal
 * for one kind of row never verifies as another. Texts are covered by their sha256, which keeps
 * the encoding small and lets a reviewer's displayed hash be compared directly.
 *
 *   proposal: ["bot-bottle/proposal/1", id, slug, kind, origin, target, sha256(payload),
 *              current_file_hash | null, sha256(justification)]
 *   response: ["bot-bottle/response/1", proposal_id, slug, kind, sha256(payload),
 *              current_file_hash | null, status, sha256(final_payload) | null, sha256(notes), responder]
 *   kind:     ["bot-bottle/kind/1", name, version, sha256(definition)]
 *   bottle registration: ["bot-bottle/bottle-registration/1", slug, backend | null, image | null,
 *              started_at | null, stopped_at | null]
 *   heartbeat: ["bot-bottle/heartbeat/1", slug, last_heartbeat, sidecar_version, schema_version,
 *              live_routes_hash | null]
 *
 * Who seals what: a bottle MACs (HMAC-SHA256 with its key) the proposals it makes, its answers
 * to downward proposals and its heartbeats; the host signs (Ed25519) its answers, the downward
 * proposals it makes, the kinds a launcher records and each bottle's registration and retirement.
 */
export interface SealedProposalFields {
  id: string;
  slug: string;
  kind: string;
  origin: string;
  target: string;
  payload: string;
  currentFileHash: string | null;
  justification: string;
}

export interface SealedResponseFields {
  proposalId: string;
  slug: string;
  kind: string;
  payload: string;
  currentFileHash: string | null;
  status: string;
  finalPayload: string | null;
  notes: string;
  responder: string;
}

export interface SealedKindFields {
  name: string;
  version: number;
  /** The record's definition exactly as stored. */
  definition: string;
}

export function kindSealInput(k: SealedKindFields): Buffer {
  return Buffer.from(JSON.stringify(['bot-bottle/kind/1', k.name, k.version, sha256(k.definition)]), 'utf8');
}

/** What the launcher registered about a bottle: the host's word, which no heartbeat may change. */
export interface SealedRegistrationFields {
  slug: string;
  backend: string | null;
  image: string | null;
  startedAt: number | null;
  /** Set when the host retired the bottle. */
  stoppedAt: number | null;
}

/** What a sidecar claims about itself; the live routes text is covered through its hash. */
export interface SealedHeartbeatFields {
  slug: string;
  at: number;
  sidecarVersion: string;
  schemaVersion: number;
  liveRoutesHash: string | null;
}

export function registrationSealInput(r: SealedRegistrationFields): Buffer {
  return Buffer.from(JSON.stringify(['bot-bottle/bottle-registration/1', r.slug, r.backend, r.image, r.startedAt, r.stoppedAt]), 'utf8');
}

export function heartbeatSealInput(h: SealedHeartbeatFields): Buffer {
  return Buffer.from(JSON.stringify(['bot-bottle/heartbeat/1', h.slug, h.at, h.sidecarVersion, h.schemaVersion, h.liveRoutesHash]), 'utf8');
}

/**
 * A proposal's sealed fields with the payload given by its sha256, which is all the seal covers of
 * it: a list can check seals without carrying every payload. The hash must be this process's own
 * hash of the payload as stored, never one read from the row (whoever wrote the row chose that).
 */
export interface SealedProposalDigest extends Omit<SealedProposalFields, 'payload'> {
  payloadSha256: string;
}

export function proposalSealInput(p: SealedProposalFields): Buffer {
  const { payload, ...rest } = p;
  return proposalDigestSealInput({ ...rest, payloadSha256: sha256(payload) });
}

export function proposalDigestSealInput(p: SealedProposalDigest): Buffer {
  return Buffer.from(JSON.stringify(['bot-bottle/proposal/1', p.id, p.slug, p.kind, p.origin, p.target, p.payloadSha256, p.currentFileHash, sha256(p.justification)]), 'utf8');
}

export function responseSealInput(r: SealedResponseFields): Buffer {
  return Buffer.from(
    JSON.stringify([
      'bot-bottle/response/1',
      r.proposalId,
      r.slug,
      r.kind,
      sha256(r.payload),
      r.currentFileHash,
      r.status,
      r.finalPayload === null ? null : sha256(r.finalPayload),
      sha256(r.notes),
      r.responder,
    ]),
    'utf8',
  );
}

/** A seal as stored: `mac:<hex>` from a bottle key, `sig:<base64>` from the host key. */
export type Seal = string;

export function macSeal(key: Buffer, input: Buffer): Seal {
  return `mac:${createHmac('sha256', key).update(input).digest('hex')}`;
}

export function verifyMacSeal(key: Buffer, input: Buffer, seal: string | null): boolean {
  if (seal === null || !seal.startsWith('mac:')) return false;
  const expected = Buffer.from(macSeal(key, input), 'utf8');
  const given = Buffer.from(seal, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function signatureSeal(privateKey: KeyObject, input: Buffer): Seal {
  return `sig:${sign(null, input, privateKey).toString('base64')}`;
}

export function verifySignatureSeal(publicKey: KeyObject, input: Buffer, seal: string | null): boolean {
  if (seal === null || !seal.startsWith('sig:')) return false;
  try {
    return verify(null, input, publicKey, Buffer.from(seal.slice(4), 'base64'));
  } catch {
    return false;
  }
}
