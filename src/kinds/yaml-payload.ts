import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { PayloadProblem } from '../core/errors.js';
import { DOCUMENT, invalidPayload, problem, type Locator } from './payload-problems.js';

/** A YAML payload read into its value, with a locator that finds each value's line. */
export interface YamlPayload {
  value: unknown;
  at: Locator;
}

function yamlLocator(doc: Document, lines: LineCounter): Locator {
  const lineOf = (node: unknown): number | undefined => (isNode(node) && node.range ? lines.linePos(node.range[0]).line : undefined);
  return {
    has: (path) => doc.hasIn(path),
    // A key's own line beats its value's: a block mapping under `auth:` starts on the next line.
    line: (path) => {
      if (path.length === 0) return lineOf(doc.contents);
      const parent = doc.getIn(path.slice(0, -1), true);
      const last = path.at(-1);
      if (isMap(parent)) return lineOf(parent.items.find((pair) => isScalar(pair.key) && String(pair.key.value) === String(last))?.key);
      if (isSeq(parent) && typeof last === 'number') return lineOf(parent.items[last]);
      return undefined;
    },
  };
}

/**
 * Reads one YAML document with the `yaml` library, refusing what would let the text mean more than
 * it shows: a syntax error, a second document, an anchor or alias (a small file could expand into a
 * huge one). Throws `invalid-payload` naming each problem's line in the `subject`.
 */
export function readYamlPayload(text: string, subject: string, remedy: string): YamlPayload {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, lineCounter: lines });

  const syntax = [...doc.errors, ...doc.warnings].map((e) => {
    const rule =
      e.code === 'MULTIPLE_DOCS'
        ? 'only one YAML document is allowed; remove the "---" separator and everything after it'
        : // prettyErrors appends the position and a source excerpt; the line is reported separately.
          (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:$/, '');
    return problem(e.linePos?.[0].line, DOCUMENT, `YAML ${e.code}: ${rule}`);
  });
  if (syntax.length > 0) throw invalidPayload(subject, syntax, remedy);

  const aliasing: PayloadProblem[] = [];
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node) || node.anchor) {
        const line = node.range ? lines.linePos(node.range[0]).line : undefined;
        aliasing.push(problem(line, DOCUMENT, 'YAML anchors (&name) and aliases (*name) are not allowed; write each value out in full'));
      }
    },
  });
  if (aliasing.length > 0) throw invalidPayload(subject, aliasing, remedy);

  return { value: doc.toJS(), at: yamlLocator(doc, lines) };
}
