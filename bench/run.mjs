// `npm run bench`: run the benchmarks, write bench/results/<name>.json and
// bench/results/README.md (a Markdown table of every stored result), and print the table.
//
//   node bench/run.mjs [name...] [--quick] [--profile] [--no-build]
//
//   --quick     fewer, shorter runs: a smoke test
//   --profile   run the server under `node --cpu-prof` and print where its time goes
//   --no-build  benchmark the packages' dist as it is (by default a stale dist is rebuilt)
//
// Quick and profiled runs are trials: their numbers are skewed (too short, or slowed by the
// profiler), so they go to a temporary directory and leave bench/results alone. So do runs
// against another build (B24NOTIFY_BENCH_EMULATOR or B24NOTIFY_BENCH_QUEUE=path/to/index.js, for
// A/B comparisons), and runs of only some of a benchmark's scenarios (B24NOTIFY_BENCH_SCENARIOS).
//
// Each benchmark is a module exporting { name, title, run(ctx) } whose run resolves to a result
// in the shared format (makeResult in common.mjs), and optionally `builds`, the [dir, workspace]
// pairs of packages it uses from their dist (default: the emulator). To add one, write
// bench/<name>.mjs and list it in BENCHMARKS.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BENCH_DIR,
  RESULTS_DIR,
  ROOT,
  TRIAL_DIR,
  cpuBusy,
  ensureBuilt,
  markdownTable,
  readResults,
} from './common.mjs';

/** Benchmark modules, relative to bench/. */
const BENCHMARKS = [
  'emulator.mjs',
  'emulator-reads.mjs',
  'library-overhead.mjs',
  'library-startup.mjs',
  'cli-startup.mjs',
  'outbox-delivery.mjs',
  'outbox-operating.mjs',
  'queue-delivery.mjs',
];

/**
 * No single benchmark may run longer than this (or its own `timeoutMs` export, for one that must
 * wait out several rate windows), so the whole run is bounded too.
 */
const PER_BENCHMARK_TIMEOUT_MS = 5 * 60_000;

const OPTIONS = ['--quick', '--profile', '--no-build', '--help'];
const argv = process.argv.slice(2);
const flags = new Set(argv.filter((a) => a.startsWith('--')));
const only = argv.filter((a) => !a.startsWith('--'));
for (const f of flags) {
  if (!OPTIONS.includes(f)) {
    console.error(`unknown option ${f}; known: ${OPTIONS.join(' ')}`);
    process.exit(2);
  }
}
if (flags.has('--help')) {
  console.log('node bench/run.mjs [name...] [--quick] [--profile] [--no-build]');
  process.exit(0);
}
// A benchmark of another build (bench/emulator-server.mjs) is a comparison, not a result either.
const trial =
  flags.has('--quick') ||
  flags.has('--profile') ||
  Boolean(process.env.B24NOTIFY_BENCH_EMULATOR) ||
  Boolean(process.env.B24NOTIFY_BENCH_QUEUE) ||
  Boolean(process.env.B24NOTIFY_BENCH_SCENARIOS);

/**
 * Workspaces a benchmark module benchmarks from their dist (its `builds` export: [dir, workspace]
 * pairs); the emulator when it says nothing.
 */
const DEFAULT_BUILDS = [['emulator', '@b24notify/emulator']];

/** Build what the selected benchmarks use when its dist is missing or older than its sources. */
function ensureBuiltFor(modules) {
  const wanted = new Map();
  for (const m of modules)
    for (const [dir, workspace] of m.builds ?? DEFAULT_BUILDS) wanted.set(dir, workspace);
  for (const [dir, workspace] of wanted) ensureBuilt(dir, workspace, { noBuild: flags.has('--no-build') });
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Write JSON atomically, so a reader never sees half a result. */
function writeJson(file, value) {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

async function runOne(bench, outDir) {
  console.log(`\n${bench.name}: ${bench.title}${trial ? ' (trial run)' : ''}`);
  // Other work on the machine skews every number; the result says so.
  const busyBefore = Math.round((await cpuBusy(1000)) * 100);
  const loadBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const busy = busyBefore > 15;
  if (busy)
    console.warn(`  warning: the CPUs were ${busyBefore}% busy before the run: the machine is not idle`);
  const result = await withTimeout(
    bench.run({
      quick: flags.has('--quick'),
      profile: flags.has('--profile'),
      noBuild: flags.has('--no-build'),
      profileDir: path.join(TRIAL_DIR, 'profiles'),
      log: (line) => console.log(line),
    }),
    bench.timeoutMs ?? PER_BENCHMARK_TIMEOUT_MS,
    bench.name,
  );
  result.machine.cpuBusyPercentBefore = busyBefore;
  result.machine.loadAverageBefore = loadBefore;
  if (trial)
    result.notes.push(
      'Trial run (--quick, --profile or another build): not comparable with regular results.',
    );
  if (busy) {
    result.notes.push(
      `The machine was busy before the run (CPUs ${busyBefore}% busy, load average ${loadBefore.join(' / ')} on ${os.cpus().length} CPUs): the numbers may be skewed.`,
    );
  }
  const file = path.join(outDir, `${bench.name}.json`);
  writeJson(file, result);
  console.log(
    `  → ${trial ? file : path.relative(ROOT, file)} (${result.met ? 'target met' : 'target NOT met'})`,
  );
  for (const note of result.notes) console.log(`  note: ${note}`);
  if (result.profile) {
    console.log(`  CPU profile ${result.profile.file}; top self time:`);
    for (const row of result.profile.top.slice(0, 15))
      console.log(`    ${String(row.selfPercent).padStart(5)}%  ${row.fn}`);
  }
  return result;
}

async function main() {
  const outDir = trial ? TRIAL_DIR : RESULTS_DIR;
  mkdirSync(outDir, { recursive: true });
  const modules = [];
  for (const spec of BENCHMARKS) modules.push(await import(pathToFileURL(path.join(BENCH_DIR, spec)).href));
  const selected = only.length > 0 ? modules.filter((m) => only.includes(m.name)) : modules;
  if (selected.length === 0) {
    console.error(`no benchmark named ${only.join(', ')}; known: ${modules.map((m) => m.name).join(', ')}`);
    return 2;
  }
  ensureBuiltFor(selected);

  let failures = 0;
  const fresh = [];
  for (const bench of selected) {
    try {
      fresh.push(await runOne(bench, outDir));
    } catch (err) {
      failures += 1;
      console.error(`  ${bench.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  if (trial) {
    console.log(`\n${markdownTable(fresh)}`);
  } else {
    const table = markdownTable(readResults(RESULTS_DIR));
    writeFileSync(path.join(RESULTS_DIR, 'README.md'), table);
    console.log(`\n${table}`);
  }
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
