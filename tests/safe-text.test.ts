import { describe, expect, it } from 'vitest';
import { hasUnsafeCharacters, safeJson, safeLine, safeText } from '../src/core/safe-text.js';

/** Every character class the display rule names, each with the marker it must become. */
const CORPUS: Array<[string, string, string]> = [
  ['CSI erase line', 'harmless\u001b[2K\u001b[1Gok', 'harmless⟨ESC⟩[2K⟨ESC⟩[1Gok'],
  ['SGR colour', '\u001b[32mReviewed by security\u001b[0m', '⟨ESC⟩[32mReviewed by security⟨ESC⟩[0m'],
  ['conceal', '\u001b[8mexfil.attacker.example\u001b[28m', '⟨ESC⟩[8mexfil.attacker.example⟨ESC⟩[28m'],
  ['OSC title + BEL', '\u001b]0;pwned\u0007', '⟨ESC⟩]0;pwned⟨BEL⟩'],
  ['OSC 8 hyperlink', '\u001b]8;;https://evil.example\u001b\\click\u001b]8;;\u001b\\', '⟨ESC⟩]8;;https://evil.example⟨ESC⟩\\click⟨ESC⟩]8;;⟨ESC⟩\\'],
  ['C1 CSI', 'a\u009b2Kb', 'a⟨CSI⟩2Kb'],
  ['carriage return overwrite', 'rm -rf /\rls', 'rm -rf /⟨CR⟩ls'],
  ['backspace', 'evil\b\b\b\bgood', 'evil⟨BS⟩⟨BS⟩⟨BS⟩⟨BS⟩good'],
  ['NUL and DEL', 'a\u0000b\u007fc', 'a⟨NUL⟩b⟨DEL⟩c'],
  ['right-to-left override', 'api.\u202eelpmaxe.rekcatta\u202c', 'api.⟨RLO⟩elpmaxe.rekcatta⟨PDF⟩'],
  ['isolates', '\u2066a\u2067b\u2068c\u2069', '⟨LRI⟩a⟨RLI⟩b⟨FSI⟩c⟨PDI⟩'],
  ['embeddings', '\u202ax\u202by\u202dz', '⟨LRE⟩x⟨RLE⟩y⟨LRO⟩z'],
  ['zero-width', 'git\u200bhub.com\u200c\u200d\u2060\ufeff', 'git⟨ZWSP⟩hub.com⟨ZWNJ⟩⟨ZWJ⟩⟨WJ⟩⟨BOM⟩'],
  ['tag characters', 'ok\u{e0041}\u{e0042}', 'ok⟨U+E0041⟩⟨U+E0042⟩'],
  ['line separator', 'a\u2028b\u2029c', 'a⟨U+2028⟩b⟨U+2029⟩c'],
  ['lone surrogate', 'a\ud800b', 'a⟨U+D800⟩b'],
  ['hangul filler', 'a\u3164b', 'a⟨U+3164⟩b'],
];

describe('safeText', () => {
  it.each(CORPUS)('makes %s visible', (_name, input, shown) => {
    expect(safeText(input)).toBe(shown);
    expect(hasUnsafeCharacters(input)).toBe(true);
  });

  it('keeps ordinary text, newlines, tabs and non-Latin scripts as they are', () => {
    const text = 'routes:\n\t- host: api.github.com # für die API, 日本語, émoji 🚀\n';
    expect(safeText(text)).toBe(text);
    expect(hasUnsafeCharacters(text)).toBe(false);
  });

  it('leaves no character a terminal would interpret', () => {
    // eslint-disable-next-line no-control-regex -- the raw characters a terminal acts on
    for (const [, input] of CORPUS) expect(safeText(input)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200d]/);
  });
});

describe('safeLine', () => {
  it('also shows newlines and tabs', () => {
    expect(safeLine('a\nb\tc\u001b')).toBe('a⟨LF⟩b⟨TAB⟩c⟨ESC⟩');
  });
});

describe('safeJson', () => {
  it('parses back to the same value while showing no unsafe character raw', () => {
    const value = { justification: CORPUS.map(([, input]) => input).join('|'), n: 1 };
    const json = safeJson(value);
    expect(JSON.parse(json)).toEqual(value);
    expect(hasUnsafeCharacters(json)).toBe(false);
  });
});
