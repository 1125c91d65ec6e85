import { randomUUID } from 'node:crypto';
import { AuditStore, type AuditEntryInput } from '../audit/audit-store.js';
import { writeTransaction, type Db } from '../storage/connection.js';
import { SuperviseError } from '../core/errors.js';
import { appendEvent, type ChangeType } from '../notify/events.js';
import { Doorbells } from '../notify/doorbells.js';
import type { KindDefinition } from '../kinds/kind.js';
import type { KindRecords } from '../kinds/kind-records.js';
import type { KindRegistry } from '../kinds/registry.js';
import type { StoreKinds, storeKinds } from '../kinds/store-kinds.js';
import type { NewResponse } from '../kinds/response.js';
import type { Target } from '../core/target.js';
import { sha256 } from '../core/hash.js';
import type { Keyring, SealVerdict } from '../keys/keyring.js';
import { BottleQueue } from './bottle-queue.js';
import { assertAsReviewed, assertConsistentCurrentFile, checkCurrentFile, checkReviewed, decisionDetail, forgedProposalError, sameRequest } from './proposal-checks.js';
import { assertBottleActor, assertBottleMayAnswer, assertBottleMayPropose, assertOwnSlug } from './bottle-side.js';
import { proposalSealTrusted, sealedProposalFields, sealedResponseFields } from './proposal-seals.js';
import { admitProposal, type FloodLimits } from './flood-control.js';
import { fairOrder } from './fair-order.js';
import { readPendingSummaries } from './pending-summaries.js';
import {
  proposalFromRow,
  responseFromRow,
  type ListPendingOptions,
  type NewProposal,
  type Proposal,
  type ProposalResponse,
  type ProposalRow,
  type ProposalState,
  type ProposalSummary,
  type ResponseRow,
  type ReviewedProposal,
  type WaitOptions,
  type WaitOutcome,
} from './proposal.js';
import { DEFAULT_PROPOSAL_TTL_MS, MAX_COLUMN_BYTES, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_PROPOSAL_TTL_MS, MAX_JUSTIFICATION_BYTES, MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../core/limits.js';
import type { ChangeNotifier, Notification } from '../notify/notifier.js';
import { cachedStatement } from '../storage/statements.js';
import { textColumn } from '../storage/text-columns.js';
import { isValidSlug, validateActor, validateSlug, validateTextSize } from '../core/validation.js';
import { isoTime } from '../core/time.js';
import { boundedColumn, deleteProposalRow, OVERSIZED_PROPOSAL, readableResponse, UNANSWERABLE_PROPOSAL } from './unreadable-rows.js';

export interface QueueStoreOptions {
  /** The kinds this store knows besides those recorded in the database (read with the keyring); `kinds` holds the store's own copy. */
  kinds?: KindRegistry;
  /**
   * Makes the store's kinds now, for an opener that hands out a store whose `kinds` must work at
   * once (pass store-kinds.ts's `storeKinds`). Without it they load on the store's first use that
   * needs them (`loadKinds()`, which every async method awaits), so that a store only listed
   * never loads the payload formats.
   */
  attachKinds?: typeof storeKinds;
  /**
   * Seals what this store writes and checks what it reads. A bottle's keyring also confines the
   * store to that bottle (see bottle-side.ts). Without one the store can only read.
   */
  keyring?: Keyring;
  /** Needed for `waitForResponse` and subscriptions; one per process serves every store. */
  notifier?: ChangeNotifier;
  /** A bottle's quota, which every enqueue through this store is held to; the host's stores have none. */
  flood?: FloodLimits;
  /** Rung after every commit that changes a proposal; default: the doorbells beside the connection's file. */
  doorbells?: Doorbells;
}

/** A proposal carried over from another system (the pre-SQLite queue), already mapped and checked. */
export type ImportedProposal = Pick<Proposal, 'id' | 'slug' | 'kind' | 'origin' | 'payload' | 'justification' | 'currentFile' | 'currentFileHash' | 'createdAt' | 'expiresAt'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ID_PREFIX = /^[0-9a-f][0-9a-f-]{7,35}$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]+$/;

/**
 * The proposal queue: every proposal, its one answer and its state, for every bottle. Takes a connection (and, to wait, the process's notifier);
 * owns neither. Every write is one BEGIN IMMEDIATE transaction that also sweeps expired
 * proposals and appends its change events, so readers never see a half-made decision.
 */
export class QueueStore {
  readonly #db: Db;
  readonly #givenKinds: KindRegistry | undefined;
  #kinds: StoreKinds | undefined;
  #loadingKinds: Promise<StoreKinds> | undefined;
  readonly #notifier: ChangeNotifier | undefined;
  readonly #audit: AuditStore;
  readonly #keyring: Keyring | undefined;
  readonly #flood: FloodLimits | undefined;
  readonly #doorbells: Doorbells | undefined;
  /** The bottles whose events the transaction being written appends, rung once it commits. */
  readonly #toRing = new Set<string>();

  constructor(db: Db, options: QueueStoreOptions = {}) {
    this.#db = db;
    this.#givenKinds = options.kinds;
    this.#kinds = options.attachKinds?.(db, options.keyring, options.kinds);
    this.#notifier = options.notifier;
    this.#audit = new AuditStore(db);
    this.#keyring = options.keyring;
    this.#flood = options.flood;
    this.#doorbells = options.doorbells ?? (db.memory ? undefined : new Doorbells(db.name));
  }

