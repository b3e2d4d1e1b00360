// Prints the closing line CI reads to know how many tests ran, "tests: N passed, N failed, N
// skipped": vitest's JSON report, plus the checks of scripts/pack-smoke.mjs when its report is
// given too. A report that is missing (its step never ran) is named, and counts as a failure.
import { existsSync, readFileSync } from 'node:fs';

const files = process.argv.length > 2 ? process.argv.slice(2) : ['test-artifacts/vitest.json'];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  if (!existsSync(file)) {
    console.log(`${file} is missing: its step did not finish`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  if (typeof report.numPassedTests === 'number') {
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  } else {
    // scripts/pack-smoke.mjs: one test per check.
    passed += report.passed;
    failed += report.failed;
  }
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
