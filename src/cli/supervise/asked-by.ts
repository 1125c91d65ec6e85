import { safeLine } from '../../core/safe-text.js';
import type { SealVerdict } from '../../keys/keyring.js';
import type { Proposal } from '../../queue/proposal.js';
import { claimsHostAuthority } from '../../queue/bottle-side.js';

/** The bottle's own components, as the operator reads them. */
const COMPONENTS: Readonly<Record<string, string>> = {
  agent: 'the agent',
  'git-gate': 'git-gate',
  egress: 'the egress proxy',
  sidecar: 'the sidecar',
};

/** Who asked, in words, and a warning when the row claims more than its seal allows. */
export interface AskedBy {
  who: string;
  warning?: string;
}

/**
 * Who asked, from the origin as far as the seal vouches for it: the origin is a bottle's word
 * (its MAC covers what it says, not that it is true), so only a host-signed proposal is the
 * launcher's, and a bottle naming itself the host is told as what it is.
 */
export function askedBy(proposal: Pick<Proposal, 'slug' | 'origin'>, seal: SealVerdict | undefined): AskedBy {
  const slug = safeLine(proposal.slug);
  const origin = safeLine(proposal.origin);
  const fromHost = claimsHostAuthority(proposal.origin);
  if (seal === 'forged') return { who: `nobody it can be traced to: its seal does not verify (it names "${origin}" in bottle ${slug})` };
  if (seal === 'host' || (seal === undefined && fromHost)) {
    return { who: fromHost ? `the launcher on this host, for bottle ${slug}` : `this host, as "${origin}", for bottle ${slug}` };
  }
  const component = COMPONENTS[proposal.origin] ?? `"${origin}"`;
  if (fromHost) {
    return { who: `bottle ${slug}`, warning: `⚠ It names itself "${origin}", but it is sealed by the bottle, not signed by the host: it came from inside the bottle.` };
  }
  return { who: `${component} in bottle ${slug}` };
}
