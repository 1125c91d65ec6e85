import { isSuperviseError, SuperviseError } from '../core/errors.js';
import { MAX_NOTES_BYTES, MAX_PAYLOAD_BYTES } from '../core/limits.js';
import { validateActor, validateTextSize } from '../core/validation.js';
import { BUILTIN_KINDS } from './builtin-kinds.js';
import { renderDiff } from './diff.js';
import { KIND_NAME, kindFromDefinition, readDeclaration, type KindDeclaration } from './declared-kind.js';
import type { KindDefinition } from './kind.js';
import type { KindToRecord, RecordedKinds } from './kind-records.js';
import { RESPONSE_STATUSES, type CheckedResponse, type NewResponse } from './response.js';

/**
 * Which kinds exist and their rules. One per store, so a launcher's additions stay its own until
 * its host store records them; a registry backed by the database's records also knows every kind
 * a launcher recorded there, which is how the operator's tools answer them.
 */
export class KindRegistry {
  readonly #kinds = new Map<string, KindDefinition>();
  /** The launcher's own kinds, as the text their record carries. */
  readonly #declared = new Map<string, string>();
  readonly #records: RecordedKinds | undefined;

  constructor(records?: RecordedKinds) {
    this.#records = records;
  }

  static withBuiltins(): KindRegistry {
    const registry = new KindRegistry();
    for (const kind of BUILTIN_KINDS) registry.#kinds.set(kind.name, kind);
    return registry;
  }

  /**
   * Adds a launcher's kind. It is data, not code, so a host store can record it (sealed) and the
   * operator's CLI and TUI, which never ran this launcher, enforce the same rules.
   */
  register(declaration: KindDeclaration): this {
    if (typeof declaration.name !== 'string' || !KIND_NAME.test(declaration.name)) {
      throw new SuperviseError('invalid-input', `kind name ${JSON.stringify(declaration.name)} is not valid: use 2–48 lowercase letters, digits and '-', starting with a letter.`);
    }
    if (this.#kinds.has(declaration.name)) {
      throw new SuperviseError('invalid-input', `kind "${declaration.name}" is already registered; pick another name.`);
    }
    const { definition, text } = readDeclaration(declaration);
    let kind: KindDefinition;
    try {
      kind = kindFromDefinition(definition, text);
    } catch (error) {
      throw new SuperviseError('invalid-input', `kind "${declaration.name}" cannot be registered: its schema is not valid JSON Schema 2020-12 (${(error as Error).message}).`);
    }
    this.#kinds.set(kind.name, Object.freeze(kind));
    this.#declared.set(kind.name, text);
    return this;
  }

  /** The same kinds, also finding those recorded in a database (through `records`). */
  backedBy(records: RecordedKinds): KindRegistry {
    const registry = new KindRegistry(records);
    for (const [name, kind] of this.#kinds) registry.#kinds.set(name, kind);
    for (const [name, text] of this.#declared) registry.#declared.set(name, text);
    return registry;
  }

  /** The launcher kinds registered here, as a host store records them. */
  declared(): KindToRecord[] {
    return [...this.#declared].map(([name, definition]) => ({ name, definition }));
  }

  /** The record to write for `name` when it is a kind registered here by a launcher. */
  declaredKind(name: string): KindToRecord | undefined {
    const definition = this.#declared.get(name);
    return definition === undefined ? undefined : { name, definition };
  }

  /**
   * The kind named `name`, or undefined when this registry does not know it, nor trusts a record
   * of it. Built-in names are never looked up in the records: no record can stand in for one.
   */
  find(name: string): KindDefinition | undefined {
    const found = this.#find(name);
    return found !== undefined && 'kind' in found ? found.kind : undefined;
  }

  /** Throws `unknown-kind`, or `forged` naming why the record of `name` is not trusted. */
  get(name: string): KindDefinition {
    const found = this.#find(name);
    if (found === undefined) {
      throw new SuperviseError('unknown-kind', `unknown proposal kind ${JSON.stringify(name)}. Known kinds: ${this.names().join(', ')}.`);
    }
    if ('refused' in found) throw found.refused;
    return found.kind;
  }

  /** Why `get(name)` throws (unknown, or its record not trusted), or undefined when it does not. */
  problem(name: string): SuperviseError | undefined {
    try {
      this.get(name);
      return undefined;
    } catch (error) {
      if (isSuperviseError(error)) return error;
      throw error;
    }
  }

  /**
   * The rules an answer with `status` follows. Rejecting lets nothing through, so a proposal whose
   * kind is unknown here or whose record is not trusted can still be rejected (and the queue
   * cleared), under a stand-in that allows nothing else; approving or modifying needs the kind.
   */
  answering(name: string, status: string): KindDefinition {
    if (status !== 'rejected' || this.problem(name) === undefined) return this.get(name);
    return {
      name,
      component: 'supervise',
      target: 'operator',
      modifiable: false,
      reasonRequiredToApprove: true,
      // Never called for a rejection; anyone else calling it is refused as `get` refuses.
      parse: () => this.get(name),
      render: (payload) => payload,
      diff: (current, proposed) => renderDiff(current, proposed, name),
      description: 'a kind this process does not know or trust; it can only be rejected',
    };
  }

  #find(name: string): { kind: KindDefinition } | { refused: SuperviseError } | undefined {
    const kind = this.#kinds.get(name);
    if (kind !== undefined) return { kind };
    return this.#records?.lookup(name);
  }

  /** The kinds this registry holds itself (built-in and registered); recorded ones are found by name. */
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
    const kind = this.answering(proposal.kind, response.status);
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
