import type { AuditStore } from '../audit/audit-store.js';
import type { AuthRefusal } from './request-auth.js';

/** At most one audit entry per bottle in this window; refusals in between are counted into the next. */
const AUDIT_WINDOW_MS = 60_000;

export const BROKER_COMPONENT = 'broker';
export const AUTH_REFUSED_ACTION = 'broker-auth-refused';

/**
 * Records refused requests: every one in the log (rate-limited the same way), and in the audit log
 * under the bottle it claimed to be, when that bottle exists. A bottle probing keys as fast as it
 * can must not grow the append-only log without bound, so each bottle gets at most one entry a
 * minute, which says how many refusals it stands for.
 */
export class RefusalLog {
  readonly #audit: AuditStore;
  readonly #log: (line: string) => void;
  readonly #now: () => number;
  readonly #windows = new Map<string, { since: number; suppressed: number }>();

  constructor(audit: AuditStore, log: (line: string) => void, now: () => number = Date.now) {
    this.#audit = audit;
    this.#log = log;
    this.#now = now;
  }

  async record(refusal: AuthRefusal, remote: string, bottleExists: boolean): Promise<void> {
    const key = refusal.slug ?? '';
    const now = this.#now();
    const window = this.#windows.get(key);
    if (window !== undefined && now - window.since < AUDIT_WINDOW_MS) {
      window.suppressed++;
      return;
    }
    if (this.#windows.size > 10_000) this.#windows.clear();
    this.#windows.set(key, { since: now, suppressed: 0 });
    const more = window !== undefined && window.suppressed > 0 ? ` (and ${window.suppressed} more refused since the last entry)` : '';
    const what = `refused a request from ${remote}${refusal.slug === undefined ? '' : ` claiming bottle ${refusal.slug}`}: ${refusal.reason}${more}`;
    this.#log(what);
    if (refusal.slug === undefined || !bottleExists) return;
    await this.#audit.writeAuditEntry(refusal.slug, { component: BROKER_COMPONENT, action: AUTH_REFUSED_ACTION, actor: BROKER_COMPONENT, status: 'refused', notes: what });
  }
}
