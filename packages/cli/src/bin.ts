#!/usr/bin/env node
import { run } from './program.js';

const code = await run(process.argv);
// Close pools and timers first (run() does), then leave with the code; exit() would cut off piped output.
process.exitCode = code;
