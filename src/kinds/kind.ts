import type { Target } from '../core/target.js';

/**
 * A kind's rules: who answers it and how. Everything listing proposals or auditing a decision's
 * component needs, without the payload's format (parsers that load zod, YAML and diff).
 */
export interface KindRules {
  name: string;
  /** The audit log's component column for decisions on this kind. */
  component: string;
  /** Who answers: the human operator (upward) or the bottle's sidecar (downward). */
  target: Target;
  /** Whether an answer may replace the payload (`modified`). Reports can only be judged, not edited. */
  modifiable: boolean;
  /** Approving lets something through that a detector flagged, so the operator must say why it is safe. */
  reasonRequiredToApprove: boolean;
  /** What a proposal of this kind is, whoever asks: the operator's tools say who asked, from its origin and seal. */
  description: string;
}

/** Everything the plane knows about one kind of proposal: who answers it, how, and what its payload is. */
export interface KindDefinition extends KindRules {
  /** Parses the payload; throws `SuperviseError('invalid-payload')` with a problem (and line, when known) for each fault. */
  parse: (payload: string) => unknown;
  /** The payload as the operator reads it. */
  render: (payload: string) => string;
  /** The unified diff from the current file to the proposed or final one: what the operator reviews and the audit log keeps. */
  diff: (current: string, proposed: string) => string;
  /** A launcher's kind only: the sha256 of its recorded definition, which a decision's audit detail names. */
  definitionSha256?: string;
}
