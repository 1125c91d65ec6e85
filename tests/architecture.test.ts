import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from './fixtures/storage-support.js';

/**
 * `npm run check:architecture` runs depcruise with .dependency-cruiser.mjs over src/ and sidecar/.
 * These tests run the same binary with the same config over small trees written here, to prove
 * that each rule catches its violation and that the patterns the code relies on pass.
 */
const DEPCRUISE = path.join(REPO_ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');
const CONFIG = path.join(REPO_ROOT, '.dependency-cruiser.mjs');

const trees: string[] = [];

afterAll(() => {
  for (const tree of trees) fs.rmSync(tree, { recursive: true, force: true });
});

function writeTree(label: string, files: Record<string, string>): string {
  const root = tempDir(label);
  trees.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

interface Cruise {
  /** The exit code of the run `npm run check:architecture` makes (its report is the default, `err`). */
  code: number | null;
  report: string;
  /** From a second, JSON run: `rule: from → to`, sorted. */
  violations: string[];
}

function depcruise(root: string, extraArgs: string[] = []): { status: number | null; stdout: string } {
  const run = spawnSync(process.execPath, [DEPCRUISE, 'src', 'sidecar', '--config', CONFIG, ...extraArgs], { cwd: root, encoding: 'utf8' });
  if (run.error) throw run.error;
  return run;
}

function cruise(root: string): Cruise {
  const plain = depcruise(root);
  const json = JSON.parse(depcruise(root, ['--output-type', 'json']).stdout) as { summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> } };
  return {
    code: plain.status,
    report: plain.stdout,
    violations: json.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort(),
  };
}

describe('the architecture check', () => {
  it('fails on each kind of violation, naming the rule and the import', () => {
    const root = writeTree('arch-bad', {
      'src/core/base.ts': 'export const base = 1;\n',
      'src/core/reaches-up.ts': "import { verb } from '../cli/verb.js';\nexport const reached = verb;\n",
      'src/cli/verb.ts': "import { base } from '../core/base.js';\nexport const verb = base;\n",
      // A type is a dependency too.
      'src/queue/store.ts': "import type { Plan } from '../launcher/plan.js';\nexport const plan: Plan = {};\n",
      'src/launcher/plan.ts': 'export type Plan = Record<string, never>;\n',
      'sidecar/main.ts': "import { verb } from '../src/cli/verb.js';\nexport const main = verb;\n",
      'src/storage/open.ts': "import { helper } from '../../sidecar/helper.js';\nexport const open = helper;\n",
      'sidecar/helper.ts': "import { base } from '../src/core/base.js';\nexport const helper = base;\n",
      'src/extras/thing.ts': "import { base } from '../core/base.js';\nexport const thing = base;\n",
      'src/kinds/uses-extras.ts': "import { thing } from '../extras/thing.js';\nexport const used = thing;\n",
      'src/audit/a.ts': "import { b } from './b.js';\nexport const a = (): number => b();\n",
      'src/audit/b.ts': "import { a } from './a.js';\nexport const b = (): number => a();\n",
      'src/notify/unused.ts': 'export const unused = 1;\n',
      'src/queue/missing.ts': "import { gone } from './gone.js';\nexport const missing = gone;\n",
    });
    const expected = [
      'layer-core-imports-up: src/core/reaches-up.ts → src/cli/verb.ts',
      'layer-queue-imports-up: src/queue/store.ts → src/launcher/plan.ts',
      'sidecar-imports-cli: sidecar/main.ts → src/cli/verb.ts',
      'src-imports-sidecar: src/storage/open.ts → sidecar/helper.ts',
      'src-outside-layers: src/extras/thing.ts → src/core/base.ts',
      'import-outside-layers: src/kinds/uses-extras.ts → src/extras/thing.ts',
      'no-circular: src/audit/a.ts → src/audit/b.ts',
      'no-orphans: src/notify/unused.ts → src/notify/unused.ts',
      'not-to-unresolvable: src/queue/missing.ts → ./gone.js',
    ];
    const result = cruise(root);
    expect(result.violations).toEqual([...expected].sort());
    // depcruise exits with the number of errors, so `npm test` stops here.
    expect(result.code).toBe(expected.length);
    for (const violation of expected) expect(result.report).toContain(`error ${violation.split(':')[0]}: `);
  });

  it('passes imports that only go down, sidecar use of the library, and type-only cycles', () => {
    const root = writeTree('arch-good', {
      'src/core/base.ts': "import fs from 'node:fs';\nexport const base = fs.constants.F_OK;\n",
      'src/storage/open.ts': "import { base } from '../core/base.js';\nexport const open = base;\n",
      'src/keys/seal.ts': "import { open } from '../storage/open.js';\nexport const seal = open;\n",
      'src/notify/watch.ts': "import { seal } from '../keys/seal.js';\nexport const watch = seal;\n",
      'src/kinds/kind.ts': "import { watch } from '../notify/watch.js';\nexport const kind = watch;\n",
      'src/audit/log.ts': "import { kind } from '../kinds/kind.js';\nexport const log = kind;\n",
      // The store hands out a view that names the store's type: a cycle only through a type.
      'src/queue/store.ts': "import { log } from '../audit/log.js';\nimport { View } from './view.js';\nexport class Store { value = log; view(): View { return new View(this); } }\n",
      'src/queue/view.ts': "import type { Store } from './store.js';\nexport class View { constructor(readonly store: Store) {} }\n",
      'src/admin/status.ts': "import { Store } from '../queue/store.js';\nexport const status = new Store();\n",
      'src/legacy/import.ts': "import { status } from '../admin/status.js';\nexport const imported = status;\n",
      'src/database.ts': "import { imported } from './legacy/import.js';\nexport const database = imported;\n",
      'src/launcher/launcher.ts': "import { database } from '../database.js';\nexport const launcher = database;\n",
      'src/index.ts': "export { launcher } from './launcher/launcher.js';\n",
      'src/cli/main.ts': "import { launcher } from '../launcher/launcher.js';\nexport const main = launcher;\n",
      'sidecar/main.ts': "import { launcher } from '../src/index.js';\nimport { open } from '../src/storage/open.js';\nexport const sidecar = [launcher, open];\n",
    });
    const result = cruise(root);
    expect(result.violations).toEqual([]);
    expect(result.code).toBe(0);
  });
});
