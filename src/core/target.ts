/** Who answers a proposal: the human operator (upward) or the bottle's sidecar (downward). */
export type Target = 'operator' | 'sidecar';
