// Shared pieces of the benchmarks: the result format, machine facts, statistics, and a child
// process that is always cleaned up. Every benchmark module exports
//   { name, title, run(ctx) }  where run resolves to a result made by makeResult().
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(BENCH_DIR);
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
/** Where trial runs (--quick, --profile) and CPU profiles go: not into the repository. */
export const TRIAL_DIR = path.join(os.tmpdir(), 'b24notify-bench');
/** The local CA and certificate of an HTTPS emulator (bench/emulator-server.mjs): temporary too. */
export const TLS_DIR = path.join(TRIAL_DIR, 'tls');

/** Newest modification time under a directory. */
export function newest(dir) {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(full) : statSync(full).mtimeMs);
  }
  return t;
}

/**
 * Build packages/<dir> (workspace `workspace`) when its dist/index.js is missing or older than
 * its sources. A failed build falls back to the dist that is there, with a warning.
 * @returns {{ built: boolean, failed?: boolean }}
 */
export function ensureBuilt(dir, workspace, { noBuild = false, log = (line) => console.log(line) } = {}) {
  const pkg = path.join(ROOT, 'packages', dir);
  const dist = path.join(pkg, 'dist', 'index.js');
  const stale = !existsSync(dist) || statSync(dist).mtimeMs < newest(path.join(pkg, 'src'));
  if (!stale || noBuild) return { built: false };
  log(`building ${workspace}…`);
  const r = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build', '-w', workspace], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 180_000,
  });
  if (r.status === 0) return { built: true };
  if (!existsSync(dist))
    throw new Error(`the build of ${workspace} failed and there is no dist to benchmark`);
  console.warn(`build of ${workspace} failed; benchmarking the dist that is there`);
  return { built: false, failed: true };
}

/** What the machine is, for comparing results across runs. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model?.trim() ?? 'unknown',
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
  };
}

/** Machine-wide CPU time so far, in ms: busy (not idle) and total, summed over all CPUs. */
export function machineCpu() {
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/**
 * How busy the CPUs are right now, 0…1, sampled over `ms`: other work on the machine skews any
 * benchmark, and the load average lags too much to tell.
 */
export async function cpuBusy(ms = 1000) {
  const before = machineCpu();
  await sleep(ms);
  const after = machineCpu();
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/**
 * CPU time (ms) of this process's children that have exited and been reaped (Linux: cutime and
 * cstime of /proc/self/stat); null where that is not available.
 */
export function reapedChildrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // cutime and cstime are fields 16 and 17 of the whole line, in clock ticks (100 per second).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return null;
  }
}

/**
 * Watch how much CPU other processes take while a benchmark runs. stop(ownChildrenMs) answers
 * the percentage of the machine's CPU capacity used by anything but this process, its exited
 * children and `ownChildrenMs` (CPU of live children, such as an emulator, that the caller knows).
 */
export function startCpuWatch() {
  const machine = machineCpu();
  const self = process.cpuUsage();
  const reaped = reapedChildrenCpuMs();
  return {
    stop(ownChildrenMs = 0) {
      const m = machineCpu();
      const s = process.cpuUsage(self);
      const r = reapedChildrenCpuMs();
      const ownMs =
        (s.user + s.system) / 1000 + (r !== null && reaped !== null ? r - reaped : 0) + ownChildrenMs;
      const capacity = m.total - machine.total;
      return capacity > 0
        ? Math.max(0, Math.round((100 * (m.busy - machine.busy - ownMs)) / capacity))
        : null;
    },
  };
}

/** The commit benchmarked, and whether the working tree differed from it. */
export function revision() {
  const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return { commit: null, dirty: null };
  const status = git('status', '--porcelain', '--', 'packages');
  return { commit: head.stdout.trim(), dirty: status.status === 0 ? status.stdout.trim() !== '' : null };
}

/** The median of a list of numbers (the mean of the middle two for an even count). */
export function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile (p from 0 to 100). */
export function percentile(values, p) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Run `node args…` once from the repository root; resolve its wall time (spawn to exit, so the
 * pipes closing later does not count) and what it printed. Rejects, naming `label`, when it
 * exits other than 0 or outlives `timeoutMs` (then it is killed).
 */
