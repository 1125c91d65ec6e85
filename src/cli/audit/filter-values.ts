import type { AuditLabelField, AuditStore } from '../../audit/audit-store.js';
import type { RoutesApplyRecord } from '../../bottles/bottle-store.js';
import { VERB_EXIT } from '../../core/exit-codes.js';
import { safeLine } from '../../core/safe-text.js';
import type { KindRegistry } from '../../kinds/registry.js';
import { RESPONSE_STATUSES } from '../../kinds/response.js';
import { UserError } from '../common.js';

/** What this build's plane and sidecars write, beside the decisions' own statuses and the kinds' components. */
const ROUTES_APPLY_STATUSES = ['merged', 'stale', 'failed'] as const satisfies ReadonlyArray<RoutesApplyRecord['status']>;
const ROUTES_APPLY_ACTIONS = ['routes-merged', 'routes-stale', 'routes-apply-failed'] as const satisfies ReadonlyArray<RoutesApplyRecord['action']>;
const PLANE_STATUSES = ['expired', 'cancelled', 'forged'];
const PLANE_ACTIONS = ['proposal-decision', 'proposal-cancelled', 'expired', 'forged-row', 'legacy-entry'];
/** Entries about a proposal whose kind this build does not know are recorded under it. */
const PLANE_COMPONENTS = ['supervise'];

/** The audit filter flags whose values come from a small vocabulary, by the entry field each one matches. */
export const LABEL_FLAGS = { status: '--status', action: '--action', component: '--component', kind: '--kind' } as const satisfies Record<AuditLabelField, string>;

function writtenByThisBuild(field: AuditLabelField, kinds: KindRegistry): string[] {
  switch (field) {
    case 'status':
      return [...RESPONSE_STATUSES, ...PLANE_STATUSES, ...ROUTES_APPLY_STATUSES];
    case 'action':
      return [...PLANE_ACTIONS, ...ROUTES_APPLY_ACTIONS];
    case 'component':
      return [...kinds.names().map((name) => kinds.get(name).component), ...PLANE_COMPONENTS];
    case 'kind':
      return kinds.names();
  }
}

/**
 * A filter value that no entry has and this build never writes is a typo, not an empty result:
 * refused as a usage error that lists the values there are. A value the log holds (an imported or
 * a launcher's own) is always accepted, and so is one this build writes that the log has not yet.
 */
export function checkLabelFilters(filter: Partial<Record<AuditLabelField, string>>, store: AuditStore, kinds: KindRegistry): void {
  for (const field of Object.keys(LABEL_FLAGS) as AuditLabelField[]) {
    const value = filter[field];
    if (value === undefined) continue;
    const written = writtenByThisBuild(field, kinds);
    if (written.includes(value)) continue;
    const inLog = store.valuesOf(field);
    if (inLog.includes(value)) continue;
    const known = [...new Set([...written, ...inLog])].sort().map(safeLine);
    throw new UserError(`${LABEL_FLAGS[field]} ${JSON.stringify(value)} matches no audit entry, and bot-bottle never writes it. Use one of: ${known.join(', ')}.`, VERB_EXIT.usage);
  }
}
