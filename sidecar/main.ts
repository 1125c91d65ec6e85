#!/usr/bin/env node
import { helpFileOf, quickAnswer } from '../src/core/quick-answer.js';
import { PACKAGE_VERSION } from '../src/core/version.js';
import { SERVE_EXIT } from './defaults.js';

// `--version` and `--help` need neither commander nor the command tree (src/core/quick-answer.ts).
const quick = quickAnswer(process.argv.slice(2), { file: helpFileOf(import.meta.url), version: PACKAGE_VERSION, usageExit: SERVE_EXIT.usage });
if (quick !== undefined) {
  process.exitCode = quick;
} else {
  const { main } = await import('./program.js');
  process.exitCode = await main(process.argv);
  // Everything is closed by now; this only guards against a stray handle keeping a stopped sidecar alive.
  setTimeout(() => process.exit(), 2000).unref();
}
