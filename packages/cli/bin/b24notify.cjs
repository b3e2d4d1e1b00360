#!/usr/bin/env node
// Thin on purpose: everything, including error handling, is in the built dist/main.cjs.
// CommonJS, so a start does not pay for Node's ESM loader.
require('../dist/main.cjs').main();
