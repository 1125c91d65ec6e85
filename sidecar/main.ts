#!/usr/bin/env node
import { main } from './program.js';

process.exitCode = await main(process.argv);
// Everything is closed by now; this only guards against a stray handle keeping a stopped sidecar alive.
setTimeout(() => process.exit(), 2000).unref();
