import { BUILTIN_KIND_RULES } from './builtin-rules.js';
import { egressAllowKind } from './egress-allow.js';
import { egressBlockKind } from './egress-block.js';
import { egressRoutesApplyKind } from './egress-routes-apply.js';
import { egressTokenAllowKind } from './egress-token-allow.js';
import { gitleaksAllowKind } from './gitleaks-allow.js';
import type { KindDefinition } from './kind.js';

const FORMATTED: readonly KindDefinition[] = [egressAllowKind, egressBlockKind, gitleaksAllowKind, egressTokenAllowKind, egressRoutesApplyKind];

/** The kinds this build carries as code, rules and format together, in the order of their rules (builtin-rules.ts). */
export const BUILTIN_KINDS: readonly KindDefinition[] = BUILTIN_KIND_RULES.map((rules) => {
  const kind = FORMATTED.find((candidate) => candidate.name === rules.name);
  if (kind === undefined) throw new Error(`built-in kind ${rules.name} has rules but no format`);
  return kind;
});
