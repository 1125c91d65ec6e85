import { egressAllowKind } from './egress-allow.js';
import { egressBlockKind } from './egress-block.js';
import { egressRoutesApplyKind } from './egress-routes-apply.js';
import { egressTokenAllowKind } from './egress-token-allow.js';
import { gitleaksAllowKind } from './gitleaks-allow.js';
import type { KindDefinition } from './kind.js';

/** The kinds this build carries as code. Their names are theirs: no launcher's record can stand in for one. */
export const BUILTIN_KINDS: readonly KindDefinition[] = [egressAllowKind, egressBlockKind, gitleaksAllowKind, egressTokenAllowKind, egressRoutesApplyKind];

export function isBuiltinKind(name: string): boolean {
  return BUILTIN_KINDS.some((kind) => kind.name === name);
}
