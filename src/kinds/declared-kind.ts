/**
 * A launcher's own kind, declared as data rather than code, so that it can be recorded in the
 * database and enforced by processes that never ran the launcher: the operator's CLI and TUI.
 */
import { z } from 'zod';
import { SuperviseError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { MAX_KIND_DEFINITION_BYTES } from '../core/limits.js';
import type { Target } from '../core/target.js';
import { isAuditLabel } from '../core/validation.js';
import { renderDiff } from './diff.js';
import { indentedJson, jsonLocator, parseJsonPayload } from './json-payload.js';
import type { KindDefinition } from './kind.js';
import { compileSchema, schemaFault, type JsonSchema } from './kind-schema.js';
import { invalidPayload } from './payload-problems.js';
import { readYamlPayload } from './yaml-payload.js';

/** How a payload's text becomes the value its schema checks: parsed as JSON or YAML, or the text itself. */
export type KindFormat = 'json' | 'yaml' | 'text';
export const KIND_FORMATS: readonly KindFormat[] = ['json', 'yaml', 'text'];

export const KIND_NAME = /^[a-z][a-z0-9-]{1,47}$/;
const MAX_DESCRIPTION_CHARS = 500;

/** What a launcher registers: every rule as data, the payload's shape as a zod schema or a JSON Schema. */
export interface KindDeclaration {
  /** 2–48 lowercase letters, digits and '-', starting with a letter; never a built-in's name. */
  name: string;
  /** The audit log's component for decisions on this kind: lowercase letters, digits and '-'. */
  component: string;
  target: Target;
  modifiable: boolean;
  reasonRequiredToApprove: boolean;
  format: KindFormat;
  /**
   * The parsed payload's shape (the text itself for `text`). A zod schema is converted with
   * `z.toJSONSchema`; it must be representable there (no transforms, refinements or recursion).
   */
  schema: z.ZodType | JsonSchema;
  description: string;
}

/** A declaration as recorded: the schema as JSON Schema. Its canonical JSON is what the host seals. */
export type KindRecordDefinition = Omit<KindDeclaration, 'schema'> & { schema: JsonSchema };

const recordShape = z.strictObject({
  name: z.string().regex(KIND_NAME, 'name must be 2–48 lowercase letters, digits and "-", starting with a letter'),
  component: z.string().refine(isAuditLabel, 'component must be 1–48 lowercase letters, digits and "-", starting with a letter (e.g. "deploy")'),
  target: z.enum(['operator', 'sidecar'], 'target must be "operator" or "sidecar"'),
  modifiable: z.boolean('modifiable must be true or false'),
  reasonRequiredToApprove: z.boolean('reasonRequiredToApprove must be true or false'),
  format: z.enum(KIND_FORMATS, `format must be one of: ${KIND_FORMATS.join(', ')}`),
  schema: z.unknown(),
  description: z.string('description must be a string').max(MAX_DESCRIPTION_CHARS, `description must be at most ${MAX_DESCRIPTION_CHARS} characters`),
});

/** Checks a definition's fields, schema and size; returns the first fault in words, or undefined. */
function definitionFault(value: unknown, text: string): string | undefined {
  const shape = recordShape.safeParse(value);
  if (!shape.success) {
    const issue = shape.error.issues[0];
    return issue?.code === 'unrecognized_keys' ? `unknown field "${issue.keys[0] ?? ''}"` : (issue?.message ?? 'not a kind definition');
  }
  const size = Buffer.byteLength(text, 'utf8');
  if (size > MAX_KIND_DEFINITION_BYTES) return `the definition is ${size} bytes as JSON, over the limit of ${MAX_KIND_DEFINITION_BYTES}; make the schema smaller`;
  return schemaFault(shape.data.schema);
}

/** Key order never changes what a schema means; sorted, the same declaration always makes the same text and seal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

function toJsonSchema(schema: z.ZodType, name: string): JsonSchema {
  try {
    return z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      unrepresentable: 'throw',
      cycles: 'throw',
      reused: 'inline',
      override: (ctx) => {
        // JSON Schema has no word for a refinement; converted silently, the operator's tools would accept what the launcher's refused.
        if (ctx.zodSchema._zod.def.checks?.some((check) => check._zod.def.check === 'custom')) {
          throw new Error('a refinement (.refine, .superRefine, .check) cannot be expressed in JSON Schema');
        }
      },
    }) as JsonSchema;
  } catch (error) {
    throw new SuperviseError('invalid-input', `kind "${name}": its zod schema cannot be recorded: ${(error as Error).message.split('\n')[0] ?? ''}. Use only what JSON Schema can say (no transforms, refinements or recursive schemas).`);
  }
}

/** A declaration, checked, with the text that is recorded and sealed. Throws `invalid-input` naming the fault. */
export function readDeclaration(declaration: KindDeclaration): { definition: KindRecordDefinition; text: string } {
  const name = typeof declaration.name === 'string' ? declaration.name : String(declaration.name);
  const schema = declaration.schema instanceof z.ZodType ? toJsonSchema(declaration.schema, name) : declaration.schema;
  const definition: Record<keyof KindRecordDefinition, unknown> = {
    name: declaration.name,
    component: declaration.component,
    target: declaration.target,
    modifiable: declaration.modifiable,
    reasonRequiredToApprove: declaration.reasonRequiredToApprove,
    format: declaration.format,
    schema,
    description: declaration.description,
  };
  let text: string;
  try {
    text = canonicalJson(definition);
  } catch {
    throw new SuperviseError('invalid-input', `kind "${name}": its schema is not plain JSON (a cycle, a BigInt or a function); give a JSON Schema object or a zod schema.`);
  }
  const read = readDefinitionText(text);
  if ('fault' in read) throw new SuperviseError('invalid-input', `kind "${name}" cannot be registered: ${read.fault}.`);
  return { definition: read.definition, text };
}

/** Reads a recorded definition back. Returns the fault in words instead of throwing: a record is refused, not a bug. */
export function readDefinitionText(text: string): { definition: KindRecordDefinition } | { fault: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { fault: 'its definition is not valid JSON' };
  }
  const fault = definitionFault(value, text);
  return fault === undefined ? { definition: value as KindRecordDefinition } : { fault };
}

/**
 * The kind a definition describes, checked by its JSON Schema in every process alike. Throws
 * Ajv's error for a schema that is not valid JSON Schema.
 */
export function kindFromDefinition(definition: KindRecordDefinition, text: string): KindDefinition {
  const check = compileSchema(definition.schema);
  const subject = `${definition.name} payload (${definition.format})`;
  const remedy = `Send a ${definition.format === 'text' ? 'text' : definition.format.toUpperCase()} payload that matches the ${definition.name} kind's schema.`;
  const parse = (payload: string): unknown => {
    const { value, at } =
      definition.format === 'json'
        ? ((json) => ({ value: json, at: jsonLocator(json) }))(parseJsonPayload(payload, subject, remedy))
        : definition.format === 'yaml'
          ? readYamlPayload(payload, subject, remedy)
          : { value: payload, at: { has: () => true, line: () => undefined } };
    const problems = check(value, at);
    if (problems.length > 0) throw invalidPayload(subject, problems, remedy);
    return value;
  };
  return {
    name: definition.name,
    component: definition.component,
    target: definition.target,
    modifiable: definition.modifiable,
    reasonRequiredToApprove: definition.reasonRequiredToApprove,
    parse,
    render: definition.format === 'json' ? indentedJson : (payload) => payload,
    diff: (current, proposed) => renderDiff(current, proposed, definition.name),
    description: definition.description,
    definitionSha256: sha256(text),
  };
}

