#!/usr/bin/env node
import { enableCompileCache } from '../core/compile-cache.js';

// Before anything else loads, so the program's own modules come from the cache too.
enableCompileCache();
const { main } = await import('./program.js');
process.exitCode = await main(process.argv);
