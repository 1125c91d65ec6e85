/**
 * The JSON Schema of a launcher's kind: bounded before anything compiles it, compiled with Ajv
 * (draft 2020-12, strict, with the standard formats), and its findings turned into the same
 * problems every other payload reports.
 */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import type { PayloadProblem } from '../core/errors.js';
import { MAX_KIND_SCHEMA_DEPTH } from '../core/limits.js';
import { formatPath, problem, type Locator, type Path } from './payload-problems.js';

/** A JSON Schema (2020-12): an object of keywords, or `true`/`false`. */
export type JsonSchema = boolean | { [keyword: string]: unknown };

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';
/**
 * References are refused outright: a schema that refers to itself (`{"$ref": "#"}`) recurses
 * without end while validating, and one that names another document would fetch it. A recorded
 * kind's schema stands alone, so zod schemas are converted with cycles refused.
 */
const REFERENCE_KEYWORDS = new Set(['$ref', '$dynamicRef', '$recursiveRef', '$id', '$anchor', '$dynamicAnchor', '$recursiveAnchor']);
/** An operator reads these; a payload with more faults than this is named by its first ones. */
const MAX_PROBLEMS = 50;

/** What is wrong with `schema` as a recorded kind's schema, or undefined when nothing is. Walks without recursion, so no depth overflows it. */
export function schemaFault(schema: unknown): string | undefined {
  if (typeof schema === 'boolean') return undefined;
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return 'the schema must be a JSON Schema object (or true/false)';
  const dollarSchema = (schema as Record<string, unknown>).$schema;
  if (dollarSchema !== undefined && dollarSchema !== DRAFT_2020_12) {
    return `the schema's $schema must be ${DRAFT_2020_12} (JSON Schema 2020-12), not ${JSON.stringify(dollarSchema)}`;
  }
  const stack: Array<{ value: unknown; depth: number }> = [{ value: schema, depth: 1 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_KIND_SCHEMA_DEPTH) return `the schema nests deeper than ${MAX_KIND_SCHEMA_DEPTH} levels; flatten it`;
    for (const [key, child] of Object.entries(value)) {
      if (!Array.isArray(value) && REFERENCE_KEYWORDS.has(key)) return `the schema uses "${key}"; a recorded kind's schema must stand alone, without references (write each part out, no recursion)`;
      stack.push({ value: child, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Checks a payload's value against the schema; returns its problems, none when it is valid. */
export type SchemaCheck = (value: unknown, at: Locator) => PayloadProblem[];

/** Compiles a schema `schemaFault` passed; throws Ajv's own error for a schema that is not valid JSON Schema. */
export function compileSchema(schema: JsonSchema): SchemaCheck {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  formats.default(ajv);
  const validate = ajv.compile(schema);
  return (value, at) => {
    if (validate(value)) return [];
    const problems = dedupe((validate.errors ?? []).map((error) => problemOf(error, value, at)));
    if (problems.length <= MAX_PROBLEMS) return problems;
    return [...problems.slice(0, MAX_PROBLEMS), problem(undefined, '(payload)', `and ${problems.length - MAX_PROBLEMS} more problems`)];
  };
}

/** A JSON Pointer into `root`, as the path the other payload problems name (`routes[1].host`). */
function pathOf(pointer: string, root: unknown): Path {
  if (pointer === '') return [];
  const path: PropertyKey[] = [];
  let value = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const key = Array.isArray(value) && /^\d+$/.test(segment) ? Number(segment) : segment;
    path.push(key);
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return path;
}

/** Reads like the zod-checked payloads: a missing key at the mapping that lacks it, one problem per unknown key. */
function problemOf(error: ErrorObject, root: unknown, at: Locator): PayloadProblem {
  const path = pathOf(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
    return problem(at.line(path), formatPath(path), `missing required key "${params.missingProperty}"`);
  }
  const extra = error.keyword === 'additionalProperties' ? params.additionalProperty : error.keyword === 'unevaluatedProperties' ? params.unevaluatedProperty : undefined;
  if (typeof extra === 'string') {
    const keyPath = [...path, extra];
    return problem(at.line(keyPath), formatPath(keyPath), `unknown key "${extra}"`);
  }
  return problem(at.line(path), formatPath(path), error.message ?? `fails the schema's "${error.keyword}" rule`);
}

function dedupe(problems: PayloadProblem[]): PayloadProblem[] {
  const seen = new Set<string>();
  return problems
    .filter((p) => !seen.has(p.message) && seen.add(p.message))
    .sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}
