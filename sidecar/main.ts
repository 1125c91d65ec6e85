#!/usr/bin/env node
import { enableCompileCache } from '../src/core/compile-cache.js';

// Before anything else loads, so the program's own modules come from the cache too.
enableCompileCache();
const { main } = await import('./program.js');
process.exitCode = await main(process.argv);
// Everything is closed by now; this only guards against a stray handle keeping a stopped sidecar alive.
setTimeout(() => process.exit(), 2000).unref();
