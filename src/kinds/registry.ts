import { isSuperviseError, SuperviseError } from '../core/errors.js';
import { MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { validateActor, validateTextSize } from '../core/validation.js';
import { egressAllowKind } from './egress-allow.js';
import { egressBlockKind } from './egress-block.js';
import { egressRoutesApplyKind } from './egress-routes-apply.js';
import { egressTokenAllowKind } from './egress-token-allow.js';
import { gitleaksAllowKind } from './gitleaks-allow.js';
import type { KindDefinition } from './kind.js';
import { RESPONSE_STATUSES, type CheckedResponse, type NewResponse } from './response.js';

const KIND_NAME = /^[a-z][a-z0-9-]{1,47}$/;

const BUILTIN_KINDS: readonly KindDefinition[] = [egressAllowKind, egressBlockKind, gitleaksAllowKind, egressTokenAllowKind, egressRoutesApplyKind];

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

  /** The kind named `name`, or undefined when this registry does not know it (e.g. a kind another launcher registered). */
  find(name: string): KindDefinition | undefined {
    return this.#kinds.get(name);
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

  /** Validates `payload` for `kind`, turning the parser's findings into one actionable error. */
  validate(kindName: string, payload: string, what = 'payload'): void {
    const kind = this.get(kindName);
    try {
      kind.parse(payload);
    } catch (error) {
      if (isSuperviseError(error)) {
        throw new SuperviseError('invalid-payload', `${what} is not a valid ${kind.name} payload: ${error.message}`, { problems: error.problems });
      }
      throw error;
    }
  }

  /**
   * Checks an answer to a proposal of `proposal.kind` against that kind's rules, writing nothing,
   * and returns it as it would be stored. Every rule about what an answer may say is here, so the
   * queue, the CLI and the TUI refuse the same answers with the same words.
   */
  checkResponse(proposal: { kind: string }, response: NewResponse): CheckedResponse {
    const kind = this.get(proposal.kind);
    if (!RESPONSE_STATUSES.includes(response.status)) {
      throw new SuperviseError('invalid-input', `response status ${JSON.stringify(response.status)} is not valid: use approved, modified or rejected.`);
    }
    const responder = validateActor(response.responder, 'responder');
    const notes = validateTextSize(response.notes ?? '', MAX_NOTES_BYTES, 'notes');
    let finalPayload: string | null = null;
    if (response.status === 'modified') {
      if (!kind.modifiable) {
        throw new SuperviseError('modify-not-allowed', `${kind.name} proposals cannot be modified, only approved (with a reason) or rejected.`);
      }
      if (typeof response.finalPayload !== 'string') {
        throw new SuperviseError('invalid-input', 'a modified response needs the final file (finalPayload).');
      }
      validateTextSize(response.finalPayload, MAX_PAYLOAD_BYTES, 'final file');
      this.validate(kind.name, response.finalPayload, 'the modified file');
      finalPayload = response.finalPayload;
    } else if (response.finalPayload !== undefined) {
      throw new SuperviseError('invalid-input', `a final file only goes with status "modified", not "${response.status}".`);
    }
    if (response.status !== 'rejected' && kind.reasonRequiredToApprove && notes.trim() === '') {
      throw new SuperviseError('reason-required', `approving a ${kind.name} proposal needs a reason: say why this is safe to allow.`);
    }
    return { status: response.status, responder, notes, finalPayload };
  }
}
