/**
 * The built-in kinds' names and rules, apart from their payload formats (builtin-kinds.ts): what
 * listing proposals needs costs no parser, so `supervise --once` and the sidecar's start-up load
 * none.
 */
import type { KindRules } from './kind.js';

export const KIND_EGRESS_ALLOW = 'egress-allow';
export const KIND_EGRESS_BLOCK = 'egress-block';
/** Downward: the launcher asks a bottle's sidecar to apply a routes file, and the sidecar applies it or says why not. */
export const KIND_EGRESS_ROUTES_APPLY = 'egress-routes-apply';
export const KIND_EGRESS_TOKEN_ALLOW = 'egress-token-allow';
export const KIND_GITLEAKS_ALLOW = 'gitleaks-allow';

/** The three kinds whose payload is a whole egress routes file differ only in name, who answers and whether it can be edited. */
const routesFileRules = (name: string, target: KindRules['target'], modifiable: boolean, description: string): KindRules => ({
  name,
  component: 'egress',
  target,
  modifiable,
  reasonRequiredToApprove: false,
  description,
});

/** In the order the registry lists them. Their names are theirs: no launcher's record can stand in for one. */
export const BUILTIN_KIND_RULES: readonly KindRules[] = Object.freeze(
  ([
  routesFileRules(KIND_EGRESS_ALLOW, 'operator', true, 'egress routes to allow, as a whole routes file'),
  routesFileRules(KIND_EGRESS_BLOCK, 'operator', true, 'a changed routes file, after egress blocked a request'),
  {
    name: KIND_GITLEAKS_ALLOW,
    component: 'git-gate',
    target: 'operator',
    modifiable: false,
    reasonRequiredToApprove: true,
    description: 'secrets gitleaks:allow suppressed in a push',
  },
  {
    name: KIND_EGRESS_TOKEN_ALLOW,
    component: 'egress',
    target: 'operator',
    modifiable: false,
    reasonRequiredToApprove: true,
    description: 'a token the egress DLP caught in an outbound request',
  },
  routesFileRules(KIND_EGRESS_ROUTES_APPLY, 'sidecar', false, 'a routes file for the sidecar to apply to the live egress proxy'),
  ] satisfies KindRules[]).map((rules): KindRules => Object.freeze(rules)),
);

export function builtinKindRules(name: string): KindRules | undefined {
  return BUILTIN_KIND_RULES.find((rules) => rules.name === name);
}

export function isBuiltinKind(name: string): boolean {
  return builtinKindRules(name) !== undefined;
}

/** The rules of built-in kind `name`, which this build defines: a name it does not is a bug. */
export function rulesOf(name: string): KindRules {
  const rules = builtinKindRules(name);
  if (rules === undefined) throw new Error(`no built-in kind is named ${JSON.stringify(name)}`);
  return rules;
}
