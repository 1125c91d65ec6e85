/**
 * `bot-bottle import-legacy`: the pre-SQLite queue directories and JSONL audit logs into the
 * database (docs/LEGACY-IMPORT.md). Originals are only read. Each batch of files commits in one
 * transaction and everything already imported is recognized, so an interrupted import is simply
 * run again, and a second run changes nothing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AuditStore } from '../audit/audit-store.js';
import { writeTransaction, type Db } from '../storage/connection.js';
import { tableExists } from '../admin/status.js';
import { appendEvent } from '../notify/events.js';
import { KindRegistry } from '../kinds/registry.js';
import {
  canonicalJson,
  LegacyShapeError,
  parseJsonObject,
  parseLegacyAuditLine,
  parseLegacyProposal,
  parseLegacyResponse,
  proposalIdFor,
  type FileContext,
  type LegacyAuditLine,
  type LegacyProposal,
  type LegacyResponse,
} from './shapes.js';
import { DEFAULT_PROPOSAL_TTL_MS, MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../core/limits.js';
import type { ProposalState } from '../queue/proposal.js';
import { validateSlug } from '../core/validation.js';

export type UnitKind = 'proposals' | 'responses' | 'auditLines';
export type Result = 'imported' | 'alreadyPresent' | 'malformed';

export interface UnitCounts {
  read: number;
  imported: number;
  alreadyPresent: number;
  malformed: number;
}

export interface LegacyProblem {
  /** Relative to the import root, e.g. `queue/acme/1234.json` or `audit/egress.jsonl`. */
  path: string;
  line?: number;
  reason: string;
}

export interface LegacyImportSummary {
  from: string;
  dryRun: boolean;
  proposals: UnitCounts;
  responses: UnitCounts;
  auditLines: UnitCounts;
  /** Malformed files and lines, and directories or files that could not be read at all. */
  problems: LegacyProblem[];
  /** Files and directories that are not part of the legacy layout, left alone. */
  ignored: { count: number; examples: string[] };
  /** read = imported + alreadyPresent + malformed for every unit, and the rows this run wrote agree. */
  countsVerified: boolean;
  countMismatch?: string;
}

export interface LegacyImportOptions {
  /** The legacy state directory (the old `~/.bot-bottle`). */
  from: string;
  /** The database; may be absent in a dry run against a database that does not exist yet. */
  db?: Db;
  dryRun?: boolean;
  /** Queue files (or audit lines) per transaction. */
  batchSize?: number;
  onProgress?: (progress: { phase: 'queue' | 'audit'; done: number; total: number }) => void;
}

export const DEFAULT_BATCH_SIZE = 500;
/** No queue file of the old system comes near this; a bigger one is not one of them. */
export const MAX_LEGACY_FILE_BYTES = 4 * MAX_PAYLOAD_BYTES;
const IGNORED_EXAMPLES = 20;

interface QueueFile {
  rel: string;
  abs: string;
  role: 'proposal' | 'response';
  processed: boolean;
}

interface Group {
  slug: string;
  stem: string;
  files: QueueFile[];
  /** Oldest modification time among its files: the import order, so pending proposals keep their FIFO order. */
  mtimeMs: number;
}

interface Parsed<T> {
  file: QueueFile;
  value?: T;
  reason?: string;
}

interface ParsedGroup {
  group: Group;
  proposals: Array<Parsed<LegacyProposal>>;
  responses: Array<Parsed<LegacyResponse>>;
}

interface Outcome {
  unit: UnitKind;
  result: Result;
  path: string;
  line?: number;
  reason?: string;
}

const RESPONSE_NAME = /^(.+?)(?:\.response|_response|-response|\.resp)\.json$/i;
const PROPOSAL_NAME = /^(.+?)(?:\.proposal)?\.json$/i;

// ---------------------------------------------------------------------------------------------
// Where rows go: the database, or (dry run) a record of what would have gone there.

interface ProposalFacts {
  slug: string;
  state: ProposalState;
}

interface Source {
  key: string;
  kind: 'proposal' | 'response' | 'audit';
  path: string;
}

