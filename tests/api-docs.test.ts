import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as mainEntry from '../src/index.js';
import * as adminEntry from '../src/admin/index.js';
import * as sidecarEntry from '../sidecar/index.js';
import { SuperviseError, type SuperviseErrorCode } from '../src/core/errors.js';
import { PROPOSE_EXIT, VERB_EXIT, exitCodeFor } from '../src/core/exit-codes.js';
import { LIMITS } from '../src/core/limits.js';
import { KindRegistry } from '../src/kinds/registry.js';

/**
 * docs/API.md is the library's reference; these tests keep it from falling behind the code: every
 * name the three published entries export, every error code with the exit codes it maps to, every
 * limit and exit code with its value, and every built-in kind with the side that answers it.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string): string => fs.readFileSync(path.join(ROOT, file), 'utf8');

const ENTRIES = [
  { file: 'src/index.ts', module: mainEntry },
  { file: 'src/admin/index.ts', module: adminEntry },
  { file: 'sidecar/index.ts', module: sidecarEntry },
] as const;

interface ExportLists {
  values: string[];
  types: string[];
}

/** The names an entry file exports: its `export { … } from` and `export type { … } from` lists, and any declaration it exports itself. */
function exportedNames(source: string): ExportLists {
  const values: string[] = [];
  const types: string[] = [];
  for (const match of source.matchAll(/export\s+(type\s+)?\{([^}]*)\}/g)) {
    for (const item of (match[2] as string).split(',')) {
      const spec = item.trim();
      if (spec === '') continue;
      const typeOnly = match[1] !== undefined || spec.startsWith('type ');
      const name = (spec.replace(/^type\s+/, '').split(/\s+as\s+/).at(-1) as string).trim();
      (typeOnly ? types : values).push(name);
    }
  }
  for (const match of source.matchAll(/^export\s+(?:declare\s+)?(?:async\s+)?(const|let|function\*?|class|type|interface|enum)\s+([A-Za-z_$][\w$]*)/gm)) {
    (match[1] === 'type' || match[1] === 'interface' ? types : values).push(match[2] as string);
  }
  return { values, types };
}

/** The doc without its fenced code blocks: an example is not documentation of a name. */
function prose(doc: string): string {
  return doc.replace(/^```[^\n]*\n[\s\S]*?^```[^\n]*$/gm, '');
}

/** Every identifier that appears in a heading or inside an inline code span. */
function documentedIdentifiers(doc: string): Set<string> {
  const text = prose(doc);
  const places = [...text.matchAll(/^#{1,6}\s.*$/gm)].map((m) => m[0]).concat([...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string));
  return new Set(places.flatMap((place) => place.match(/[A-Za-z_$][\w$]*/g) ?? []));
}

/** The text under the first heading that contains `title`, up to the next heading of the same or a higher level. */
function section(doc: string, title: string): string {
  const lines = prose(doc).split('\n');
  const start = lines.findIndex((line) => /^#{1,6}\s/.test(line) && line.includes(title));
  if (start === -1) throw new Error(`docs/API.md has no heading containing ${JSON.stringify(title)}`);
  const level = (lines[start] as string).indexOf(' ');
  const end = lines.findIndex((line, index) => index > start && /^#{1,6}\s/.test(line) && line.indexOf(' ') <= level);
  return lines.slice(start + 1, end === -1 ? undefined : end).join('\n');
}

/** A table's rows keyed by the code span in their first cell, each row as its trimmed cells. */
function tableRows(text: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const cells = line.trim().replace(/^\||\|$/g, '').split('|').map((cell) => cell.trim());
    const key = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (line.trim().startsWith('|') && key !== undefined) rows.set(key, cells);
  }
  return rows;
}

/** A heading's anchor as GitHub makes it: the text without its markup, lowercased, punctuation dropped, spaces as hyphens; repeats numbered. */
function anchors(doc: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(doc).matchAll(/^#{1,6}\s+(.*)$/gm)) {
    const slug = (heading as string).replace(/`/g, '').toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** The codes of the `SuperviseErrorCode` union, read from its source: the union has no runtime value. */
function errorCodes(): SuperviseErrorCode[] {
  const source = read('src/core/errors.ts').replace(/\/\/.*$/gm, '');
  const union = /export type SuperviseErrorCode =([\s\S]*?);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'([a-z-]+)'/g)].map((m) => m[1] as SuperviseErrorCode);
}

const doc = read('docs/API.md');

describe('docs/API.md', () => {
  it.each(ENTRIES)('reads every runtime export of $file from its export lists', ({ file, module }) => {
    // If this fails, exportedNames() missed a form of export the entry uses, and the check below would be blind to it.
    expect(new Set(exportedNames(read(file)).values)).toEqual(new Set(Object.keys(module)));
  });

  it.each(ENTRIES)('documents every value and type that $file exports', ({ file }) => {
    const { values, types } = exportedNames(read(file));
    const documented = documentedIdentifiers(doc);
    expect([...values, ...types].filter((name) => !documented.has(name))).toEqual([]);
  });

  it('links only to headings that exist', () => {
    const known = anchors(doc);
    const links = [...prose(doc).matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((link) => !known.has(link))).toEqual([]);
  });

  it('lists every error code with its category and the exit code it maps to in VERB_EXIT and PROPOSE_EXIT', () => {
    const rows = tableRows(section(doc, 'Error codes'));
    const codes = errorCodes();
    expect(codes.length).toBeGreaterThan(10);
    for (const code of codes) {
      const error = new SuperviseError(code, 'for the docs test');
      expect(rows.get(code), `no row for ${code}`).toBeDefined();
      const [, category, verb, propose, advice] = rows.get(code) as string[];
      expect({ code, category, verb, propose }).toEqual({ code, category: error.category, verb: String(exitCodeFor(error, 'verb')), propose: String(exitCodeFor(error, 'propose')) });
      expect(advice?.length ?? 0, `no advice for ${code}`).toBeGreaterThan(10);
    }
    expect([...rows.keys()].filter((code) => !codes.includes(code as SuperviseErrorCode))).toEqual([]);
  });

  it('lists every exit code of both tables with its number', () => {
    for (const [title, table] of [['`VERB_EXIT`', VERB_EXIT], ['`PROPOSE_EXIT`', PROPOSE_EXIT]] as const) {
      const rows = tableRows(section(doc, title));
      for (const [name, value] of Object.entries(table)) expect(rows.get(name)?.[1], `${title} ${name}`).toBe(String(value));
      expect([...rows.keys()].sort()).toEqual(Object.keys(table).sort());
    }
  });

  it('lists every limit with its value', () => {
    const rows = tableRows(section(doc, '`LIMITS`'));
    for (const [name, value] of Object.entries(LIMITS)) expect(rows.get(name)?.[1], name).toBe(String(value));
    expect([...rows.keys()].sort()).toEqual(Object.keys(LIMITS).sort());
  });

  it('lists every built-in kind with who answers it, whether it can be modified and whether approving needs a reason', () => {
    const rows = tableRows(section(doc, 'Built-in kinds'));
    const registry = KindRegistry.withBuiltins();
    for (const name of registry.names()) {
      const kind = registry.get(name);
      const [, target, modifiable, reason] = rows.get(name) ?? [];
      expect({ name, target, modifiable, reason }).toEqual({ name, target: kind.target, modifiable: kind.modifiable ? 'yes' : 'no', reason: kind.reasonRequiredToApprove ? 'required' : 'optional' });
    }
    expect([...rows.keys()].sort()).toEqual(registry.names().sort());
  });
});
