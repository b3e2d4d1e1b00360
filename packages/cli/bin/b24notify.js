#!/usr/bin/env node
// Thin on purpose: everything, including error handling, is in the built dist/main.js.
import { main } from '../dist/main.js';

await main();
