import { SuperviseError } from './errors.js';
import { MAX_ACTOR_LENGTH, MAX_SLUG_LENGTH } from './limits.js';

const SLUG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;
const ACTOR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]*$/;
const AUDIT_LABEL = /^[a-z][a-z0-9-]{0,47}$/;

/** An audit entry's component or action ("egress", "operator-edit"): lowercase letters, digits and '-'. */
export function isAuditLabel(value: string): boolean {
  return AUDIT_LABEL.test(value);
}

/** Whether `slug` is one `validateSlug` accepts, without building its error: for hot paths that skip what is not a slug. */
export function isSlug(slug: string): boolean {
  return slug.length <= MAX_SLUG_LENGTH && SLUG_PATTERN.test(slug) && !slug.includes('..');
}

/** Bottle slugs become container names and path segments elsewhere, so they are held to that. */
export function validateSlug(slug: unknown): string {
  const fix = `A slug is 1–${MAX_SLUG_LENGTH} characters of letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. "acme-api").`;
  if (typeof slug !== 'string') throw new SuperviseError('invalid-slug', `bottle slug must be a string, got ${slug === null ? 'null' : typeof slug}. ${fix}`);
  if (slug.length === 0) throw new SuperviseError('invalid-slug', `bottle slug is empty. ${fix}`);
  if (CONTROL_CHARACTERS.test(slug)) throw new SuperviseError('invalid-slug', `bottle slug ${JSON.stringify(slug)} contains control characters. ${fix}`);
  if (slug.length > MAX_SLUG_LENGTH) throw new SuperviseError('invalid-slug', `bottle slug is ${slug.length} characters long, over the limit of ${MAX_SLUG_LENGTH}. ${fix}`);
  if (slug.includes('/') || slug.includes('\\')) throw new SuperviseError('invalid-slug', `bottle slug ${JSON.stringify(slug)} contains a path separator. ${fix}`);
  if (slug.includes('..')) throw new SuperviseError('invalid-slug', `bottle slug ${JSON.stringify(slug)} contains "..". ${fix}`);
  if (!SLUG_PATTERN.test(slug)) throw new SuperviseError('invalid-slug', `bottle slug ${JSON.stringify(slug)} has characters that are not allowed. ${fix}`);
  return slug;
}

/** Whether `slug` passes `validateSlug`: for rows raw SQL may have written, which are settled rather than refused. */
export function isValidSlug(slug: unknown): slug is string {
  try {
    validateSlug(slug);
    return true;
  } catch {
    return false;
  }
}

/** Who proposed or answered: recorded in the audit log, so it must be short and printable. */
export function validateActor(actor: unknown, role: string): string {
  if (typeof actor !== 'string' || !ACTOR_PATTERN.test(actor) || actor.length > MAX_ACTOR_LENGTH) {
    throw new SuperviseError('invalid-input', `${role} ${JSON.stringify(actor)} is not valid: use 1–${MAX_ACTOR_LENGTH} letters, digits or ". _ : @ -" (e.g. "operator", "git-gate").`);
  }
  return actor;
}

export function validateTextSize(value: string, limitBytes: number, what: string): string {
  const size = Buffer.byteLength(value, 'utf8');
  if (size > limitBytes) {
    throw new SuperviseError('too-large', `${what} is ${size} bytes, over the limit of ${limitBytes} bytes. Shorten it.`);
  }
  return value;
}
