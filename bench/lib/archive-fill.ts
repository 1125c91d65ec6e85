import { openConnection } from '../../src/storage/connection.js';
import { JUSTIFICATION, currentRoutesYaml, routesYaml, slugFor } from './fixtures.js';

const FILL_BATCH = 50_000;

/**
 * Archived rows (with their responses) and pending rows spread evenly through them, so every
 * pending row sits on its own page far from the others: the partial index has to do all the work.
 * Raw inserts, because a million stored decisions through the store would take hours of fsyncs.
 */
export function fillArchived(file: string, archived: number, pending: number): void {
  const db = openConnection(file, { fileMustExist: true });
  try {
    db.pragma('synchronous = OFF');
    const insertProposal = db.prepare(
      `INSERT INTO proposals (id, slug, kind, origin, target, payload, justification, current_file, current_file_hash, state, created_at, expires_at, updated_at)
       VALUES (?, ?, 'egress-allow', 'agent', 'operator', ?, ?, ?, NULL, ?, ?, ?, ?)`,
    );
    const insertResponse = db.prepare(`INSERT INTO responses (proposal_id, status, notes, final_payload, responder, created_at) VALUES (?, 'approved', 'ok', NULL, 'operator', ?)`);
    const total = archived + pending;
    const every = Math.floor(total / pending);
    const current = currentRoutesYaml();
    const start = Date.now() - total * 50;
    const id = (i: number): string => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
    let made = 0;
    while (made < total) {
      const end = Math.min(total, made + FILL_BATCH);
      db.transaction(() => {
        for (let i = made; i < end; i++) {
          const isPending = i % every === every - 1 && Math.floor(i / every) < pending;
          const created = start + i * 50;
          insertProposal.run(id(i), slugFor(i), routesYaml(i), JUSTIFICATION, current, isPending ? 'pending' : 'archived', created, isPending ? null : created + 86_400_000, created);
          if (!isPending) insertResponse.run(id(i), created + 1_000);
        }
      })();
      made = end;
      process.stdout.write(`\r  filled ${made.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} proposals`);
    }
    process.stdout.write('\n');
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}
