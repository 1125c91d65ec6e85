import { CORE_SCHEMA, load } from 'js-yaml';

// Printable ASCII and newlines only: no tabs, carriage returns or look-alike characters.
const PLAIN_CHARACTERS = /^[\x20-\x7e\n]*$/;
// Every character that starts a YAML feature beyond block mappings, block sequences and plain
// scalars: anchors and aliases, tags, block and flow scalars, flow collections, quotes, comments,
// directives, complex keys, escapes.
const INDICATORS = /[&*!|>{}[\]"'%@`#?,\\]/;
const DOCUMENT_MARKER = /^(?:---|\.\.\.)/m;
// A scalar the YAML 1.2 core schema might read as a number in one parser and a string in the other.
const NUMBER_LIKE = /^[-+.]?[0-9]/;
// A key the yaml library reads as null or a boolean (and turns into "" or "true"), where js-yaml keeps the word.
const NON_STRING_KEY = /^(?:|~|null|Null|NULL|true|True|TRUE|false|False|FALSE)$/;
// The scalars written back bare: a word of letters, digits and `_ / . = + -` that starts with a
// letter, digit, `_` or `/`. Narrower than what YAML allows bare (no spaces, no colons), so nothing
// here is read differently by another parser; anything else is not canonical and takes the full parser.
const BARE_WORD = /^[A-Za-z0-9_/][A-Za-z0-9_/.=+-]*$/;
// Words a YAML 1.2 core schema or a YAML 1.1 reader (yes, off…) takes for something other than a string.
const RESERVED_WORD = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN|[yYnN]|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;

/**
 * The value of a YAML text written in the canonical plain form (block mappings and sequences of
 * plain scalars, two-space indents, exactly as js-yaml writes the value back), or `undefined` for
 * anything else. js-yaml reads it about ten times faster than the `yaml` library, and checking the
 * layout by writing the value back ourselves costs a tenth of js-yaml's dump. Parsers
 * disagree at the edges (a compact sequence with an empty entry, a key that reads as null), and
 * a disagreement would let a bottle show the operator one structure and have another validated,
 * so only a text that is its own canonical rendering takes this path: its layout leaves nothing to
 * interpret. Everything else, and every text with a problem, goes to the full parser, which
 * reports problems by line. A differential test holds the two parsers to agreeing on this path.
 */
export function loadPlainYaml(text: string): unknown {
  if (!PLAIN_CHARACTERS.test(text) || INDICATORS.test(text) || DOCUMENT_MARKER.test(text)) return undefined;
  let value: unknown;
  try {
    value = load(text, { schema: CORE_SCHEMA });
  } catch {
    return undefined;
  }
  if (value === undefined || !onlyPlainStrings(value)) return undefined;
  const canonical = canonicalText(value);
  // A missing final newline changes nothing in either parser.
  return canonical !== undefined && (canonical === text || canonical === `${text}\n`) ? value : undefined;
}

/**
 * The one layout of `value` this path accepts (what js-yaml's dump writes for it: two-space
 * indents, sequences indented under their key, a mapping in a sequence starting on the dash's
 * line), or `undefined` when a value has no bare layout (an empty collection, a sequence in a
 * sequence, a scalar that is not a bare word).
 */
function canonicalText(value: unknown): string | undefined {
  const lines: string[] = [];
  return writeMapping(value, '', lines) ? `${lines.join('\n')}\n` : undefined;
}

function writeMapping(value: unknown, indent: string, lines: string[]): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  if (entries.length === 0) return false;
  for (const [key, item] of entries) {
    if (!isBareWord(key)) return false;
    const scalar = bareScalar(item);
    if (scalar !== undefined) {
      lines.push(`${indent}${key}: ${scalar}`);
      continue;
    }
    lines.push(`${indent}${key}:`);
    if (!(Array.isArray(item) ? writeSequence(item, `${indent}  `, lines) : writeMapping(item, `${indent}  `, lines))) return false;
  }
  return true;
}

function writeSequence(items: unknown[], indent: string, lines: string[]): boolean {
  if (items.length === 0) return false;
  for (const item of items) {
    const scalar = bareScalar(item);
    if (scalar !== undefined) {
      lines.push(`${indent}- ${scalar}`);
      continue;
    }
    const first = lines.length;
    if (Array.isArray(item) || !writeMapping(item, `${indent}  `, lines)) return false;
    lines[first] = `${indent}- ${(lines[first] as string).slice(indent.length + 2)}`;
  }
  return true;
}

function bareScalar(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  return typeof value === 'string' && isBareWord(value) ? value : undefined;
}

function isBareWord(text: string): boolean {
  return BARE_WORD.test(text) && !NUMBER_LIKE.test(text) && !RESERVED_WORD.test(text);
}

function onlyPlainStrings(value: unknown): boolean {
  if (typeof value === 'string') return !NUMBER_LIKE.test(value);
  if (Array.isArray(value)) return value.every(onlyPlainStrings);
  if (value !== null && typeof value === 'object') return Object.entries(value).every(([key, item]) => !NUMBER_LIKE.test(key) && !NON_STRING_KEY.test(key) && onlyPlainStrings(item));
  // Empty values and true/false read alike in both; numbers are left to the full parser.
  return value === null || typeof value === 'boolean';
}
