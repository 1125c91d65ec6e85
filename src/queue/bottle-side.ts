import { SuperviseError } from '../core/errors.js';
import type { Target } from '../core/target.js';

/**
 * What a store opened bottle-side refuses. Code in a bottle may be compromised, so its store
 * speaks only for its own slug, never as the host or the operator, never answers the operator's
 * proposals and never sends its own sidecar downward orders; the host's seals make the same
 * limits hold against raw SQL.
 */

/** `host`, `operator`, `operator:alice`, `Host@x`…: names only the host side may use. */
export function claimsHostAuthority(actor: string): boolean {
  return /^(host|operator)(?![a-z0-9])/i.test(actor);
}

export function assertOwnSlug(own: string, slug: string | undefined): void {
  if (slug !== own) {
    throw new SuperviseError('forbidden', `this store belongs to bottle "${own}" and cannot touch ${slug === undefined ? 'every bottle' : `bottle "${slug}"`}'s proposals.`);
  }
}

export function assertBottleActor(actor: string, role: 'origin' | 'responder' | 'actor'): void {
  if (claimsHostAuthority(actor)) {
    throw new SuperviseError('forbidden', `${role} ${JSON.stringify(actor)} names the host or an operator, which a bottle cannot speak as; use the bottle's own component (agent, git-gate, egress, sidecar).`);
  }
}

export function assertBottleMayPropose(target: Target): void {
  if (target !== 'operator') {
    throw new SuperviseError('forbidden', 'a bottle cannot propose to its own sidecar: downward proposals come from the host (the launcher), signed with its key.');
  }
}

export function assertBottleMayAnswer(target: Target, id: string): void {
  if (target !== 'sidecar') {
    throw new SuperviseError('forbidden', `proposal ${id} is addressed to the operator, and only the operator answers it (bot-bottle supervise on the host); a bottle can only wait for the answer.`);
  }
}
