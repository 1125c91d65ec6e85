import { SuperviseError } from '../core/errors.js';
import { PayloadError, parseGitleaksReport, parseRoutesYaml, parseTokenAllowReport } from './payloads.js';

import type { Target } from '../core/target.js';

export const KIND_EGRESS_BLOCK = 'egress-block';
export const KIND_EGRESS_ALLOW = 'egress-allow';
export const KIND_GITLEAKS_ALLOW = 'gitleaks-allow';
export const KIND_EGRESS_TOKEN_ALLOW = 'egress-token-allow';
/** Downward (§4.2): the launcher asks a bottle's sidecar to apply a routes file. */
export const KIND_EGRESS_ROUTES_APPLY = 'egress-routes-apply';

export interface KindDefinition {
  name: string;
  /** The audit log's component column for decisions on this kind. */
  component: string;
  /** Who answers: the human operator (upward) or the bottle's sidecar (downward). */
  target: Target;
  /** Whether an answer may replace the payload (`modified`). Reports can only be judged, not edited. */
  modifiable: boolean;
  reasonRequiredToApprove: boolean;
  /** Throws `PayloadError` when the payload does not fit the kind. */
  validatePayload: (payload: string) => void;
  description: string;
}

const KIND_NAME = /^[a-z][a-z0-9-]{1,47}$/;

const BUILTIN_KINDS: KindDefinition[] = [
  {
    name: KIND_EGRESS_ALLOW,
    component: 'egress',
    target: 'operator',
    modifiable: true,
    reasonRequiredToApprove: false,
    validatePayload: (payload) => void parseRoutesYaml(payload),
    description: 'the agent asks for egress routes to be allowed (a full routes file)',
  },
  {
    name: KIND_EGRESS_BLOCK,
    component: 'egress',
    target: 'operator',
    modifiable: true,
    reasonRequiredToApprove: false,
    validatePayload: (payload) => void parseRoutesYaml(payload),
    description: 'the agent was blocked by egress and proposes a changed routes file',
  },
  {
    name: KIND_GITLEAKS_ALLOW,
    component: 'git-gate',
    target: 'operator',
    modifiable: false,
    reasonRequiredToApprove: true,
    validatePayload: (payload) => void parseGitleaksReport(payload),
    description: 'git-gate found gitleaks:allow-suppressed secrets in a push',
  },
  {
    name: KIND_EGRESS_TOKEN_ALLOW,
    component: 'egress',
    target: 'operator',
    modifiable: false,
    reasonRequiredToApprove: true,
    validatePayload: (payload) => void parseTokenAllowReport(payload),
    description: 'the egress DLP caught a token in an outbound request',
  },
  {
    name: KIND_EGRESS_ROUTES_APPLY,
    component: 'egress',
    target: 'sidecar',
    modifiable: false,
    reasonRequiredToApprove: false,
    validatePayload: (payload) => void parseRoutesYaml(payload),
    description: 'the launcher asks the sidecar to apply a routes file to the live egress proxy',
  },
];

/** Which kinds exist and their rules. One per store, so a launcher's additions stay its own. */
export class KindRegistry {
  readonly #kinds = new Map<string, KindDefinition>();

  static withBuiltins(): KindRegistry {
    const registry = new KindRegistry();
    for (const kind of BUILTIN_KINDS) registry.register(kind);
    return registry;
  }

  register(kind: KindDefinition): this {
    if (!KIND_NAME.test(kind.name)) {
      throw new SuperviseError('invalid-input', `kind name ${JSON.stringify(kind.name)} is not valid: use 2–48 lowercase letters, digits and '-', starting with a letter.`);
    }
    if (this.#kinds.has(kind.name)) {
      throw new SuperviseError('invalid-input', `kind "${kind.name}" is already registered; pick another name.`);
    }
    this.#kinds.set(kind.name, Object.freeze({ ...kind }));
    return this;
  }

  get(name: string): KindDefinition {
    const kind = this.#kinds.get(name);
    if (!kind) {
      throw new SuperviseError('unknown-kind', `unknown proposal kind ${JSON.stringify(name)}. Known kinds: ${this.names().join(', ')}.`);
    }
    return kind;
  }

  names(): string[] {
    return [...this.#kinds.keys()];
  }

  /** Validates `payload` for `kind`, turning the validator's findings into one actionable error. */
  validate(kindName: string, payload: string, what = 'payload'): void {
    const kind = this.get(kindName);
    try {
      kind.validatePayload(payload);
    } catch (error) {
      if (error instanceof PayloadError || error instanceof SuperviseError) {
        throw new SuperviseError('invalid-payload', `${what} is not a valid ${kind.name} payload: ${error.message}`);
      }
      throw error;
    }
  }
}
