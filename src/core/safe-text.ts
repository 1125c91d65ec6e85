/**
 * Every string that came from a bottle (justification, payload, YAML comments, notes, origin,
 * kind-specific fields) is hostile: a terminal interprets escape sequences and control
 * characters, and bidi overrides or zero-width characters make text read differently from what
 * it is. These functions make every such character visible instead of letting it act, so what
 * the operator reads is what they decide on.
 */

/**
 * Characters that must never reach a terminal or a page as themselves:
 * - C0 controls except tab and newline, DEL, C1 controls (ESC, CSI, OSC, BEL, backspace, CR…);
 * - Unicode format characters (`Cf`): bidi embeddings, overrides and isolates (U+202A–202E,
 *   U+2066–2069), marks (U+200E/200F, U+061C), zero-width space/joiners (U+200B–200D), word
 *   joiner (U+2060), BOM (U+FEFF), soft hyphen, tag characters (U+E0000–E007F, used to smuggle
 *   invisible ASCII);
 * - line and paragraph separators (U+2028/2029), which some terminals and pages break lines on;
 * - variation selectors and blank-rendering fillers (Hangul fillers, braille blank), which
 *   render as nothing and can hide data;
 * - lone surrogates, which cannot be shown at all.
 */
// Matching control and combining characters is the point of this pattern.
const UNSAFE =
  // eslint-disable-next-line no-control-regex, no-misleading-character-class
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u115f\u1160\u180e\u2800\u3164\ufe00-\ufe0f\uffa0\ufff9-\ufffb]|\p{Cf}|[\u{e0100}-\u{e01ef}]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;

const NAMED: Readonly<Record<string, string>> = {
  '\u001b': 'ESC',
  '\r': 'CR',
  '\u0007': 'BEL',
  '\b': 'BS',
  '\u0000': 'NUL',
  '\u007f': 'DEL',
  '\u009b': 'CSI',
  '\u202a': 'LRE',
  '\u202b': 'RLE',
  '\u202c': 'PDF',
  '\u202d': 'LRO',
  '\u202e': 'RLO',
  '\u2066': 'LRI',
  '\u2067': 'RLI',
  '\u2068': 'FSI',
  '\u2069': 'PDI',
  '\u200b': 'ZWSP',
  '\u200c': 'ZWNJ',
  '\u200d': 'ZWJ',
  '\u2060': 'WJ',
  '\ufeff': 'BOM',
};

function codePointLabel(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `⟨ESC⟩`, `⟨RLO⟩`, `⟨U+E0041⟩`: visible, unmistakable for the character itself, never interpreted. */
function visible(char: string): string {
  return `⟨${NAMED[char] ?? codePointLabel(char)}⟩`;
}

/**
 * Text from a bottle, safe to print on a terminal or put on a page: every unsafe character
 * becomes a visible `⟨NAME⟩` marker. Newlines and tabs stay (they cannot rewrite what is
 * already shown); use {@link safeLine} where the text must stay on one line.
 */
export function safeText(text: string): string {
  // Printable ASCII, newlines and tabs hold nothing UNSAFE matches: most text is only that, and this test is far cheaper.
  if (PLAIN.test(text)) return text;
  return text.replace(UNSAFE, visible);
}

const PLAIN = /^[\x20-\x7e\n\t]*$/;

/** As {@link safeText}, and newlines and tabs become visible too: for table cells and one-line fields. */
export function safeLine(text: string): string {
  return safeText(text).replace(/\n/g, '⟨LF⟩').replace(/\t/g, '⟨TAB⟩');
}

/** True when {@link safeText} would change `text`: the operator should be told it held hidden characters. */
export function hasUnsafeCharacters(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}

/**
 * JSON for a terminal: the same value as `JSON.stringify` (any JSON parser reads it back
 * identically), with every unsafe character inside strings written as a `\uXXXX` escape instead
 * of itself, so piping `--json` output to a terminal cannot inject anything either.
 */
export function safeJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE, (char) => {
    let escaped = '';
    for (let i = 0; i < char.length; i++) escaped += `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return escaped;
  });
}
