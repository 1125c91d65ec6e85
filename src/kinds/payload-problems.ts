import { z } from 'zod';
import { SuperviseError, type PayloadProblem } from '../core/errors.js';

/** A position in a payload's value: keys and list indexes from the root. */
export type Path = readonly PropertyKey[];

export const TOP_LEVEL = '(top level)';
/** For problems with the document as text (syntax, aliases, JSON) rather than with a value in it. */
export const DOCUMENT = '(document)';

/** Finds where a value sits in the payload's text, so each problem can name its line. */
export interface Locator {
  has(path: Path): boolean;
  line(path: Path): number | undefined;
}

export function formatPath(path: Path): string {
  if (path.length === 0) return TOP_LEVEL;
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`)).join('');
}

export function problem(line: number | undefined, path: string, rule: string): PayloadProblem {
  return { line, path, rule, message: `${line === undefined ? '' : `line ${line}: `}${path}: ${rule}` };
}

/**
 * One error for everything wrong with a payload: a count, a line per problem, then what to do.
 * `subject` names the format ("egress routes file"), `remedy` the fix.
 */
export function invalidPayload(subject: string, problems: PayloadProblem[], remedy: string): SuperviseError {
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new SuperviseError('invalid-payload', `${count} in the ${subject}:\n${problems.map((p) => `  - ${p.message}`).join('\n')}\n${remedy}`, { problems });
}

/**
 * Zod reports a missing key as a type error on the key itself, which has no line; it reads better
 * against the mapping that lacks it. Unknown keys get one problem each so every line is named.
 */
function zodProblems(error: z.ZodError, at: Locator): PayloadProblem[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => problem(at.line([...path, key]), formatPath([...path, key]), `unknown key "${key}"`));
    }
    if (issue.code === 'invalid_type' && path.length > 0 && !at.has(path)) {
      const parent = path.slice(0, -1);
      return [problem(at.line(parent), formatPath(parent), `missing required key "${String(path.at(-1))}"`)];
    }
    return [problem(at.line(path), formatPath(path), issue.message)];
  }).sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}

/** Checks `value` against `schema`; throws `invalidPayload` with every problem, in line order. */
export function checkSchema<S extends z.ZodType>(schema: S, value: unknown, at: Locator, subject: string, remedy: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidPayload(subject, zodProblems(result.error, at), remedy);
  return result.data;
}