  /**
   * The kinds this store validates and answers with. Every opener the library exports hands out a
   * store whose kinds are loaded; a store opened to list only loads them with `loadKinds()`.
   */
  get kinds(): KindRegistry {
    if (this.#kinds === undefined) throw new Error("this store's kinds are not loaded yet: await queue.loadKinds() first (the library's openers do).");
    return this.#kinds.registry;
  }

  /** Loads the store's kinds (the payload formats) if the opener left them for first use; resolves to `kinds`. */
  async loadKinds(): Promise<KindRegistry> {
    if (this.#kinds !== undefined) return this.#kinds.registry;
    this.#loadingKinds ??= import('../kinds/store-kinds.js').then(({ storeKinds }) => (this.#kinds ??= storeKinds(this.#db, this.#keyring, this.#givenKinds)));
    return (await this.#loadingKinds).registry;
  }

  /** The view a sidecar gets: it can neither read nor answer another bottle's proposals. */
  forSlug(slug: string): BottleQueue {
    return new BottleQueue(this, validateSlug(slug));
  }

  /**
   * Records (host-sealed) every kind registered in this store's registry by a launcher, so the
   * operator's tools can answer their proposals, including those a bottle makes before the
   * launcher's first. `openHostDatabase` calls it; a kind registered later is recorded with its
   * first proposal.
   */
  async recordKinds(): Promise<void> {
    await this.loadKinds();
    await this.#requireKindRecords().record(this.kinds.declared());
  }

  async writeProposal(slug: string, input: NewProposal): Promise<Proposal> {
    await this.loadKinds();
    this.#checkSlug(slug);
    const kind = this.kinds.get(input.kind);
    const row = this.#newProposalRow(slug, kind, input);
    const declared = this.#keyring?.side === 'host' ? this.kinds.declaredKind(kind.name) : undefined;
    const proposal = await writeTransaction(this.#db, () => {
      // A proposal of a launcher's kind never exists without the record the operator's tools answer it by.
      if (declared) this.#requireKindRecords().recordWithinTransaction(declared);
      this.#sweep(row.created_at);
      if (row.idempotency_key !== null) {
        const existing = cachedStatement(this.#db, `SELECT * FROM proposals WHERE slug = ? AND idempotency_key = ? AND NOT ${OVERSIZED_PROPOSAL}`).get(slug, row.idempotency_key) as ProposalRow | undefined;
        if (existing) return proposalFromRow(sameRequest(existing, row));
      }
      if (this.#flood) admitProposal(this.#db, slug, this.#flood, row.created_at);
      const inserted = cachedStatement(
        this.#db,
        `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, current_file, current_file_hash, idempotency_key, state, created_at, expires_at, updated_at, seal)
         VALUES (@id, @slug, @kind, @origin, @target, @payload, @justification, @current_file, @current_file_hash, @idempotency_key, 'pending', @created_at, @expires_at, @updated_at, @seal)`,
      ).run(row);
      this.#event('created', row.id, slug, row.target, row.created_at);
      return proposalFromRow({ ...row, state: 'pending', seq: Number(inserted.lastInsertRowid) });
    });
    this.announceCommitted();
    return proposal;
  }

  #newProposalRow(slug: string, kind: KindDefinition, input: NewProposal): Omit<ProposalRow, 'seq' | 'state'> {
    if (typeof input.payload !== 'string') throw new SuperviseError('invalid-payload', 'payload must be a string (the full proposed file or report).');
    validateTextSize(input.payload, MAX_PAYLOAD_BYTES, 'payload');
    const justification = validateTextSize(input.justification ?? '', MAX_JUSTIFICATION_BYTES, 'justification');
    this.kinds.validate(kind.name, input.payload);
    validateActor(input.origin, 'origin');
    const target = input.target ?? kind.target;
    if (target !== 'operator' && target !== 'sidecar') {
      throw new SuperviseError('invalid-input', `target ${JSON.stringify(target)} is not valid: use "operator" or "sidecar".`);
    }
    const keyring = this.#requireKeyring();
    if (keyring.side === 'bottle') {
      assertBottleActor(input.origin, 'origin');
      assertBottleMayPropose(target);
    }
    const currentFileHash = checkCurrentFile(input);
    const idempotencyKey = input.idempotencyKey ?? null;
    if (idempotencyKey !== null && (!IDEMPOTENCY_KEY.test(idempotencyKey) || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      throw new SuperviseError('invalid-input', `idempotency key must be 1–${MAX_IDEMPOTENCY_KEY_LENGTH} printable characters without spaces.`);
    }
    const ttlMs = input.ttlMs === undefined ? DEFAULT_PROPOSAL_TTL_MS : input.ttlMs;
    if (ttlMs !== null && (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > MAX_PROPOSAL_TTL_MS)) {
      throw new SuperviseError('invalid-input', `ttlMs must be a positive number of milliseconds up to ${MAX_PROPOSAL_TTL_MS} (a year), or null for no expiry; got ${String(ttlMs)}.`);
    }
    const now = Date.now();
    const id = randomUUID();
    return {
      id,
      slug,
      kind: kind.name,
      origin: input.origin,
      target,
      payload: input.payload,
      justification,
      current_file: input.currentFile ?? null,
      current_file_hash: currentFileHash,
      idempotency_key: idempotencyKey,
      created_at: now,
      expires_at: ttlMs === null ? null : now + ttlMs,
      updated_at: now,
      seal: keyring.sealProposal(sealedProposalFields({ id, slug, kind: kind.name, origin: input.origin, target, payload: input.payload, currentFileHash, justification })),
    };
  }

  readProposal(slug: string, id: string): Proposal | undefined {
    this.#checkSlug(slug);
    if (!UUID.test(id)) return undefined;
    const row = cachedStatement(this.#db, `SELECT * FROM proposals WHERE id = ? AND slug = ? AND NOT ${OVERSIZED_PROPOSAL}`).get(id, slug) as ProposalRow | undefined;
    return row ? proposalFromRow(row) : undefined;
  }

  /**
   * Host-only lookup by id across every bottle, for the operator who knows an id but not its
   * bottle. Accepts a full id or a unique prefix of at least 8 characters (what `supervise --once`
   * shows). `BottleQueue` deliberately has no counterpart.
   */
  findProposal(idOrPrefix: string): Proposal | undefined {
    if (this.#keyring?.side === 'bottle') assertOwnSlug(this.#keyring.slug, undefined);
    const wanted = idOrPrefix.trim().toLowerCase();
    if (UUID.test(wanted)) {
      const row = cachedStatement(this.#db, `SELECT * FROM proposals WHERE id = ? AND NOT ${OVERSIZED_PROPOSAL}`).get(wanted) as ProposalRow | undefined;
      return row ? proposalFromRow(row) : undefined;
    }
    if (!ID_PREFIX.test(wanted)) {
      throw new SuperviseError('invalid-input', `${JSON.stringify(idOrPrefix)} is not a proposal id: give the full id or at least its first 8 characters (hex digits and '-').`);
    }
    // A range on the unique id index; '~' sorts after every character an id can hold.
    const rows = cachedStatement(this.#db, `SELECT * FROM proposals WHERE id >= ? AND id < ? AND NOT ${OVERSIZED_PROPOSAL} ORDER BY seq LIMIT 2`).all(wanted, `${wanted}~`) as ProposalRow[];
    if (rows.length > 1) {
      throw new SuperviseError('invalid-input', `id prefix ${JSON.stringify(wanted)} matches more than one proposal; give more characters of the id.`);
    }
    return rows[0] ? proposalFromRow(rows[0]) : undefined;
  }

  /**
   * Proposals still waiting for an answer. For one bottle (`slug`): oldest first. Across all
   * bottles: in turns, each bottle's oldest, then each one's second oldest, and so on (oldest first
   * within a turn), so one bottle's flood cannot bury another's single question. Both read only
   * the pending rows, through their partial index, however long the history.
   */
  listPendingProposals(options: ListPendingOptions = {}): Proposal[] {
    if (this.#keyring?.side === 'bottle') assertOwnSlug(this.#keyring.slug, options.slug);
    const target = options.target ?? 'operator';
    if (options.limit !== undefined && (!Number.isSafeInteger(options.limit) || options.limit < 1)) {
      throw new SuperviseError('invalid-input', `limit must be a positive whole number, got ${String(options.limit)}.`);
    }
    if (options.slug === undefined) {
      // Every pending row is read either way (a turn is known only once all are seen); the order is fair-order.ts's.
      const rows = cachedStatement(this.#db, `SELECT * FROM proposals WHERE state = 'pending' AND target = +? AND (expires_at IS NULL OR expires_at > +?) AND NOT ${OVERSIZED_PROPOSAL} ORDER BY seq`).all(target, Date.now()) as ProposalRow[];
      return fairOrder(rows)
        .slice(0, options.limit)
        .map(proposalFromRow);
    }
    const rows = cachedStatement(this.#db, `SELECT * FROM proposals WHERE state = 'pending' AND target = +? AND slug = +? AND (expires_at IS NULL OR expires_at > +?) AND NOT ${OVERSIZED_PROPOSAL} ORDER BY seq LIMIT +?`).all(
      target,
      validateSlug(options.slug),
      Date.now(),
      options.limit ?? -1,
    ) as ProposalRow[];
    return rows.map(proposalFromRow);
  }

  /**
   * The pending proposals to `target` (default the operator) in the same fair order, as a list
   * shows them: without payloads or current files, each with its payload's sha256 for
   * `summarySeal`. Cheaper than `listPendingProposals` by the size of what it leaves out.
   */
  listPendingSummaries(target: Target = 'operator'): ProposalSummary[] {
    // Every bottle's rows: never a bottle's store.
    if (this.#keyring?.side === 'bottle') assertOwnSlug(this.#keyring.slug, undefined);
    return readPendingSummaries(this.#db, target, Date.now());
  }

  /**
   * Answers a pending proposal. A compare-and-set on `state = 'pending'` makes the answer
   * exactly-once; the response, the state change, the audit entry and the event commit together.
   * Everything the answer depends on is read again inside that transaction: with `reviewed`, a
   * payload or current file that changed since it was displayed is refused, and a proposal whose
   * seal does not verify cannot be approved or modified (only rejected), and is audited as forged.
   */
  async writeResponse(slug: string, id: string, input: NewResponse, options: { reviewed?: ReviewedProposal } = {}): Promise<ProposalResponse> {
    await this.loadKinds();
    const proposal = this.#requireProposal(slug, id);
    const keyring = this.#requireKeyring();
    if (keyring.side === 'bottle') {
      assertBottleMayAnswer(proposal.target, proposal.id);
      assertBottleActor(input.responder, 'responder');
    }
    const kind = this.kinds.answering(proposal.kind, input.status);
    const checked = this.kinds.checkResponse(proposal, input);
    // Whoever wrote the row (a bottle has raw access) may have skipped its kind's check; approving passes on exactly this payload.
    const assertApprovable = (payload: string): void => {
      if (checked.status === 'approved') this.kinds.validate(kind.name, payload, `the proposal's payload (reject it, or modify it where the kind allows)`);
    };
    assertApprovable(proposal.payload);
    const reviewed = options.reviewed === undefined ? undefined : checkReviewed(options.reviewed);
    const createdAt = Date.now();
    // The seals, the diff and the decision's detail cost about as much as the commit; made from the
    // row as read here, they are reused inside the transaction when the row is still the same, so
    // the write lock is held only for the writes.
    const decide = (row: Proposal): Decision => {
      const proposalSeal = keyring.checkProposal(sealedProposalFields(row), row.seal);
      if (checked.status !== 'rejected' && !proposalSealTrusted(row.target, proposalSeal)) return { forged: true };
      const finalPayload = checked.finalPayload ?? row.payload;
      const answer = { status: checked.status, finalPayload: checked.finalPayload, notes: checked.notes, responder: checked.responder };
      return {
        forged: false,
        response: {
          proposal_id: row.id,
          status: checked.status,
          notes: checked.notes,
          final_payload: checked.finalPayload,
          responder: checked.responder,
          created_at: createdAt,
          seal: keyring.sealResponse(sealedResponseFields(row, answer)),
        },
        audit: {
          ts: createdAt,
          component: kind.component,
          action: 'proposal-decision',
          actor: checked.responder,
          proposalId: row.id,
          kind: kind.name,
          status: checked.status,
          notes: checked.notes,
          diff: kind.diff(row.currentFile ?? '', finalPayload),
          detail: decisionDetail(kind, row, checked.finalPayload, proposalSeal, reviewed),
        },
      };
    };
    const decidedBeforehand = decide(proposal);
    const outcome = await writeTransaction(this.#db, (): { written: ProposalResponse } | { refused: SuperviseError } => {
      this.#sweep(createdAt);
      // A refusal thrown here writes nothing, not even the sweep that found the proposal expired;
      // only refusing a forged proposal commits, to keep the record of the forgery.
      const current = this.#proposalById(id);
      if (current.state !== 'pending') throw this.#notPending(proposal, current.state);
      if (reviewed) assertAsReviewed(current, reviewed);
      assertConsistentCurrentFile(current);
      if (current.payload !== proposal.payload) assertApprovable(current.payload);
      const decision = sameDecisionInputs(current, proposal) ? decidedBeforehand : decide(current);
      if (decision.forged) {
        this.#auditForgedWithinTransaction(current, 'proposal', keyring.side === 'host' ? 'supervise' : 'sidecar', createdAt);
        return { refused: forgedProposalError(current) };
      }
      const { response, audit } = decision;
      cachedStatement(this.#db, `UPDATE proposals SET state = 'answered', updated_at = ? WHERE id = ? AND state = 'pending'`).run(createdAt, id);
      cachedStatement(
        this.#db,
        'INSERT INTO responses (proposal_id, status, notes, final_payload, responder, created_at, seal) VALUES (@proposal_id, @status, @notes, @final_payload, @responder, @created_at, @seal)',
      ).run(response);
      this.#audit.appendWithinTransaction(current.slug, audit);
      this.#event('answered', id, current.slug, current.target, createdAt);
      return { written: responseFromRow(response) };
    });
    this.announceCommitted();
    if ('refused' in outcome) throw outcome.refused;
    return outcome.written;
  }

  /** Whose seal the proposal row carries, as far as this store's keyring can tell. */
  proposalSeal(proposal: Proposal): SealVerdict {
    return this.#requireKeyring().checkProposal(sealedProposalFields(proposal), proposal.seal);
  }

  /** `proposalSeal` for a summary: the same verdict, from the payload hash the summary was read with. */
  summarySeal(summary: ProposalSummary): SealVerdict {
    const { payloadSha256, id, slug, kind, origin, target, currentFileHash, justification } = summary;
    return this.#requireKeyring().checkProposalDigest({ id, slug, kind, origin, target, payloadSha256, currentFileHash, justification }, summary.seal);
  }

  /** Whose seal an answer carries; it covers the proposal's payload and current-file hash as they were when answered. */
  responseSeal(proposal: Proposal, response: ProposalResponse): SealVerdict {
    return this.#requireKeyring().checkResponse(sealedResponseFields(proposal, response), response.seal);
  }

  /**
   * Records in the audit log that `row` of the proposal failed its seal check, once per distinct
   * forged row: reading the same forgery again adds nothing. Returns whether this call recorded it.
   */
  async auditForged(proposal: Pick<Proposal, 'id' | 'slug' | 'kind' | 'target' | 'seal'>, row: 'proposal' | 'response'): Promise<boolean> {
    await this.loadKinds();
    const keyring = this.#requireKeyring();
    if (keyring.side === 'bottle') assertOwnSlug(keyring.slug, proposal.slug);
    const recorded = await writeTransaction(this.#db, () => {
      const seal = row === 'proposal' ? proposal.seal : ((cachedStatement(this.#db, `SELECT seal FROM responses WHERE proposal_id = ? AND ${readableResponse()}`, { pluck: true }).get(proposal.id) as string | null | undefined) ?? null);
      return this.#auditForgedWithinTransaction({ ...proposal, seal }, row, keyring.side === 'host' ? 'supervise' : 'sidecar', Date.now());
    });
    this.announceCommitted();
    return recorded;
  }

  #auditForgedWithinTransaction(proposal: Pick<Proposal, 'id' | 'slug' | 'kind' | 'target' | 'seal'>, row: 'proposal' | 'response', seenBy: string, now: number): boolean {
    // The forger chose every field; only a slug the audit log accepts can be recorded under it.
    if (!isValidSlug(proposal.slug)) return false;
    const detail = { row, sealSha256: proposal.seal === null ? null : sha256(proposal.seal) };
    const seen = cachedStatement(this.#db, `SELECT 1 FROM audit_entries WHERE proposal_id = ? AND action = 'forged-row' AND detail = ?`).get(proposal.id, JSON.stringify(detail));
    if (seen) return false;
    const who = row === 'proposal' ? (proposal.target === 'operator' ? 'its bottle or the host' : 'the host') : proposal.target === 'operator' ? 'the host' : 'its bottle or the host';
    this.#audit.appendWithinTransaction(proposal.slug, {
      ts: now,
      component: this.kinds.find(proposal.kind)?.component ?? 'supervise',
      action: 'forged-row',
      actor: seenBy,
      proposalId: proposal.id,
      kind: proposal.kind,
      status: 'forged',
      notes: `the ${row} row of this proposal is not sealed by ${who}: something with raw access to the database wrote or changed it. It was not acted on.`,
      detail,
    });
    return true;
  }

  readResponse(slug: string, id: string): ProposalResponse | undefined {
    if (!this.readProposal(slug, id)) return undefined;
    const row = cachedStatement(this.#db, `SELECT * FROM responses WHERE proposal_id = ? AND ${readableResponse()}`).get(id) as ResponseRow | undefined;
    return row ? responseFromRow(row) : undefined;
  }

  /**
   * The consumer's acknowledgement after it has read the response. Returns true when this call
   * archived the proposal and false when it already was archived (or had expired or been cancelled).
   */
  async archiveProposal(slug: string, id: string): Promise<boolean> {
    const proposal = this.#requireProposal(slug, id);
    const archived = await writeTransaction(this.#db, () => {
      const now = Date.now();
      const state = cachedStatement(this.#db, 'SELECT state FROM proposals WHERE id = ?', { pluck: true }).get(id) as ProposalState;
      if (state === 'pending') {
        throw new SuperviseError('conflict', `proposal ${id} has not been answered yet, so it cannot be archived. Wait for its response first (or cancel it).`, { state });
      }
      if (state !== 'answered') return false;
      cachedStatement(this.#db, `UPDATE proposals SET state = 'archived', updated_at = ? WHERE id = ? AND state = 'answered'`).run(now, id);
      this.#event('archived', id, proposal.slug, proposal.target, now);
      return true;
    });
    this.announceCommitted();
    return archived;
  }

  /**
   * Archives answers their waiter never collected (state `answered`, unchanged for `olderThanMs`),
   * each with an audit entry (`answer-uncollected`) and an `archived` event. A waiter that resumes
   * later still reads its answer; only the pending-looking clutter goes. Host only. Returns how many.
   */
  async archiveUncollected(olderThanMs: number, now: number = Date.now()): Promise<number> {
    await this.loadKinds();
    this.#requireHostKeyring();
    const archived = await writeTransaction(this.#db, () => {
      const due = cachedStatement(this.#db, `SELECT * FROM proposals WHERE state = 'answered' AND updated_at < ? AND NOT ${OVERSIZED_PROPOSAL}`).all(now - olderThanMs) as ProposalRow[];
      for (const row of due.map(proposalFromRow)) {
        this.#settleWithinTransaction(row, 'archived', {
          action: 'answer-uncollected',
          actor: 'supervise',
          notes: `answered ${isoTime(row.updatedAt)} and never collected by its waiter; archived after ${Math.round(olderThanMs / 3_600_000)} h`,
        }, now);
      }
      return due.length;
    });
    this.announceCommitted();
    return archived;
  }

  /** Withdraws a pending proposal (audited). Returns false when it was already cancelled. */
  async cancelProposal(slug: string, id: string, cancel: { actor: string; reason: string }): Promise<boolean> {
    await this.loadKinds();
    const proposal = this.#requireProposal(slug, id);
    const actor = validateActor(cancel.actor, 'actor');
    if (this.#keyring?.side === 'bottle') assertBottleActor(actor, 'actor');
    const reason = validateTextSize(cancel.reason, MAX_NOTES_BYTES, 'reason');
    const cancelled = await writeTransaction(this.#db, () => {
      const now = Date.now();
      this.#sweep(now);
      const state = cachedStatement(this.#db, 'SELECT state FROM proposals WHERE id = ?', { pluck: true }).get(id) as ProposalState;
      if (state === 'cancelled') return false;
      if (state !== 'pending') throw this.#notPending(proposal, state);
      this.#settleWithinTransaction(proposal, 'cancelled', { action: 'proposal-cancelled', actor, notes: reason }, now);
      return true;
    });
    this.announceCommitted();
    return cancelled;
  }

  /** Moves every proposal past its expiry to `expired`, each with an audit entry (and closes the unanswerable rows only raw SQL writes). Returns how many. */
  async expireDue(): Promise<number> {
    await this.loadKinds();
    const expired = await writeTransaction(this.#db, () => this.#sweep(Date.now()));
    this.announceCommitted();
    return expired;
  }

  /**
   * Inserts an imported proposal, for the operator, in the state it had reached, inside the
   * caller's open write transaction (so it commits with the importer's own bookkeeping). A pending
   * one gets a `created` event, so a running `supervise` shows it. Throws if no transaction is open.
   */
  insertImportedWithinTransaction(proposal: ImportedProposal, state: ProposalState): void {
    if (!this.#db.inTransaction) throw new Error('insertImportedWithinTransaction needs an open write transaction');
    // The host vouches for what it imports: its signature is what makes the row trusted from now on.
    const seal = this.#requireHostKeyring().sealProposal(sealedProposalFields({ ...proposal, target: 'operator' }));
    cachedStatement(
      this.#db,
      `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, current_file, current_file_hash, idempotency_key, state, created_at, expires_at, updated_at, seal)
       VALUES (@id, @slug, @kind, @origin, 'operator', @payload, @justification, @currentFile, @currentFileHash, NULL, @state, @createdAt, @expiresAt, @createdAt, @seal)`,
    ).run({
      seal,
      id: proposal.id,
      slug: proposal.slug,
      kind: proposal.kind,
      origin: proposal.origin,
      payload: proposal.payload,
      justification: proposal.justification,
      currentFile: proposal.currentFile,
      currentFileHash: proposal.currentFileHash,
      state,
      createdAt: proposal.createdAt,
      expiresAt: proposal.expiresAt,
    });
    if (state === 'pending') this.#event('created', proposal.id, proposal.slug, 'operator', Date.now());
  }

  /**
   * Records the answer an imported proposal already had, inside the caller's open write
   * transaction: the response, and the state the proposal reached (`archived` when its consumer
   * had read the answer). Only a pending proposal changes state. `announce` when a running
   * `supervise` may have shown it as pending: an `answered` event tells it the proposal is decided.
   */
  answerImportedWithinTransaction(
    proposal: Pick<Proposal, 'id' | 'slug'>,
    response: Omit<ProposalResponse, 'proposalId' | 'seal'>,
    state: 'answered' | 'archived',
    options: { announce: boolean },
  ): void {
    if (!this.#db.inTransaction) throw new Error('answerImportedWithinTransaction needs an open write transaction');
    const answered = this.#proposalById(proposal.id);
    cachedStatement(
      this.#db,
      'INSERT INTO responses (proposal_id, status, notes, final_payload, responder, created_at, seal) VALUES (@proposal_id, @status, @notes, @final_payload, @responder, @created_at, @seal)',
    ).run({
      proposal_id: proposal.id,
      status: response.status,
      notes: response.notes,
      final_payload: response.finalPayload,
      responder: response.responder,
      created_at: response.createdAt,
      seal: this.#requireHostKeyring().sealResponse(sealedResponseFields(answered, response)),
    });
    cachedStatement(this.#db, `UPDATE proposals SET state = ?, updated_at = ? WHERE id = ? AND state = 'pending'`).run(state, response.createdAt, proposal.id);
    if (options.announce) this.#event('answered', proposal.id, proposal.slug, 'operator', Date.now());
  }

  /**
   * Resolves when the proposal is answered, expires or is cancelled, or with `pending` at the
   * deadline. Waiting again on the same id resumes; nothing is enqueued or lost by a timeout.
   */
  async waitForResponse(slug: string, id: string, options: WaitOptions): Promise<WaitOutcome> {
    const notifier = this.#notifier;
    if (!notifier) throw new Error('waitForResponse needs a QueueStore constructed with a notifier');
    const initial = this.#requireProposal(slug, id);
    return await new Promise<WaitOutcome>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: WaitOutcome | Error): void => {
        if (done) return;
        done = true;
        unsubscribe();
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const check = (): void => {
        try {
          const outcome = this.#settledOutcome(initial.slug, id);
          if (outcome) finish(outcome);
        } catch (error) {
          finish(error as Error);
        }
      };
      // Timers, abort signals and the notifier call these; what they throw (the table gone, the
      // file damaged) ends this wait with the error instead of escaping where nobody catches it.
      const settling =
        (step: () => void) =>
        (): void => {
          try {
            step();
          } catch (error) {
            finish(error as Error);
          }
        };
      const onDeadline = settling((): void => {
        // A timer can fire a millisecond before Date.now() reaches its target; an expiry seen
        // as not yet due would end the wait as pending long before the caller's deadline.
        if (Date.now() < wakeAt) return arm();
        const proposal = this.#requireProposal(slug, id);
        if (proposal.state === 'pending' && proposal.expiresAt !== null && proposal.expiresAt <= Date.now()) {
          this.expireDue().then(check, (error: Error) => finish(error));
          return;
        }
        check();
        finish({ outcome: 'pending', proposalId: id, proposal });
      });
      const onAbort = settling(() => finish({ outcome: 'pending', proposalId: id, proposal: this.#requireProposal(slug, id) }));
      // Closing the database ends the wait as pending rather than leaving its timer to fire on a
      // closed connection (and to hold the process open until then).
      const onClose = settling(() => finish({ outcome: 'pending', proposalId: id, proposal: this.#db.open ? this.#requireProposal(slug, id) : initial }));
      const unsubscribe = notifier.subscribe(
        (events) => {
          if (events.some((event) => event.type === 'resync' || event.proposalId === id)) check();
        },
        { urgent: true, onClose, slug: initial.slug },
      );
      check();
      if (done) return;
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const deadline = Date.now() + Math.max(0, options.timeoutMs);
      const wakeAt = initial.expiresAt === null ? deadline : Math.min(deadline, initial.expiresAt);
      const arm = (): void => {
        timer = setTimeout(onDeadline, Math.max(0, wakeAt - Date.now()));
      };
      arm();
    });
  }

  #settledOutcome(slug: string, id: string): WaitOutcome | undefined {
    const proposal = this.#requireProposal(slug, id);
    switch (proposal.state) {
      case 'answered':
      case 'archived': {
        const response = this.readResponse(slug, id);
        if (!response) throw new Error(`proposal ${id} is ${proposal.state} but has no response row`);
        return { outcome: 'answered', proposal, response };
      }
      case 'expired':
        return { outcome: 'expired', proposal };
      case 'cancelled':
        return { outcome: 'cancelled', proposal };
      case 'pending':
        return undefined;
    }
  }

  /** Calls `listener` with each change batch matching `filter`; returns the unsubscribe function. */
  subscribe(filter: { slug?: string; target?: Target; types?: ChangeType[] }, listener: (events: Notification[]) => void): () => void {
    if (this.#keyring?.side === 'bottle') assertOwnSlug(this.#keyring.slug, filter.slug);
    const notifier = this.#notifier;
    if (!notifier) throw new Error('subscribe needs a QueueStore constructed with a notifier');
    return notifier.subscribe((events) => {
      const matching = events.filter(
        (event) =>
          event.type === 'resync' ||
          ((filter.slug === undefined || event.slug === filter.slug) &&
            (filter.target === undefined || event.target === filter.target) &&
            (filter.types === undefined || filter.types.includes(event.type))),
      );
      if (matching.length > 0) listener(matching);
    }, filter.slug === undefined ? {} : { slug: filter.slug });
  }

  /**
   * Closes, inside the open write transaction, every pending proposal past its expiry and every one
   * that no lookup could ever find to answer (an id or slug only raw SQL stores), and removes every
   * one holding a value too big to read (unreadable-rows.ts). Whatever a row
   * holds, the sweep settles it and never throws: it runs in every write, and one row a bottle
   * wrote must not stop every bottle's writes.
   */
  #sweep(now: number): number {
    const expired = cachedStatement(this.#db, `SELECT * FROM proposals WHERE state = 'pending' AND expires_at <= ? AND NOT ${OVERSIZED_PROPOSAL}`).all(now) as ProposalRow[];
    for (const row of expired.map(proposalFromRow)) {
      this.#settleWithinTransaction(row, 'expired', {
        action: 'expired',
        actor: 'supervise',
        notes: `unanswered since ${isoTime(row.createdAt)}; expired at ${isoTime(row.expiresAt ?? now)}`,
      }, now);
    }
    // Only the few columns closing needs, each only when small: the rest of such a row may be too big to load.
    const unanswerable = cachedStatement(
      this.#db,
      `SELECT seq, ${boundedColumn('id')}, ${boundedColumn('slug')}, ${boundedColumn('kind')}, ${boundedColumn('target')}, ${OVERSIZED_PROPOSAL} AS oversized
       FROM proposals WHERE state = 'pending' AND ${UNANSWERABLE_PROPOSAL}`,
    ).all() as UnanswerableRow[];
    for (const row of unanswerable) {
      const closing = { seq: row.seq, id: textColumn(row.id ?? ''), slug: row.slug === null ? '' : textColumn(row.slug), kind: textColumn(row.kind ?? ''), target: row.target === 'sidecar' ? ('sidecar' as const) : ('operator' as const) };
      if (row.oversized) {
        this.#dropUnreadableWithinTransaction(closing, now);
        continue;
      }
      this.#settleWithinTransaction(closing, 'expired', {
        action: 'forged-row',
        actor: 'supervise',
        notes: 'the proposal row stores its id or slug as a blob, which only raw SQL writes: no lookup finds it, so it could never be answered. Closed unanswered.',
      }, now);
    }
    return expired.length + unanswerable.length;
  }

  /**
   * Removes a pending row holding a value too big to read. Changing its state would rewrite the
   * whole row, reading that value; deleting it reads only its indexed columns. Where one of those
   * is the big one, the row stays where it is: no read loads it, and the next sweep tries again.
   */
  #dropUnreadableWithinTransaction(row: Pick<Proposal, 'seq' | 'id' | 'slug' | 'kind' | 'target'>, now: number): void {
    if (!deleteProposalRow(this.#db, row.seq) || !isValidSlug(row.slug)) return;
    this.#audit.appendWithinTransaction(row.slug, {
      ts: now,
      component: 'supervise',
      action: 'forged-row',
      actor: 'supervise',
      notes: `the proposal row held a value over ${MAX_COLUMN_BYTES} bytes, more than any writer of the plane stores: only raw SQL writes one, and no list could read it. Removed unanswered.`,
      proposalId: row.id,
      kind: row.kind,
      status: 'expired',
    });
    this.#event('expired', row.id, row.slug, row.target, now);
  }

  /**
   * Ends a proposal's life inside the open write transaction, whose caller has checked its state:
   * the new state, its audit entry and its event commit together. The row is found by `seq`, which
   * SQLite keeps an integer whoever writes it; a slug the audit log cannot take (only raw SQL writes
   * one) gets neither entry nor event, and its row is closed all the same.
   */
  #settleWithinTransaction(
    row: Pick<Proposal, 'seq' | 'id' | 'slug' | 'kind' | 'target'>,
    state: 'expired' | 'archived' | 'cancelled',
    entry: { action: string; actor: string; notes: string },
    now: number,
  ): void {
    cachedStatement(this.#db, 'UPDATE proposals SET state = ?, updated_at = ? WHERE seq = ?').run(state, now, row.seq);
    if (!isValidSlug(row.slug)) return;
    this.#audit.appendWithinTransaction(row.slug, {
      ts: now,
      component: this.kinds.find(row.kind)?.component ?? 'supervise',
      ...entry,
      proposalId: row.id,
      kind: row.kind,
      status: state,
    });
    this.#event(state, row.id, row.slug, row.target, now);
  }

  #event(type: ChangeType, proposalId: string, slug: string, target: Target, ts: number): void {
    appendEvent(this.#db, { type, proposalId, slug, target, ts });
    this.#toRing.add(slug);
  }

  /**
   * After a commit that appended events: rings the doorbells of the bottles they concern, so
   * other processes wake, and pokes this process's notifier. The store's own writes call it; a
   * caller that committed `…WithinTransaction` writes of its own calls it after its commit.
   */
  announceCommitted(): void {
    if (this.#toRing.size === 0) return;
    const slugs = [...this.#toRing];
    this.#toRing.clear();
    this.#doorbells?.ring(slugs);
    this.#notifier?.poke();
  }

  #checkSlug(slug: string): void {
    validateSlug(slug);
    if (this.#keyring?.side === 'bottle') assertOwnSlug(this.#keyring.slug, slug);
  }

  #requireKeyring(): Keyring {
    if (!this.#keyring) throw new Error('this QueueStore has no keyring, so it can read but neither write nor check seals; open the database with openHostDatabase or openSidecarDatabase.');
    return this.#keyring;
  }

  #requireKindRecords(): KindRecords {
    const records = this.#kinds?.records;
    if (this.#keyring === undefined) throw new Error('this QueueStore has no keyring, so it cannot record kinds; open the database with openHostDatabase.');
    if (records === undefined) throw new Error("this store's kinds are not loaded yet: await queue.loadKinds() first.");
    return records;
  }

  #requireHostKeyring(): Keyring {
    const keyring = this.#requireKeyring();
    if (keyring.side !== 'host') throw new SuperviseError('forbidden', 'only the host imports proposals and answers.');
    return keyring;
  }

  /** A row found before, read again; one its writer has since made unreadable is no longer there to answer. */
  #proposalById(id: string): Proposal {
    const row = cachedStatement(this.#db, `SELECT * FROM proposals WHERE id = ? AND NOT ${OVERSIZED_PROPOSAL}`).get(id) as ProposalRow | undefined;
    if (!row) throw new SuperviseError('not-found', `proposal ${JSON.stringify(id)} is gone or no longer readable (a raw write made one of its values too big). Check bot-bottle supervise --once.`);
    return proposalFromRow(row);
  }

  #requireProposal(slug: string, id: string): Proposal {
    const proposal = this.readProposal(slug, id);
    if (!proposal) {
      throw new SuperviseError('not-found', `no proposal ${JSON.stringify(id)} for bottle "${slug}". Check the id (bot-bottle supervise --once lists pending proposals).`);
    }
    return proposal;
  }

  #notPending(proposal: Proposal, state: ProposalState): SuperviseError {
    const why: Record<Exclude<ProposalState, 'pending'>, string> = {
      answered: 'it was already answered',
      archived: 'it was already answered and archived',
      expired: 'it expired unanswered and can no longer be answered',
      cancelled: 'it was cancelled by its proposer',
    };
    return new SuperviseError('conflict', `proposal ${proposal.id} (${proposal.kind}, bottle "${proposal.slug}") is not pending: ${why[state as Exclude<ProposalState, 'pending'>]}.`, { state });
  }
}

/** What answering a proposal row writes, made from the row before the write lock is taken. */
/** What the sweep reads of a row it closes as unanswerable: NULL for a column too big to load. */
interface UnanswerableRow {
  seq: number;
  id: string | null;
  slug: string | null;
  kind: string | null;
  target: string | null;
  oversized: number;
}

type Decision = { forged: true } | { forged: false; response: ResponseRow; audit: AuditEntryInput };

/** Whether a decision made from `read` holds for `current`: every field it was made from is unchanged. */
function sameDecisionInputs(current: Proposal, read: Proposal): boolean {
  return (
    current.id === read.id &&
    current.slug === read.slug &&
    current.kind === read.kind &&
    current.origin === read.origin &&
    current.target === read.target &&
    current.payload === read.payload &&
    current.justification === read.justification &&
    current.currentFile === read.currentFile &&
    current.currentFileHash === read.currentFileHash &&
    current.seal === read.seal
  );
}