export function spawnTimed(args, { env, label, timeoutMs = 30_000 }) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let wallMs;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', () => {
      wallMs = performance.now() - t0;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${label} exited ${code ?? signal}: ${stderr.trim().slice(-500)}`));
      else resolve({ wallMs, stdout: stdout.trim(), stderr: stderr.trim() });
    });
  });
}

/**
 * A note for the runs during which other processes took over 10% of the CPUs (the
 * `otherCpuPercent` that startCpuWatch measures), or undefined when there were none.
 * `consequence` says what that does to this benchmark's numbers.
 */
export function contentionNote(runs, unit, consequence) {
  const contended = runs.filter((r) => (r.otherCpuPercent ?? 0) > 10);
  if (contended.length === 0) return undefined;
  return (
    `Other processes took over 10% of the CPUs during ${contended.length} of ${runs.length} ${unit} ` +
    `(otherCpuPercent up to ${Math.max(...contended.map((r) => r.otherCpuPercent))}%): ${consequence}`
  );
}

/** Round to `digits` decimals. */
export function round(value, digits = 2) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * The one result format every benchmark writes to bench/results/<name>.json.
 * - runs: one entry per measured run, free-form but flat numbers where possible;
 * - median: the headline numbers, each the median over runs;
 * - target: { text, ...thresholds }; met: whether the medians reach it.
 */
export function makeResult({
  name,
  title,
  config = {},
  runs,
  median: med,
  target,
  met,
  notes = [],
  extra = {},
}) {
  return {
    name,
    title,
    date: new Date().toISOString(),
    node: process.version,
    machine: machineInfo(),
    revision: revision(),
    config,
    runs,
    median: med,
    target,
    met,
    notes,
    ...extra,
  };
}

/** Every stored result, newest format only (files that are not results are skipped). */
export function readResults(dir = RESULTS_DIR) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      if (r && typeof r.name === 'string' && r.median && r.target) out.push(r);
    } catch {
      // A half-written or foreign file is not a result.
    }
  }
  return out;
}

function formatNumber(v) {
  if (typeof v !== 'number') return String(v);
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return String(round(v, 2));
}

/** The Markdown table of all results. */
export function markdownTable(results) {
  const lines = [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (`node bench/run.mjs`); each row is the median over its runs.',
    'Details, per-run numbers and memory are in the JSON file next to this one.',
    '',
    '| Benchmark | Median | Target | Met | Date | Node | Machine |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    const med = Object.entries(r.median)
      .map(([k, v]) => `${k} ${formatNumber(v)}`)
      .join(', ');
    const machine = `${r.machine?.cpus ?? '?'} × ${r.machine?.model ?? '?'}`;
    lines.push(
      `| ${r.title ?? r.name} (\`${r.name}\`) | ${med} | ${r.target?.text ?? ''} | ${r.met ? 'yes' : '**no**'} | ${String(r.date).slice(0, 16).replace('T', ' ')} | ${r.node} | ${machine} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Children still alive; killed on any exit of the runner. */
const children = new Set();

function killAll() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

let hooked = false;
function hookExit() {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/**
 * Fork a Node script with an IPC channel and wait for its first message (`{ type: 'ready' }`
 * plus whatever it reports). The handle's stop() asks it to exit cleanly (so a --cpu-prof
 * profile gets written), and kills it if it does not within `graceMs`.
 */
export async function startChild(
  script,
  { args = [], execArgv = [], env = {}, readyTimeoutMs = 15_000 } = {},
) {
  hookExit();
  const child = fork(script, args, {
    execArgv,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script}: not ready after ${readyTimeoutMs} ms`)),
      readyTimeoutMs,
    );
    child.once('message', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before it was ready (code ${code}, signal ${signal})`));
    });
  }).catch((err) => {
    killAll();
    throw err;
  });

  let seq = 0;
  return {
    child,
    ready,
    /** Ask the child something over IPC: it answers `{ id, ... }`. */
    ask(message, timeoutMs = 10_000) {
      const id = ++seq;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          child.off('message', onMessage);
          reject(new Error(`no answer to ${message.type} in ${timeoutMs} ms`));
        }, timeoutMs);
        function onMessage(msg) {
          if (msg?.id !== id) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(msg);
        }
        child.on('message', onMessage);
        child.send({ ...message, id });
      });
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      if (child.connected) child.send({ type: 'shutdown' });
      const done = await Promise.race([exited, sleep(graceMs).then(() => undefined)]);
      if (done) return done;
      child.kill('SIGKILL');
      return exited;
    },
  };
}

/**
 * Sum a V8 .cpuprofile's samples by function (self time), heaviest first: where the time goes.
 */
export function summarizeCpuProfile(file, top = 20) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  // Samples, when present, are exact; hitCount is the fallback.
  if (Array.isArray(profile.samples) && profile.samples.length > 0) {
    for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  } else {
    for (const n of profile.nodes) counts.set(n.id, n.hitCount ?? 0);
  }
  let total = 0;
  const byFunction = new Map();
  for (const [id, count] of counts) {
    const node = byNode.get(id);
    if (!node) continue;
    total += count;
    const cf = node.callFrame;
    const where = cf.url
      ? `${cf.url.replace(/^file:\/\//, '').replace(ROOT + '/', '')}:${cf.lineNumber + 1}`
      : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  return [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, count]) => ({ fn, selfPercent: round((100 * count) / Math.max(1, total), 1) }));
}