interface ImportTarget {
  proposal(id: string): ProposalFacts | undefined;
  hasResponse(id: string): boolean;
  hasSource(key: string): boolean;
  insertProposal(proposal: LegacyProposal, state: ProposalState, source: Source): void;
  answer(proposal: LegacyProposal | { id: string; slug: string }, response: LegacyResponse, state: 'answered' | 'archived', wasVisible: boolean, source: Source): void;
  appendAudit(line: LegacyAuditLine, source: Source): void;
  batch(fn: () => Outcome[]): Promise<Outcome[]>;
  /** Rows of `legacy_imports` this run wrote, per kind (dry run: what it would have written). */
  writtenBySource(): Record<Source['kind'], number>;
}

class DatabaseTarget implements ImportTarget {
  readonly #db: Db;
  readonly #audit: AuditStore;
  readonly #runStamp: number;
  readonly #statements;

  constructor(db: Db, runStamp: number) {
    this.#db = db;
    this.#audit = new AuditStore(db);
    this.#runStamp = runStamp;
    this.#statements = {
      proposal: db.prepare('SELECT slug, state FROM proposals WHERE id = ?'),
      response: db.prepare('SELECT 1 FROM responses WHERE proposal_id = ?'),
      source: db.prepare('SELECT 1 FROM legacy_imports WHERE source_key = ?'),
      insertSource: db.prepare(
        'INSERT INTO legacy_imports (source_key, source_kind, source_path, proposal_id, audit_seq, imported_at) VALUES (@key, @kind, @path, @proposalId, @auditSeq, @importedAt)',
      ),
      insertProposal: db.prepare(
        `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, current_file, current_file_hash, idempotency_key, state, created_at, expires_at, updated_at)
         VALUES (@id, @slug, @kind, @origin, 'operator', @payload, @justification, @currentFile, @currentFileHash, NULL, @state, @createdAt, @expiresAt, @createdAt)`,
      ),
      insertResponse: db.prepare(
        'INSERT INTO responses (proposal_id, status, notes, final_payload, responder, created_at) VALUES (@proposalId, @status, @notes, @finalPayload, @responder, @createdAt)',
      ),
      setState: db.prepare(`UPDATE proposals SET state = @state, updated_at = @updatedAt WHERE id = @id AND state = 'pending'`),
      counts: db.prepare('SELECT source_kind AS kind, count(*) AS n FROM legacy_imports WHERE imported_at = ? GROUP BY source_kind'),
    };
  }

  proposal(id: string): ProposalFacts | undefined {
    return this.#statements.proposal.get(id) as ProposalFacts | undefined;
  }

  hasResponse(id: string): boolean {
    return this.#statements.response.get(id) !== undefined;
  }

  hasSource(key: string): boolean {
    return this.#statements.source.get(key) !== undefined;
  }

  #record(source: Source, proposalId: string | null, auditSeq: number | null): void {
    this.#statements.insertSource.run({ ...source, proposalId, auditSeq, importedAt: this.#runStamp });
  }

  insertProposal(proposal: LegacyProposal, state: ProposalState, source: Source): void {
    this.#statements.insertProposal.run({ ...proposal, state, expiresAt: proposal.createdAt + DEFAULT_PROPOSAL_TTL_MS });
    if (state === 'pending') appendEvent(this.#db, { type: 'created', proposalId: proposal.id, slug: proposal.slug, target: 'operator', ts: Date.now() });
    this.#record(source, proposal.id, null);
  }

  answer(proposal: { id: string; slug: string }, response: LegacyResponse, state: 'answered' | 'archived', wasVisible: boolean, source: Source): void {
    this.#statements.insertResponse.run({ ...response, proposalId: proposal.id });
    this.#statements.setState.run({ id: proposal.id, state, updatedAt: response.createdAt });
    // A running `supervise` showed it as pending; tell it the proposal is decided.
    if (wasVisible) appendEvent(this.#db, { type: 'answered', proposalId: proposal.id, slug: proposal.slug, target: 'operator', ts: Date.now() });
    this.#record(source, proposal.id, null);
  }

  appendAudit(line: LegacyAuditLine, source: Source): void {
    const entry = this.#audit.appendWithinTransaction(line.slug, line);
    this.#record(source, line.proposalId, entry.seq);
  }

  batch(fn: () => Outcome[]): Promise<Outcome[]> {
    return writeTransaction(this.#db, fn);
  }

  writtenBySource(): Record<Source['kind'], number> {
    const counts = { proposal: 0, response: 0, audit: 0 };
    for (const row of this.#statements.counts.all(this.#runStamp) as Array<{ kind: Source['kind']; n: number }>) counts[row.kind] = row.n;
    return counts;
  }
}

/** Answers from the database when there is one, overlaid with what this run would have written. */
class DryRunTarget implements ImportTarget {
  readonly #db: Db | undefined;
  readonly #proposals = new Map<string, ProposalFacts>();
  readonly #responses = new Set<string>();
  readonly #sources = new Map<string, Source['kind']>();
  readonly #hasLegacyTable: boolean;

  constructor(db: Db | undefined) {
    this.#db = db;
    this.#hasLegacyTable = db !== undefined && tableExists(db, 'legacy_imports');
  }

  proposal(id: string): ProposalFacts | undefined {
    return this.#proposals.get(id) ?? (this.#db && tableExists(this.#db, 'proposals') ? (this.#db.prepare('SELECT slug, state FROM proposals WHERE id = ?').get(id) as ProposalFacts | undefined) : undefined);
  }

  hasResponse(id: string): boolean {
    return this.#responses.has(id) || (this.#db !== undefined && tableExists(this.#db, 'responses') && this.#db.prepare('SELECT 1 FROM responses WHERE proposal_id = ?').get(id) !== undefined);
  }

  hasSource(key: string): boolean {
    return this.#sources.has(key) || (this.#hasLegacyTable && this.#db?.prepare('SELECT 1 FROM legacy_imports WHERE source_key = ?').get(key) !== undefined);
  }

  insertProposal(proposal: LegacyProposal, state: ProposalState, source: Source): void {
    this.#proposals.set(proposal.id, { slug: proposal.slug, state });
    this.#sources.set(source.key, source.kind);
  }

  answer(proposal: { id: string; slug: string }, _response: LegacyResponse, state: 'answered' | 'archived', _wasVisible: boolean, source: Source): void {
    this.#responses.add(proposal.id);
    this.#proposals.set(proposal.id, { slug: proposal.slug, state });
    this.#sources.set(source.key, source.kind);
  }

  appendAudit(_line: LegacyAuditLine, source: Source): void {
    this.#sources.set(source.key, source.kind);
  }

  async batch(fn: () => Outcome[]): Promise<Outcome[]> {
    return fn();
  }

  writtenBySource(): Record<Source['kind'], number> {
    const counts = { proposal: 0, response: 0, audit: 0 };
    for (const kind of this.#sources.values()) counts[kind] += 1;
    return counts;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the tree.

class Collector {
  readonly counts: Record<UnitKind, UnitCounts> = {
    proposals: { read: 0, imported: 0, alreadyPresent: 0, malformed: 0 },
    responses: { read: 0, imported: 0, alreadyPresent: 0, malformed: 0 },
    auditLines: { read: 0, imported: 0, alreadyPresent: 0, malformed: 0 },
  };
  readonly problems: LegacyProblem[] = [];
  readonly ignored = { count: 0, examples: [] as string[] };

  read(unit: UnitKind): void {
    this.counts[unit].read += 1;
  }

  settle(outcomes: Outcome[]): void {
    for (const outcome of outcomes) {
      this.counts[outcome.unit][outcome.result] += 1;
      if (outcome.result === 'malformed') this.problems.push({ path: outcome.path, ...(outcome.line !== undefined ? { line: outcome.line } : {}), reason: outcome.reason ?? 'malformed' });
    }
  }

  ignore(rel: string): void {
    this.ignored.count += 1;
    if (this.ignored.examples.length < IGNORED_EXAMPLES) this.ignored.examples.push(rel);
  }

  unreadable(rel: string, error: unknown): void {
    this.problems.push({ path: rel, reason: `cannot be read (${describeFsError(error)})` });
  }
}

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'it vanished, or is a link to nothing';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return code ?? (error as Error).message;
}

function listDir(abs: string, rel: string, collector: Collector): fs.Dirent[] | undefined {
  try {
    return fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    collector.unreadable(rel, error);
    return undefined;
  }
}

/** Symlinks count as what they point to; one pointing nowhere is a file that cannot be read. */
function entryType(entry: fs.Dirent, abs: string): 'file' | 'dir' | 'other' {
  if (entry.isFile()) return 'file';
  if (entry.isDirectory()) return 'dir';
  if (entry.isSymbolicLink()) {
    const stat = fs.statSync(abs, { throwIfNoEntry: false });
    if (!stat || stat.isFile()) return 'file';
    if (stat.isDirectory()) return 'dir';
  }
  return 'other';
}

function scanSlugDir(slug: string, abs: string, rel: string, processed: boolean, collector: Collector, out: QueueFile[]): void {
  for (const entry of listDir(abs, rel, collector) ?? []) {
    const entryAbs = path.join(abs, entry.name);
    const entryRel = `${rel}/${entry.name}`;
    const type = entryType(entry, entryAbs);
    if (type === 'dir' && entry.name === 'processed' && !processed) {
      scanSlugDir(slug, entryAbs, entryRel, true, collector, out);
    } else if (type === 'file' && entry.name.toLowerCase().endsWith('.json')) {
      out.push({ rel: entryRel, abs: entryAbs, role: RESPONSE_NAME.test(entry.name) ? 'response' : 'proposal', processed });
    } else {
      collector.ignore(entryRel);
    }
  }
}

function stemOf(file: QueueFile): string {
  const name = path.basename(file.abs);
  return ((file.role === 'response' ? RESPONSE_NAME : PROPOSAL_NAME).exec(name)?.[1] ?? name).toString();
}

function mtimeOf(abs: string): number {
  return fs.statSync(abs, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/** Every queue file, grouped per proposal (its file, its response, their processed/ copies). */
function scanQueue(from: string, collector: Collector): { groups: Group[]; invalid: Array<{ file: QueueFile; reason: string }> } {
  const queueAbs = path.join(from, 'queue');
  const groups = new Map<string, Group>();
  const invalid: Array<{ file: QueueFile; reason: string }> = [];
  if (!fs.existsSync(queueAbs)) return { groups: [], invalid };
  for (const entry of listDir(queueAbs, 'queue', collector) ?? []) {
    const abs = path.join(queueAbs, entry.name);
    const rel = `queue/${entry.name}`;
    if (entryType(entry, abs) !== 'dir') {
      collector.ignore(rel);
      continue;
    }
    const files: QueueFile[] = [];
    scanSlugDir(entry.name, abs, rel, false, collector, files);
    let slugProblem: string | undefined;
    try {
      validateSlug(entry.name);
    } catch (error) {
      slugProblem = `its directory is not a valid bottle slug: ${(error as Error).message}`;
    }
    for (const file of files) {
      if (slugProblem) {
        invalid.push({ file, reason: slugProblem });
        continue;
      }
      const stem = stemOf(file);
      const key = `${entry.name}\0${stem}`;
      const group = groups.get(key) ?? { slug: entry.name, stem, files: [], mtimeMs: Number.POSITIVE_INFINITY };
      group.files.push(file);
      group.mtimeMs = Math.min(group.mtimeMs, mtimeOf(file.abs));
      groups.set(key, group);
    }
  }
  const ordered = [...groups.values()].sort((a, b) => a.mtimeMs - b.mtimeMs || (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : a.stem < b.stem ? -1 : 1));
  return { groups: ordered, invalid };
}

function readQueueFile<T>(file: QueueFile, context: FileContext, parse: (object: Record<string, unknown>, context: FileContext) => T): Parsed<T> {
  try {
    const stat = fs.statSync(file.abs);
    if (stat.size > MAX_LEGACY_FILE_BYTES) return { file, reason: `${stat.size} bytes, larger than any queue file (limit ${MAX_LEGACY_FILE_BYTES})` };
    return { file, value: parse(parseJsonObject(fs.readFileSync(file.abs, 'utf8')), { ...context, mtimeMs: stat.mtimeMs }) };
  } catch (error) {
    if (error instanceof LegacyShapeError) return { file, reason: error.message };
    return { file, reason: `cannot be read (${describeFsError(error)})` };
  }
}

function parseGroup(group: Group): ParsedGroup {
  const context: FileContext = { slug: group.slug, stem: group.stem, mtimeMs: 0 };
  // The processed/ copy is the later state of the same proposal: it is the one imported.
  const files = [...group.files].sort((a, b) => Number(b.processed) - Number(a.processed));
  return {
    group,
    proposals: files.filter((f) => f.role === 'proposal').map((f) => readQueueFile(f, context, parseLegacyProposal)),
    responses: files.filter((f) => f.role === 'response').map((f) => readQueueFile(f, context, parseLegacyResponse)),
  };
}

// ---------------------------------------------------------------------------------------------
// Deciding and writing, inside the batch's transaction.

function sameResponse(a: LegacyResponse, b: LegacyResponse): boolean {
  return a.status === b.status && a.notes === b.notes && a.finalPayload === b.finalPayload;
}

function applyGroup(target: ImportTarget, parsed: ParsedGroup, knownKinds: ReadonlySet<string>): Outcome[] {
  const outcomes: Outcome[] = [];
  const bad = (unit: UnitKind, file: QueueFile, reason: string): void => void outcomes.push({ unit, result: 'malformed', path: file.rel, reason });
  const inProcessed = parsed.group.files.some((f) => f.processed);

  const proposals = parsed.proposals.filter((p) => p.value !== undefined) as Array<Required<Parsed<LegacyProposal>>>;
  for (const p of parsed.proposals) if (p.value === undefined) bad('proposals', p.file, p.reason ?? 'malformed');
  const validResponses = parsed.responses.filter((r) => r.value !== undefined) as Array<Required<Parsed<LegacyResponse>>>;
  for (const r of parsed.responses) if (r.value === undefined) bad('responses', r.file, r.reason ?? 'malformed');

  let primary = proposals[0];
  let insertedNow = false;
  for (const copy of proposals.slice(1)) {
    if (copy.value.id === primary?.value.id) outcomes.push({ unit: 'proposals', result: 'alreadyPresent', path: copy.file.rel });
    else bad('proposals', copy.file, `it shares its file name with ${primary?.file.rel} but has another id (${copy.value.legacyId})`);
  }
  if (primary) {
    const existing = target.proposal(primary.value.id);
    if (existing && existing.slug !== primary.value.slug) {
      bad('proposals', primary.file, `its id ${primary.value.id} already belongs to a proposal of bottle "${existing.slug}"`);
      primary = undefined;
    } else if (existing) {
      outcomes.push({ unit: 'proposals', result: 'alreadyPresent', path: primary.file.rel });
    } else {
      // Without an answer it is pending again, unless it was archived unanswered or its kind no longer exists.
      const state: ProposalState = validResponses.length > 0 || (!inProcessed && knownKinds.has(primary.value.kind)) ? 'pending' : 'expired';
      target.insertProposal(primary.value, state, { key: `proposal:${primary.value.id}`, kind: 'proposal', path: primary.file.rel });
      outcomes.push({ unit: 'proposals', result: 'imported', path: primary.file.rel });
      insertedNow = true;
    }
  }

  const [answer, ...copies] = validResponses;
  if (!answer) return outcomes;
  const proposalId = primary?.value.id ?? proposalIdFor(parsed.group.slug, parsed.group.stem);
  for (const copy of copies) {
    if (sameResponse(copy.value, answer.value)) outcomes.push({ unit: 'responses', result: 'alreadyPresent', path: copy.file.rel });
    else bad('responses', copy.file, `a second, different response to the same proposal (only ${answer.file.rel} was taken)`);
  }
  const named = answer.value.legacyProposalId;
  const facts = target.proposal(proposalId);
  if (named !== null && proposalIdFor(parsed.group.slug, named) !== proposalId) {
    bad('responses', answer.file, `it answers proposal ${named}, not the proposal its file name belongs to (${parsed.group.stem})`);
  } else if (!facts || facts.slug !== parsed.group.slug) {
    bad('responses', answer.file, `no proposal for this response: expected ${parsed.group.stem}.json beside it or in processed/`);
  } else if (target.hasResponse(proposalId)) {
    outcomes.push({ unit: 'responses', result: 'alreadyPresent', path: answer.file.rel });
  } else if (facts.state !== 'pending') {
    bad('responses', answer.file, `its proposal is ${facts.state} in the database, so this answer was not imported`);
  } else {
    target.answer({ id: proposalId, slug: parsed.group.slug }, answer.value, inProcessed ? 'archived' : 'answered', !insertedNow, { key: `response:${proposalId}`, kind: 'response', path: answer.file.rel });
    outcomes.push({ unit: 'responses', result: 'imported', path: answer.file.rel });
  }
  return outcomes;
}

// ---------------------------------------------------------------------------------------------
// Audit logs: every component's file merged by time, so the chain reads chronologically.

type AuditItem = { rel: string; line: number; bytes: number } & ({ entry: LegacyAuditLine; key: string } | { reason: string });

interface LogReader {
  rel: string;
  component: string;
  lines: AsyncIterator<string>;
  lineNo: number;
  head?: AuditItem & { entry: LegacyAuditLine };
}

function auditKey(component: string, object: Record<string, unknown>): string {
  return `audit:${createHash('sha256').update(component).update('\0').update(canonicalJson(object)).digest('hex')}`;
}

/** Within the limits AuditStore enforces, so the write never refuses a line we counted as good. */
function auditLimitProblem(entry: LegacyAuditLine): string | undefined {
  if (Buffer.byteLength(entry.notes, 'utf8') > MAX_NOTES_BYTES) return `its notes (with the fields kept from the old entry) are over ${MAX_NOTES_BYTES} bytes`;
  if (Buffer.byteLength(entry.diff, 'utf8') > 2 * MAX_PAYLOAD_BYTES) return `its diff is over ${2 * MAX_PAYLOAD_BYTES} bytes`;
  return undefined;
}

async function advance(reader: LogReader, emit: AuditItem[], collector: Collector): Promise<void> {
  reader.head = undefined;
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = await reader.lines.next();
    } catch (error) {
      collector.unreadable(reader.rel, error);
      return;
    }
    if (next.done) return;
    reader.lineNo += 1;
    const bytes = Buffer.byteLength(next.value, 'utf8') + 1;
    if (next.value.trim() === '') {
      emit.push({ rel: reader.rel, line: reader.lineNo, bytes, reason: '' });
      continue;
    }
    try {
      const object = parseJsonObject(next.value);
      const entry = parseLegacyAuditLine(object, reader.component);
      reader.head = { rel: reader.rel, line: reader.lineNo, bytes, entry, key: auditKey(entry.component, object) };
      return;
    } catch (error) {
      if (!(error instanceof LegacyShapeError)) throw error;
      emit.push({ rel: reader.rel, line: reader.lineNo, bytes, reason: error.message });
    }
  }
}

async function* auditItems(readers: LogReader[], collector: Collector): AsyncGenerator<AuditItem> {
  const emitted: AuditItem[] = [];
  for (const reader of readers) await advance(reader, emitted, collector);
  for (;;) {
    yield* emitted.splice(0);
    let oldest: LogReader | undefined;
    for (const reader of readers) if (reader.head && (!oldest?.head || reader.head.entry.ts < oldest.head.entry.ts)) oldest = reader;
    const item = oldest?.head;
    if (!oldest || !item) return;
    yield item;
    await advance(oldest, emitted, collector);
  }
}

function openAuditLogs(from: string, collector: Collector): { readers: LogReader[]; bytes: number } {
  const auditAbs = path.join(from, 'audit');
  const readers: LogReader[] = [];
  let bytes = 0;
  if (!fs.existsSync(auditAbs)) return { readers, bytes };
  for (const entry of listDir(auditAbs, 'audit', collector) ?? []) {
    const abs = path.join(auditAbs, entry.name);
    const rel = `audit/${entry.name}`;
    if (entryType(entry, abs) !== 'file' || !entry.name.endsWith('.jsonl')) {
      collector.ignore(rel);
      continue;
    }
    let stream: fs.ReadStream;
    try {
      // Opened now, so an unreadable log is reported as such rather than as an empty one.
      stream = fs.createReadStream(abs, { encoding: 'utf8', fd: fs.openSync(abs, 'r') });
      bytes += fs.statSync(abs).size;
    } catch (error) {
      collector.unreadable(rel, error);
      continue;
    }
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })[Symbol.asyncIterator]();
    readers.push({ rel, component: entry.name.slice(0, -'.jsonl'.length), lines, lineNo: 0 });
  }
  return { readers, bytes };
}

function applyAuditItem(target: ImportTarget, item: AuditItem): Outcome {
  const where = { path: item.rel, line: item.line };
  if (!('entry' in item)) return { unit: 'auditLines', result: 'malformed', ...where, reason: item.reason };
  if (target.hasSource(item.key)) return { unit: 'auditLines', result: 'alreadyPresent', ...where };
  const problem = auditLimitProblem(item.entry);
  if (problem) return { unit: 'auditLines', result: 'malformed', ...where, reason: problem };
  target.appendAudit(item.entry, { key: item.key, kind: 'audit', path: `${item.rel}:${item.line}` });
  return { unit: 'auditLines', result: 'imported', ...where };
}

// ---------------------------------------------------------------------------------------------

/** Refuses a directory that holds neither part of the legacy layout: probably the wrong --from. */
export function assertLegacyRoot(from: string): void {
  const stat = fs.statSync(from, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new LegacyShapeError(`${from} is not a directory. Point --from at the old bot-bottle state directory (the one holding queue/ and audit/).`);
  if (!fs.existsSync(path.join(from, 'queue')) && !fs.existsSync(path.join(from, 'audit'))) {
    throw new LegacyShapeError(`${from} holds neither queue/ nor audit/, so there is nothing to import from it. Point --from at the old bot-bottle state directory.`);
  }
}

export async function importLegacy(options: LegacyImportOptions): Promise<LegacyImportSummary> {
  assertLegacyRoot(options.from);
  const dryRun = options.dryRun ?? false;
  if (!dryRun && !options.db) throw new Error('importLegacy needs a database unless it is a dry run');
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const target: ImportTarget = dryRun ? new DryRunTarget(options.db) : new DatabaseTarget(options.db as Db, Date.now());
  const knownKinds = new Set(KindRegistry.withBuiltins().names());
  const collector = new Collector();

  const { groups, invalid } = scanQueue(options.from, collector);
  const queueFiles = invalid.length + groups.reduce((n, g) => n + g.files.length, 0);
  let done = 0;
  for (const { file, reason } of invalid) {
    collector.read(file.role === 'proposal' ? 'proposals' : 'responses');
    collector.settle([{ unit: file.role === 'proposal' ? 'proposals' : 'responses', result: 'malformed', path: file.rel, reason }]);
    done += 1;
  }
  options.onProgress?.({ phase: 'queue', done, total: queueFiles });
  for (let start = 0; start < groups.length; ) {
    const batch: ParsedGroup[] = [];
    let files = 0;
    for (; start < groups.length && files < batchSize; start += 1) {
      const parsed = parseGroup(groups[start] as Group);
      batch.push(parsed);
      files += parsed.group.files.length;
      for (const file of parsed.group.files) collector.read(file.role === 'proposal' ? 'proposals' : 'responses');
    }
    collector.settle(await target.batch(() => batch.flatMap((parsed) => applyGroup(target, parsed, knownKinds))));
    done += files;
    options.onProgress?.({ phase: 'queue', done, total: queueFiles });
  }

  const { readers, bytes } = openAuditLogs(options.from, collector);
  let bytesDone = 0;
  let pending: AuditItem[] = [];
  const flush = async (): Promise<void> => {
    const items = pending;
    pending = [];
    collector.settle(await target.batch(() => items.map((item) => applyAuditItem(target, item))));
    options.onProgress?.({ phase: 'audit', done: bytesDone, total: bytes });
  };
  for await (const item of auditItems(readers, collector)) {
    bytesDone += item.bytes;
    // Blank lines are not entries: neither read nor counted.
    if (!('entry' in item) && item.reason === '') continue;
    collector.read('auditLines');
    pending.push(item);
    if (pending.length >= batchSize) await flush();
  }
  await flush();

  return summarize(options.from, dryRun, collector, target.writtenBySource());
}

function summarize(from: string, dryRun: boolean, collector: Collector, written: Record<Source['kind'], number>): LegacyImportSummary {
  const { counts } = collector;
  const mismatches: string[] = [];
  for (const unit of ['proposals', 'responses', 'auditLines'] as const) {
    const c = counts[unit];
    if (c.read !== c.imported + c.alreadyPresent + c.malformed) {
      mismatches.push(`${unit}: read ${c.read} but imported ${c.imported} + already present ${c.alreadyPresent} + malformed ${c.malformed}`);
    }
  }
  for (const [unit, kind] of [['proposals', 'proposal'], ['responses', 'response'], ['auditLines', 'audit']] as const) {
    if (written[kind] !== counts[unit].imported) mismatches.push(`${unit}: counted ${counts[unit].imported} imported but ${written[kind]} were recorded in legacy_imports`);
  }
  return {
    from,
    dryRun,
    proposals: counts.proposals,
    responses: counts.responses,
    auditLines: counts.auditLines,
    problems: [...collector.problems].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : (a.line ?? 0) - (b.line ?? 0))),
    ignored: collector.ignored,
    countsVerified: mismatches.length === 0,
    ...(mismatches.length > 0 ? { countMismatch: mismatches.join('; ') } : {}),
  };
}
