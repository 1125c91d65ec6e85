import { describe, expect, it } from 'vitest';
import { hasUnsafeCharacters, safeJson, safeLine, safeText } from '../src/core/safe-text.js';
import { ESCAPE_CORPUS } from './fixtures/escape-corpus.js';

describe('safeText', () => {
  it.each(ESCAPE_CORPUS)('makes %s visible', (_name, input, shown) => {
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
    for (const [, input] of ESCAPE_CORPUS) expect(safeText(input)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u200b-\u200d]/);
  });
});

describe('safeLine', () => {
  it('also shows newlines and tabs', () => {
    expect(safeLine('a\nb\tc\u001b')).toBe('a⟨LF⟩b⟨TAB⟩c⟨ESC⟩');
  });
});

describe('safeJson', () => {
  it('parses back to the same value while showing no unsafe character raw', () => {
    const value = { justification: ESCAPE_CORPUS.map(([, input]) => input).join('|'), n: 1 };
    const json = safeJson(value);
    expect(JSON.parse(json)).toEqual(value);
    expect(hasUnsafeCharacters(json)).toBe(false);
  });
});
