/**
 * The pre-SQLite bot-bottle's JSON shapes, read liberally (docs/LEGACY-IMPORT.md): the Python
 * field names were never all published, so every field accepts the aliases the reference marks
 * as likely, and each parser either returns a normalized record or throws `LegacyShapeError`
 * with the reason a person reads next to the file's path.
 */
import { createHash } from 'node:crypto';
import type { AuditEntry } from '../audit/audit-store.js';
import type { ResponseStatus } from '../kinds/response.js';
import { validateActor, validateSlug } from '../core/validation.js';

export class LegacyShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LegacyShapeError';
  }
}

type JsonObject = Record<string, unknown>;

export interface LegacyProposal {
  id: string;
  /** The id the file carried (or its name), which audit lines use to refer to it. */
  legacyId: string;
  slug: string;
  kind: string;
  origin: string;
  payload: string;
  justification: string;
  currentFile: string | null;
  currentFileHash: string | null;
  createdAt: number;
}

export interface LegacyResponse {
  /** The proposal the response names, when it names one. */
  legacyProposalId: string | null;
  status: ResponseStatus;
  notes: string;
  finalPayload: string | null;
  responder: string;
  createdAt: number;
}

/** An audit entry as read from a legacy log, before the chain gives it a place and a hash. */
export type LegacyAuditLine = Omit<AuditEntry, 'seq' | 'prevHash' | 'hash' | 'detail'>;

/** Tools the old system knew by other names: history is imported under today's names so filters find it. */
export const KIND_ALIASES: Readonly<Record<string, string>> = {
  allow: 'egress-allow',
  'cred-proxy-block': 'egress-block',
  'egress-proxy-block': 'egress-block',
  'list-egress-proxy-routes': 'list-egress-routes',
};

export const LEGACY_ACTOR = 'legacy-import';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA256_HEX = /^[0-9a-f]{64}$/i;
const LABEL = /^[a-z][a-z0-9-]{0,47}$/;
/** Fixed forever: changing it would give every non-UUID legacy proposal a new id on the next import. */
const LEGACY_ID_NAMESPACE = '7973474d-8865-466d-a397-782e4fad5dd6';

