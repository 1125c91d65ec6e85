#!/usr/bin/env node
import { endQuietlyOnClosedOutput } from './closed-output.js';
import { helpFileOf, quickAnswer } from '../core/quick-answer.js';
import { VERB_EXIT } from '../core/exit-codes.js';
import { PACKAGE_VERSION } from '../core/version.js';

// A reader that went away (`bot-bottle --help | head -1`) ends the command quietly, on every path.
endQuietlyOnClosedOutput();
// `--version` and the top-level help need neither commander nor the command trees (src/core/quick-answer.ts).
const quick = quickAnswer(process.argv.slice(2), { file: helpFileOf(import.meta.url), version: PACKAGE_VERSION, usageExit: VERB_EXIT.usage });
if (quick !== undefined) {
  process.exitCode = quick;
} else {
  const { main } = await import('./program.js');
  process.exitCode = await main(process.argv);
}
