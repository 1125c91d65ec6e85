import { sha256 } from '../core/hash.js';
import type { Target } from '../core/target.js';
import type { Db } from '../storage/connection.js';
import { cachedStatement } from '../storage/statements.js';
import { fairOrder } from './fair-order.js';
import { OVERSIZED_PROPOSAL } from './unreadable-rows.js';
import type { ProposalRow, ProposalSummary } from './proposal.js';

type SummaryRow = Pick<ProposalRow, 'id' | 'seq' | 'slug' | 'kind' | 'origin' | 'target' | 'justification' | 'current_file_hash' | 'created_at' | 'expires_at' | 'seal' | 'payload'>;

/**
 * The pending proposals to `target` as a list needs them, in fair order (fair-order.ts). The
 * current file is not read at all, and each payload only to hash it here: the seal covers the
 * payload through that hash, so the list's seal checks are as strict as the detail view's. No
 * stored hash is used for this: every column of the row is the writer's to choose.
 */
export function readPendingSummaries(db: Db, target: Target, now: number): ProposalSummary[] {
  // The partial index (target, seq) WHERE state = 'pending' gives the rows oldest first: no sort,
  // and no archived row is touched however many there are.
  const rows = cachedStatement(
    db,
    `SELECT id, seq, slug, kind, origin, target, justification, current_file_hash, created_at, expires_at, seal, payload
     FROM proposals WHERE state = 'pending' AND target = +? AND (expires_at IS NULL OR expires_at > +?) AND NOT ${OVERSIZED_PROPOSAL} ORDER BY seq`,
  ).all(target, now) as SummaryRow[];
  return fairOrder(rows).map((row) => ({
    id: row.id,
    seq: row.seq,
    slug: row.slug,
    kind: row.kind,
    origin: row.origin,
    target: row.target,
    justification: row.justification,
    currentFileHash: row.current_file_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    seal: row.seal,
    payloadSha256: sha256(row.payload),
  }));
}
