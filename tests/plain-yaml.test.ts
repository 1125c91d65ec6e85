import { describe, expect, it } from 'vitest';
import { CORE_SCHEMA, dump, load } from 'js-yaml';
import { parseDocument } from 'yaml';
import { loadPlainYaml } from '../src/kinds/plain-yaml.js';
import { parseRoutesYaml, parseRoutesYamlFully } from '../src/kinds/routes-file.js';

/** A small seeded generator, so a failing case can be reproduced from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['routes', 'host', 'path_allowlist', 'auth', 'scheme', 'token_ref', 'dlp', 'outbound_on_match', 'x', '<<', 'null', 'true', '1a'];
const VALUES = ['api.example.com', '/v1/', '/simple/', 'bearer', 'GITHUB_TOKEN', 'supervise', 'null', 'Null', 'true', 'False', '~', '1password.com', '10.0.0.1', '12', '0x1F', '0o17', '1e3', '.5', '.inf', '-x', 'a:b', 'a b', 'a-', '-', ':', 'yes', '2001-12-14', '<<', '='];
const MUTATIONS = [' ', '  ', '-', '- ', ':', ': ', '\n', 'a', '/', '.', '0', 'x:', '\n  ', '\n- '];

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)] as T;
}

/** Lines of block YAML from the subset's own pieces, at random indentation: mostly nonsense, some valid. */
function randomLines(next: () => number): string {
  const lines: string[] = [];
  const count = 1 + Math.floor(next() * 8);
  for (let i = 0; i < count; i++) {
    const indent = ' '.repeat(Math.floor(next() * 4) * 2);
    const dashes = '- '.repeat(Math.floor(next() * 2.5));
    const roll = next();
    const body = roll < 0.45 ? `${pick(next, KEYS)}:` : roll < 0.8 ? `${pick(next, KEYS)}: ${pick(next, VALUES)}` : pick(next, VALUES);
    lines.push(`${indent}${dashes}${body}`);
  }
  return `${lines.join('\n')}${next() < 0.7 ? '\n' : ''}`;
}

/** A valid routes file with a few random edits. */
function mutatedRoutes(next: () => number): string {
  let text = [
    'routes:',
    '  - host: api.github.com',
    '    path_allowlist:',
    '      - /repos/',
    '    auth:',
    '      scheme: bearer',
    '      token_ref: GITHUB_TOKEN',
    '  - host: registry.npmjs.org',
    '    dlp:',
    '      outbound_on_match: supervise',
    '',
  ].join('\n');
  const edits = Math.floor(next() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * text.length);
    const roll = next();
    if (roll < 0.4) text = text.slice(0, at) + pick(next, MUTATIONS) + text.slice(at);
    else if (roll < 0.8) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 3));
    else text = text.slice(0, at) + pick(next, VALUES) + text.slice(at);
  }
  return text;
}

function outcome(parse: (text: string) => unknown, text: string): { ok: unknown } | { error: string } {
  try {
    return { ok: parse(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('the plain YAML subset read by js-yaml agrees with the yaml library', () => {
  const cases = [...Array.from({ length: 4000 }, (_, seed) => ({ seed, text: randomLines(random(seed)) })), ...Array.from({ length: 4000 }, (_, seed) => ({ seed, text: mutatedRoutes(random(seed + 1_000_000)) }))];

  it('on every text it accepts: the same value, and the yaml library finds no error or warning', () => {
    let accepted = 0;
    for (const { seed, text } of cases) {
      const plain = loadPlainYaml(text);
      if (plain === undefined) continue;
      accepted += 1;
      const doc = parseDocument(text);
      expect({ seed, text, problems: [...doc.errors, ...doc.warnings].map((e) => e.message) }).toEqual({ seed, text, problems: [] });
      expect({ seed, text, value: plain }).toEqual({ seed, text, value: doc.toJS() });
    }
    // The generator must reach the fast path often enough for the comparison to mean something.
    expect(accepted).toBeGreaterThan(1000);
  });

  it('accepts only texts that are exactly what js-yaml writes back for their value', () => {
    for (const { seed, text } of cases) {
      if (loadPlainYaml(text) === undefined) continue;
      const written = dump(load(text, { schema: CORE_SCHEMA }), { schema: CORE_SCHEMA, lineWidth: -1, noRefs: true });
      expect({ seed, text, written: written === `${text}\n` ? text : written }).toEqual({ seed, text, written: text });
    }
  });

  it('parseRoutesYaml, fast path or not, returns or refuses exactly as the full parser does', () => {
    let valid = 0;
    for (const { seed, text } of cases) {
      const full = outcome(parseRoutesYamlFully, text);
      if ('ok' in full) valid += 1;
      expect({ seed, text, result: outcome(parseRoutesYaml, text) }).toEqual({ seed, text, result: full });
    }
    expect(valid).toBeGreaterThan(300);
  });

  it.each([
    ['an alias', 'routes:\n  - host: &h a.example.com\n  - host: *h\n'],
    ['a wildcard host, quoted', 'routes:\n  - host: "*.github.com"\n'],
    ['a comment', 'routes: # the routes\n  - host: a.example.com\n'],
    ['a tab', 'routes:\n\t- host: a.example.com\n'],
    ['a second document', 'routes: []\n---\nroutes:\n  - host: evil.example\n'],
    ['a flow sequence', 'routes: [{host: a.example.com}]\n'],
    ['a number-like host', 'routes:\n  - host: 10.0.0.1\n'],
    ['a non-ASCII character', 'routes:\n  - host: аpi.example.com\n'],
    ['a carriage return', 'routes:\r\n  - host: a.example.com\r\n'],
  ])('leaves %s to the full parser', (_what, text) => {
    expect(loadPlainYaml(text)).toBeUndefined();
  });

  it('reads the routes files agents write', () => {
    expect(loadPlainYaml('routes:\n  - host: api.github.com\n    path_allowlist:\n      - /repos/\n')).toEqual({ routes: [{ host: 'api.github.com', path_allowlist: ['/repos/'] }] });
    const full = 'routes:\n  - host: api.github.com\n    path_allowlist:\n      - /v1/\n    auth:\n      scheme: bearer\n      token_ref: GITHUB_TOKEN\n    dlp:\n      outbound_on_match: supervise\n  - host: registry.npmjs.org\n';
    expect(loadPlainYaml(full)).toEqual(load(full, { schema: CORE_SCHEMA }));
    expect(loadPlainYaml(full.slice(0, -1))).toEqual(load(full, { schema: CORE_SCHEMA }));
  });

  it.each([
    ['a key with no value', 'routes:\n  - host:\n'],
    ['an empty sequence', 'routes:\n'],
    ['a sequence in a sequence', 'routes:\n  - - a.example.com\n'],
    ['a value with a space', 'routes:\n  - host: a b\n'],
    ['a value with a colon', 'routes:\n  - host: a:b\n'],
    ['a merge key', 'routes:\n  - <<: x\n'],
    ['a four-space indent', 'routes:\n    - host: a.example.com\n'],
    ['a sequence not indented under its key', 'routes:\n- host: a.example.com\n'],
    ['a core-schema word', 'routes:\n  - host: .inf\n'],
    ['a YAML 1.1 boolean word', 'routes:\n  - host: yes\n'],
  ])('leaves %s to the full parser', (_what, text) => {
    expect(loadPlainYaml(text)).toBeUndefined();
  });
});