/** RFC 4122 version 5 (SHA-1, name-based): the same slug and legacy id always give the same UUID. */
export function uuidV5(name: string, namespace: string = LEGACY_ID_NAMESPACE): string {
  const hash = createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A legacy UUID is kept (lowercased, as the queue stores ids); anything else maps to a stable UUIDv5. */
export function proposalIdFor(slug: string, legacyId: string): string {
  return UUID.test(legacyId) ? legacyId.toLowerCase() : uuidV5(`${slug}/${legacyId}`);
}

export function parseJsonObject(text: string): JsonObject {
  if (text.trim() === '') throw new LegacyShapeError('the file is empty');
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    // The parser's message quotes the text around the error; the file's content is never echoed.
    const at = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new LegacyShapeError(`not valid JSON${at === undefined ? '' : ` (it breaks off at character ${at})`}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new LegacyShapeError('not a JSON object');
  return value as JsonObject;
}

/** The first alias present; `consumed` collects every alias seen so the rest can be kept as extras. */
function pick(object: JsonObject, aliases: readonly string[], consumed?: Set<string>): unknown {
  let found: unknown;
  for (const alias of aliases) {
    if (!(alias in object)) continue;
    consumed?.add(alias);
    if (found === undefined && object[alias] !== null && object[alias] !== undefined) found = object[alias];
  }
  return found;
}

function optionalString(object: JsonObject, aliases: readonly string[], consumed?: Set<string>): string | undefined {
  const value = pick(object, aliases, consumed);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new LegacyShapeError(`${aliases[0]} is not a string`);
  return value;
}

/** Proposed and final files are text; an object (an old routes.json) is kept as indented JSON. */
function fileContent(object: JsonObject, aliases: readonly string[]): string | undefined {
  const value = pick(object, aliases);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return `${JSON.stringify(value, null, 2)}\n`;
  throw new LegacyShapeError(`${aliases[0]} is neither text nor a JSON object`);
}

/**
 * Seconds or milliseconds since the epoch, or an ISO 8601 string. Python's naive
 * `datetime.isoformat()` has no zone; the old code used UTC, so it is read as UTC.
 */
export function parseLegacyTime(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return Math.round(value < 1e11 ? value * 1000 : value);
  if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return parseLegacyTime(Number(text), field);
    const zoned = /([zZ]|[+-]\d{2}:?\d{2})$/.test(text) || !/T|\d \d/.test(text) ? text : `${text}Z`;
    const parsed = Date.parse(zoned.replace(' ', 'T'));
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new LegacyShapeError(`${field} ${JSON.stringify(value)} is not a time (expected ISO 8601 or seconds since the epoch)`);
}

function timeField(object: JsonObject, aliases: readonly string[], fallbackMs: number | undefined, consumed?: Set<string>): number {
  const value = pick(object, aliases, consumed);
  if (value === undefined) {
    if (fallbackMs === undefined) throw new LegacyShapeError(`no time: expected one of ${aliases.join(', ')}`);
    return Math.round(fallbackMs);
  }
  return parseLegacyTime(value, aliases[0] as string);
}

function kindName(raw: string): string {
  const kind = raw.trim().toLowerCase();
  return KIND_ALIASES[kind] ?? kind;
}

function defaultOrigin(kind: string): string {
  if (kind === 'gitleaks-allow') return 'git-gate';
  if (kind === 'egress-token-allow') return 'egress';
  return 'agent';
}

function actor(value: string | undefined, role: string): string {
  if (value === undefined || value.trim() === '') return LEGACY_ACTOR;
  try {
    return validateActor(value.trim(), role);
  } catch (error) {
    throw new LegacyShapeError((error as Error).message);
  }
}

export interface FileContext {
  /** The bottle the file's directory names. */
  slug: string;
  /** The file name without its suffixes: the id when the file carries none. */
  stem: string;
  /** The file's modification time: the creation time when the file records none. */
  mtimeMs: number;
}

const SLUG_FIELDS = ['bottle_slug', 'slug', 'bottle', 'queue_key'] as const;

function checkSlug(object: JsonObject, context: FileContext): void {
  const named = optionalString(object, SLUG_FIELDS);
  if (named !== undefined && named !== context.slug) {
    throw new LegacyShapeError(`it names bottle "${named}" but lies in the queue directory of "${context.slug}"`);
  }
}

/** `{id, tool, bottle_slug, proposed_file, justification, current_file_hash, created_at}` and aliases. */
export function parseLegacyProposal(object: JsonObject, context: FileContext): LegacyProposal {
  checkSlug(object, context);
  const legacyId = optionalString(object, ['id', 'proposal_id', 'proposalId']) ?? context.stem;
  const rawKind = optionalString(object, ['tool', 'kind', 'tool_id', 'tool_name']);
  if (rawKind === undefined || rawKind.trim() === '') throw new LegacyShapeError('no proposal kind: expected "tool" (or "kind")');
  const kind = kindName(rawKind);
  if (!LABEL.test(kind)) throw new LegacyShapeError(`tool ${JSON.stringify(rawKind)} is not a kind name`);
  const payload = fileContent(object, ['proposed_file', 'payload', 'proposed', 'proposed_content', 'proposed_config', 'content', 'file']);
  if (payload === undefined) throw new LegacyShapeError('no proposed file: expected "proposed_file" (or "payload")');
  const currentFile = fileContent(object, ['current_file', 'current', 'current_content']) ?? null;
  let currentFileHash = optionalString(object, ['current_file_hash', 'current_hash', 'currentFileHash']) ?? null;
  if (currentFileHash !== null) {
    if (!SHA256_HEX.test(currentFileHash)) throw new LegacyShapeError(`current_file_hash ${JSON.stringify(currentFileHash)} is not a sha256 (64 hex characters)`);
    currentFileHash = currentFileHash.toLowerCase();
  } else if (currentFile !== null) {
    currentFileHash = createHash('sha256').update(currentFile, 'utf8').digest('hex');
  }
  return {
    id: proposalIdFor(context.slug, legacyId),
    legacyId,
    slug: context.slug,
    kind,
    origin: actor(optionalString(object, ['origin', 'source', 'proposer']) ?? defaultOrigin(kind), 'origin'),
    payload,
    justification: optionalString(object, ['justification', 'reason', 'why']) ?? '',
    currentFile,
    currentFileHash,
    createdAt: timeField(object, ['created_at', 'createdAt', 'created', 'timestamp', 'ts'], context.mtimeMs),
  };
}

const STATUS_ALIASES: Readonly<Record<string, ResponseStatus>> = {
  approved: 'approved',
  approve: 'approved',
  modified: 'modified',
  modify: 'modified',
  rejected: 'rejected',
  reject: 'rejected',
};

/** `{status, notes, final_file?}` and aliases. */
export function parseLegacyResponse(object: JsonObject, context: FileContext): LegacyResponse {
  checkSlug(object, context);
  const rawStatus = optionalString(object, ['status', 'decision', 'outcome']);
  const status = rawStatus === undefined ? undefined : STATUS_ALIASES[rawStatus.trim().toLowerCase()];
  if (status === undefined) {
    throw new LegacyShapeError(rawStatus === undefined ? 'no "status"' : `status ${JSON.stringify(rawStatus)} is not approved, modified or rejected`);
  }
  const final = fileContent(object, ['final_file', 'final_payload', 'modified_file', 'final', 'final_content']);
  if (status === 'modified' && final === undefined) throw new LegacyShapeError('status is "modified" but there is no final file ("final_file")');
  return {
    legacyProposalId: optionalString(object, ['proposal_id', 'proposalId']) ?? null,
    status,
    notes: optionalString(object, ['notes', 'reason', 'note', 'comment']) ?? '',
    finalPayload: status === 'modified' ? (final as string) : null,
    responder: actor(optionalString(object, ['responder', 'actor', 'operator', 'answered_by', 'user']), 'responder'),
    createdAt: timeField(object, ['responded_at', 'answered_at', 'created_at', 'createdAt', 'timestamp', 'ts'], context.mtimeMs),
  };
}

function label(raw: string, field: string): string {
  const value = raw.trim().toLowerCase().replace(/[_\s]+/g, '-');
  if (!LABEL.test(value)) throw new LegacyShapeError(`${field} ${JSON.stringify(raw)} is not a label (letters, digits and '-')`);
  return value;
}

const DECISIONS = new Set(['approved', 'modified', 'rejected']);

/**
 * One line of `audit/<component>.jsonl`. Fields this schema has no column for (a justification,
 * the old hashes) are kept, as JSON, at the end of the notes, so nothing the old log said is lost.
 */
export function parseLegacyAuditLine(object: JsonObject, component: string): LegacyAuditLine {
  const consumed = new Set<string>();
  const slugText = optionalString(object, SLUG_FIELDS, consumed);
  if (slugText === undefined) throw new LegacyShapeError('no bottle: expected "bottle_slug" (or "slug")');
  let slug: string;
  try {
    slug = validateSlug(slugText);
  } catch (error) {
    throw new LegacyShapeError((error as Error).message);
  }
  const ts = timeField(object, ['ts', 'timestamp', 'time', 'created_at', 'at'], undefined, consumed);
  const status = optionalString(object, ['status', 'decision'], consumed) ?? null;
  const action = optionalString(object, ['action', 'event'], consumed);
  const rawKind = optionalString(object, ['tool', 'kind', 'tool_id'], consumed);
  const legacyProposalId = optionalString(object, ['proposal_id', 'proposalId'], consumed);
  const notes = optionalString(object, ['notes', 'reason', 'note', 'comment'], consumed) ?? '';
  const recordedActor = optionalString(object, ['actor', 'operator', 'responder', 'user'], consumed);
  const diff = optionalString(object, ['diff'], consumed) ?? '';
  const componentField = optionalString(object, ['component'], consumed);
  const extras = Object.fromEntries(Object.entries(object).filter(([key]) => !consumed.has(key)));
  const kept = Object.keys(extras).length > 0 ? `[legacy] ${JSON.stringify(extras)}` : '';
  return {
    ts,
    slug,
    component: label(componentField ?? component, 'component'),
    action: action !== undefined ? label(action, 'action') : status !== null && DECISIONS.has(status.toLowerCase()) ? 'proposal-decision' : 'legacy-entry',
    proposalId: legacyProposalId === undefined ? null : proposalIdFor(slug, legacyProposalId),
    kind: rawKind === undefined ? null : kindName(rawKind),
    status,
    notes: notes === '' ? kept : kept === '' ? notes : `${notes}\n${kept}`,
    actor: actor(recordedActor, 'actor'),
    diff,
  };
}

/** Key order and whitespace do not make a line new: the dedup key hashes a canonical form. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as JsonObject)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
