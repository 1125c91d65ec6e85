import { CORE_SCHEMA, dump, load } from 'js-yaml';

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

/**
 * The value of a YAML text written in the canonical plain form (block mappings and sequences of
 * plain scalars, two-space indents, exactly as js-yaml writes the value back), or `undefined` for
 * anything else. js-yaml reads it about ten times faster than the `yaml` library. Parsers
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
  const canonical = dump(value, { schema: CORE_SCHEMA, lineWidth: -1, noRefs: true });
  // A missing final newline changes nothing in either parser.
  return canonical === text || canonical === `${text}\n` ? value : undefined;
}

function onlyPlainStrings(value: unknown): boolean {
  if (typeof value === 'string') return !NUMBER_LIKE.test(value);
  if (Array.isArray(value)) return value.every(onlyPlainStrings);
  if (value !== null && typeof value === 'object') return Object.entries(value).every(([key, item]) => !NUMBER_LIKE.test(key) && !NON_STRING_KEY.test(key) && onlyPlainStrings(item));
  // Empty values and true/false read alike in both; numbers are left to the full parser.
  return value === null || typeof value === 'boolean';
}
