// What a user gets from the registry, checked before it is published: packs every workspace
// package, installs each tarball alone in an empty folder outside the repository, and uses it
// from there as a user would. Run by .ci/run before the tests; runnable alone:
//
//   node scripts/pack-smoke.mjs [--skip-build] [--keep] [--report FILE] [package ...]
//
// Per package: the tarball's contents (LICENSE, README without relative links, the registry's
// metadata, every file package.json points to); an install of it alone, our other packages coming
// from their tarballs (through `overrides`) and everything else from the registry; ESM import and
// CommonJS require of every export, with the same names both ways and seen from ESM through the
// CommonJS build; a TypeScript consumer compiled under node16 (ESM and CommonJS), bundler and
// node10 resolution; the package's own smoke scripts, `test/pack-smoke/*.mjs|cjs` (the CLI's
// `--help`, the emulator answering on its port, ...) and `test/pack-smoke/*.ts` (compiled with the
// consumer); `npm publish --dry-run` of the tarball. The packages are those of the root
// `workspaces`, so a package added there is checked without changing this file.
//
// Every installation shares one npm cache (`$B24NOTIFY_SMOKE_CACHE`, else a folder under the
// system temp dir that outlives the run), and a native addon built once is put in that cache as
// prebuild-install would have downloaded it, so the next install of it takes seconds instead of
// another compile (better-sqlite3 has no reachable prebuilt binary on an offline machine).
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const TYPE_ROOTS = path.join(ROOT, 'node_modules', '@types');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Upper bounds, never waits: a step that takes longer has hung and fails with its name. */
const LIMIT_MS = { install: 15 * 60_000, step: 3 * 60_000, whole: 40 * 60_000 };

/** The module resolutions a TypeScript user may compile with, each in its own project. */
const TS_MODES = [
  { name: 'node16, ESM', type: 'module', options: { module: 'node16', moduleResolution: 'node16' } },
  { name: 'node16, CommonJS', type: 'commonjs', options: { module: 'node16', moduleResolution: 'node16' } },
  { name: 'bundler', type: 'module', options: { module: 'esnext', moduleResolution: 'bundler' } },
  { name: 'node10', type: 'commonjs', options: { module: 'commonjs', moduleResolution: 'node10' } },
];

const HELP = `pack-smoke: pack every workspace package, install each tarball alone, use it as a user would

Usage: node scripts/pack-smoke.mjs [options] [package ...]

  package          only these packages (names as in package.json); default: every workspace
  --skip-build     use the dist/ folders as they are (CI builds them in npm ci's prepare)
  --keep           keep the scratch folder (its path is printed)
  --report FILE    also write the results as JSON (read by scripts/test-summary.mjs)
`;

const { values: opts, positionals } = (() => {
  try {
    return parseArgs({
      options: {
        'skip-build': { type: 'boolean' },
        keep: { type: 'boolean' },
        report: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (err) {
    process.stderr.write(`pack-smoke: ${err.message}\n\n${HELP}`);
    process.exit(2);
  }
})();
if (opts.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

const started = Date.now();
/** @type {{ package: string, check: string, ok: boolean, detail?: string }[]} */
const results = [];

function record(pkg, check, ok, detail) {
  results.push({ package: pkg, check, ok, ...(detail ? { detail } : {}) });
  const head = `${ok ? 'ok  ' : 'FAIL'} ${pkg}: ${check}`;
  if (!detail) console.log(head);
  else if (ok) console.log(`${head} (${detail.trim().split('\n').join('; ')})`);
  else console.log(`${head}\n${indent(detail)}`);
}

function indent(text) {
  const lines = text.trimEnd().split('\n');
  // The end of a long output is where a failure is explained.
  const shown = lines.length > 40 ? ['…', ...lines.slice(-40)] : lines;
  return shown.map((line) => `       ${line}`).join('\n');
}

/** Processes still running, killed (with their children) if the script is stopped. */
const running = new Set();
function killAll() {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});
process.on('SIGTERM', () => {
  killAll();
  process.exit(143);
});

/**
 * Runs a command to its end, in its own process group so a timeout stops its children too.
 * Resolves with the exit code and output; rejects only if it could not start or ran too long.
 */
function run(command, args, { cwd, env, timeoutMs = LIMIT_MS.step }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
      reject(
        new Error(
          `${command} ${args.join(' ')}: still running after ${timeoutMs / 1000} s, stopped\n${stdout}${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      running.delete(child);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, output: `${stdout}${stderr}` });
    });
  });
}

/** Runs a check: a thrown error or a false result fails it, with the error's text as detail. */
async function check(pkg, name, fn) {
  const start = Date.now();
  try {
    const detail = await fn();
    // The time says where the step's cost goes (an install that compiles SQLite, say).
    const took = `${Math.round((Date.now() - start) / 1000)} s`;
    record(pkg, name, true, typeof detail === 'string' ? `${detail}; ${took}` : took);
    return true;
  } catch (err) {
    record(pkg, name, false, err instanceof Error ? err.message : String(err));
    return false;
  }
}

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The workspace folders in the root's order; `dir/*` patterns are expanded. */
function workspaceDirs() {
  const patterns = readJson(path.join(ROOT, 'package.json')).workspaces ?? [];
  const dirs = [];
  for (const pattern of Array.isArray(patterns) ? patterns : (patterns.packages ?? [])) {
    if (pattern.endsWith('/*')) {
      const parent = path.join(ROOT, pattern.slice(0, -2));
      for (const name of readdirSync(parent).sort()) dirs.push(path.join(parent, name));
    } else {
      dirs.push(path.join(ROOT, pattern));
    }
  }
  return dirs.filter((dir) => existsSync(path.join(dir, 'package.json')));
}

/** Every file a package.json field points to: main, module, types, bin, each export's targets. */
function pointedFiles(pkg) {
  const files = new Set();
  const add = (target) => {
    if (typeof target === 'string') files.add(path.posix.normalize(target.replace(/^\.\//, '')));
    else if (target && typeof target === 'object') Object.values(target).forEach(add);
  };
  add(pkg.main);
  add(pkg.module);
  add(pkg.types);
  add(pkg.bin);
  add(pkg.exports);
  return [...files].filter((file) => !file.includes('*'));
}

/**
 * The subpaths a package exports as modules, as import specifiers. Data files (`./package.json`,
 * `./openapi.json`) are left out: they need an import attribute, and the tarball check already
 * sees that every file an export names is there.
 */
function exportedSpecifiers(pkg) {
  if (pkg.exports === undefined) return pkg.main ? [pkg.name] : [];
  if (typeof pkg.exports === 'string' || !Object.keys(pkg.exports).every((key) => key.startsWith('.'))) {
    return [pkg.name];
  }
  return Object.keys(pkg.exports)
    .filter((key) => !key.endsWith('.json') && !key.includes('*'))
    .map((key) => (key === '.' ? pkg.name : `${pkg.name}/${key.slice(2)}`));
}

function hasTypes(pkg) {
  return JSON.stringify(pkg.exports ?? {}).includes('"types"') || pkg.types !== undefined;
}

/** Markdown links and images that are not absolute: they break on the registry's page. */
function relativeLinks(markdown) {
  const links = [...markdown.matchAll(/!?\[[^\]]*\]\(([^)\s]+)[^)]*\)|^\[[^\]]+\]:\s*(\S+)/gm)].map(
    (m) => m[1] ?? m[2],
  );
  return links.filter((link) => !/^(https?:|mailto:|#)/.test(link));
}

// --- the steps ---------------------------------------------------------------------------------

const scratch = mkdtempSync(path.join(tmpdir(), 'b24notify-pack-smoke-'));
const cache = process.env.B24NOTIFY_SMOKE_CACHE ?? path.join(tmpdir(), 'b24notify-pack-smoke-npm-cache');
mkdirSync(cache, { recursive: true });
const tarballDir = path.join(scratch, 'tarballs');
mkdirSync(tarballDir);
/** npm as every step runs it: the shared cache, no audit or funding chatter, no update check. */
const NPM_ENV = {
  npm_config_cache: cache,
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_prefer_offline: 'true',
};

const overall = setTimeout(() => {
  console.log(`FAIL pack-smoke: still running after ${LIMIT_MS.whole / 60_000} min, stopped`);
  killAll();
  finish(1);
}, LIMIT_MS.whole);

function finish(code) {
  clearTimeout(overall);
  const failed = results.filter((r) => !r.ok).length;
  const passed = results.length - failed;
  if (opts.report) {
    mkdirSync(path.dirname(path.resolve(opts.report)), { recursive: true });
    writeFileSync(opts.report, `${JSON.stringify({ passed, failed, results }, null, 2)}\n`);
  }
  if (opts.keep) console.log(`scratch folder kept: ${scratch}`);
  else rmSync(scratch, { recursive: true, force: true });
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`pack-smoke: ${passed} checks passed, ${failed} failed (${seconds} s)`);
  process.exit(failed > 0 ? 1 : code);
}

const all = workspaceDirs().map((dir) => ({ dir, pkg: readJson(path.join(dir, 'package.json')) }));
const unknown = positionals.filter((name) => !all.some(({ pkg }) => pkg.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `pack-smoke: no workspace package named ${unknown.join(', ')} (they are: ${all.map(({ pkg }) => pkg.name).join(', ')})\n`,
  );
  process.exit(2);
}
const published = all.filter(({ pkg }) => !pkg.private);
const selected = published.filter(({ pkg }) => positionals.length === 0 || positionals.includes(pkg.name));

if (!opts['skip-build']) {
  console.log('building (npm run build) ...');
  const build = await run(NPM, ['run', 'build'], { cwd: ROOT, timeoutMs: LIMIT_MS.install });
  if (build.code !== 0) {
    record('workspace', 'npm run build', false, build.output);
    finish(1);
  }
}

// Pack every published package, selected or not: a selected one may depend on the others.
/** @type {Map<string, { file: string, files: string[] }>} */
const tarballs = new Map();
for (const { dir, pkg } of published) {
  await check(pkg.name, 'npm pack', async () => {
    // --ignore-scripts: the packages' prepack builds them again, which the step above did.
    const packed = await run(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballDir], {
      cwd: dir,
      env: NPM_ENV,
    });
    if (packed.code !== 0) throw new Error(packed.output);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
    tarballs.set(pkg.name, {
      file: path.join(tarballDir, info.filename),
      files: info.files.map((f) => f.path),
    });
    return `${info.filename}, ${(info.size / 1024).toFixed(0)} kB packed, ${info.files.length} files`;
  });
}

for (const { dir, pkg } of selected) {
  const tarball = tarballs.get(pkg.name);
  if (!tarball) continue;
  console.log(`\n${pkg.name}`);
  const name = pkg.name;

  await check(name, 'tarball contents', () => {
    const problems = [];
    for (const file of ['LICENSE', 'README.md', 'package.json']) {
      if (!tarball.files.includes(file)) problems.push(`${file} is not in the tarball`);
    }
    for (const file of pointedFiles(pkg)) {
      if (!tarball.files.includes(file))
        problems.push(`package.json points to ${file}, which is not in the tarball`);
    }
    for (const field of ['license', 'description', 'homepage', 'bugs', 'repository']) {
      if (pkg[field] === undefined) problems.push(`package.json has no "${field}"`);
    }
    if (pkg.repository && !pkg.repository.directory)
      problems.push('package.json "repository" has no "directory"');
    if (name.startsWith('@') && pkg.publishConfig?.access !== 'public') {
      problems.push('a scoped package needs "publishConfig": { "access": "public" } to be published public');
    }
    const readme = path.join(dir, 'README.md');
    if (existsSync(readme)) {
      const links = relativeLinks(readFileSync(readme, 'utf8'));
      if (links.length > 0) {
        problems.push(`README.md has relative links, broken on the registry's page: ${links.join(', ')}`);
      }
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
  });

  // The consumer: an empty project outside the repository that depends on this tarball only.
  const consumer = path.join(scratch, name.replace('@', '').replace('/', '-'));
  mkdirSync(consumer);
  const overrides = Object.fromEntries(
    [...tarballs].filter(([other]) => other !== name).map(([other, { file }]) => [other, `file:${file}`]),
  );
  writeFileSync(
    path.join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'smoke-consumer', version: '1.0.0', private: true, overrides }, null, 2)}\n`,
  );
  const installed = await check(name, 'npm install of the tarball alone', async () => {
    const install = await run(NPM, ['install', tarball.file], {
      cwd: consumer,
      env: NPM_ENV,
      timeoutMs: LIMIT_MS.install,
    });
    if (install.code !== 0) throw new Error(install.output);
    const notes = [];
    const lock = readJson(path.join(consumer, 'package-lock.json'));
    for (const other of tarballs.keys()) {
      if (other === name) continue;
      const entry = lock.packages?.[`node_modules/${other}`];
      if (entry && !String(entry.resolved ?? '').startsWith('file:')) {
        throw new Error(`${other} came from ${entry.resolved ?? 'the registry'}, not from its tarball`);
      }
      if (entry) notes.push(`${other} from its tarball`);
    }
    // What a user sees too: npm 11's notice about install scripts nobody approved (READMEs say why).
    const scripts = install.stderr.match(/^npm warn install-scripts {3}(\S+)/gm);
    if (scripts)
      notes.push(
        `npm notes unapproved install scripts: ${scripts.map((l) => l.split(/\s+/).pop()).join(', ')}`,
      );
    await seedPrebuilds(consumer);
    return notes.length > 0 ? notes.join('; ') : undefined;
  });
  if (!installed) continue;

  const specifiers = exportedSpecifiers(pkg);
  if (specifiers.length > 0) {
    await check(name, `ESM import and CommonJS require (${specifiers.join(', ')})`, () =>
      loadCheck(consumer, specifiers),
    );
  }
  if (hasTypes(pkg) && specifiers.length > 0) {
    const own = smokeFiles(dir, ['.ts']);
    // The compiles run side by side (each mostly checks @types/node, one core each); the results
    // are reported in order. Each outcome is caught at once, so none is an unhandled rejection.
    const compiles = TS_MODES.map((mode) =>
      tsCheck(consumer, specifiers, own, mode).then(
        () => undefined,
        (err) => err,
      ),
    );
    for (const [i, mode] of TS_MODES.entries()) {
      await check(name, `TypeScript consumer, ${mode.name}`, async () => {
        const err = await compiles[i];
        if (err) throw err;
      });
    }
  }
  for (const file of smokeFiles(dir, ['.mjs', '.cjs'])) {
    await check(name, `smoke test ${path.relative(dir, file)}`, async () => {
      const target = path.join(consumer, path.basename(file));
      copyFileSync(file, target);
      const ran = await run(process.execPath, [target], { cwd: consumer, env: NPM_ENV });
      if (ran.code !== 0) throw new Error(ran.output || `exit code ${ran.code}`);
      return ran.stdout.trim().split('\n').pop();
    });
  }
  await check(name, 'npm publish --dry-run', async () => {
    const dry = await run(NPM, ['publish', '--dry-run', tarball.file], { cwd: scratch, env: NPM_ENV });
    if (dry.code !== 0) throw new Error(dry.output);
    // Without a login npm says so even for a dry run; any other warning is about the package.
    const warnings = dry.stderr
      .split('\n')
      .filter((line) => /^npm warn/.test(line) && !/requires you to be logged in/.test(line));
    if (warnings.length > 0) throw new Error(warnings.join('\n'));
  });
}

finish(0);

// --- the checks ----------------------------------------------------------------------------------

/** A package's own smoke tests: `test/pack-smoke/*` with one of these extensions. */
function smokeFiles(dir, extensions) {
  const smoke = path.join(dir, 'test', 'pack-smoke');
  if (!existsSync(smoke)) return [];
  return readdirSync(smoke)
    .filter((file) => extensions.some((ext) => file.endsWith(ext)))
    .sort()
    .map((file) => path.join(smoke, file));
}

/**
 * Imports and requires each specifier in the consumer, and compares the names: the ESM build's,
 * the CommonJS build's, and the CommonJS build's as an ES module sees them (Node finds those by
 * scanning the file's text, so names it cannot see are missing for `import { x }`).
 */
async function loadCheck(consumer, specifiers) {
  const script = path.join(consumer, 'smoke-load.mjs');
  writeFileSync(
    script,
    `import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
const require = createRequire(import.meta.url);
const out = {};
for (const spec of ${JSON.stringify(specifiers)}) {
  const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort();
  const esm = names(await import(spec));
  const cjs = names(require(spec));
  const cjsFromEsm = names(await import(pathToFileURL(require.resolve(spec)).href));
  out[spec] = { esm, cjs, cjsFromEsm };
}
console.log(JSON.stringify(out));
`,
  );
  const ran = await run(process.execPath, [script], { cwd: consumer });
  if (ran.code !== 0) throw new Error(ran.output);
  const seen = JSON.parse(ran.stdout);
  const problems = [];
  for (const [spec, { esm, cjs, cjsFromEsm }] of Object.entries(seen)) {
    const differ = (a, b) => a.filter((n) => !b.includes(n));
    if (esm.length === 0) problems.push(`${spec}: no named exports`);
    for (const n of differ(esm, cjs)) problems.push(`${spec}: "${n}" is exported by import, not by require`);
    for (const n of differ(cjs, esm)) problems.push(`${spec}: "${n}" is exported by require, not by import`);
    for (const n of differ(cjs, cjsFromEsm)) {
      problems.push(`${spec}: "${n}" of the CommonJS build is invisible to ESM importers (cjs-module-lexer)`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return Object.entries(seen)
    .map(([spec, { esm }]) => `${spec}: ${esm.length} names`)
    .join(', ');
}

/**
 * Compiles a consumer that imports every exported specifier, plus the package's own
 * `test/pack-smoke/*.ts`, with the shipped declarations checked too (skipLibCheck off). Node's types
 * come from the repository's @types/node, as a user's project would have its own.
 */
async function tsCheck(consumer, specifiers, own, mode) {
  const project = path.join(consumer, `ts-${mode.name.replace(/\W+/g, '-')}`);
  mkdirSync(project, { recursive: true });
  writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ type: mode.type })}\n`);
  const imports = specifiers.map((spec, i) => `import * as m${i} from '${spec}';`);
  writeFileSync(
    path.join(project, 'imports.ts'),
    `${imports.join('\n')}\nexport const modules: object[] = [${specifiers.map((_, i) => `m${i}`).join(', ')}];\n`,
  );
  for (const file of own) copyFileSync(file, path.join(project, path.basename(file)));
  writeFileSync(
    path.join(project, 'tsconfig.json'),
    `${JSON.stringify(
      {
        compilerOptions: {
          ...mode.options,
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          esModuleInterop: true,
          types: ['node'],
          typeRoots: [TYPE_ROOTS],
        },
        include: ['*.ts'],
      },
      null,
      2,
    )}\n`,
  );
  const ran = await run(process.execPath, [TSC, '-p', project], { cwd: project });
  if (ran.code !== 0) throw new Error(ran.output);
}

/**
 * After an install, puts each native addon that prebuild-install could not download and that was
 * compiled instead into the shared cache, where prebuild-install looks before downloading: later
 * installs of the same version on this machine then skip the compile. With network access
 * prebuild-install has cached the download itself, and this finds it there.
 */
async function seedPrebuilds(consumer) {
  const modules = path.join(consumer, 'node_modules');
  const dirs = readdirSync(modules).flatMap((name) =>
    name.startsWith('@') ? readdirSync(path.join(modules, name)).map((n) => path.join(name, n)) : [name],
  );
  for (const name of dirs) {
    const dir = path.join(modules, name);
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest) || !/^prebuild-install\b/.test(readJson(manifest).scripts?.install ?? ''))
      continue;
    const release = path.join(dir, 'build', 'Release');
    if (!existsSync(release)) continue;
    // prebuild-install names the cache file it would use; offline it fails fast after that.
    let bin;
    try {
      bin = createRequire(manifest).resolve('prebuild-install/bin.js');
    } catch {
      continue;
    }
    const probe = await run(process.execPath, [bin, '--verbose'], { cwd: dir, env: NPM_ENV }).catch(
      () => undefined,
    );
    const cached = probe?.output.match(/looking for cached prebuild @ (\S+)/)?.[1];
    if (!cached || existsSync(cached)) continue;
    // A prebuild holds the one addon the package loads; prebuild-install loads what it unpacks to
    // check it, and a second one (better-sqlite3 also builds test_extension.node) fails that.
    const addons = readdirSync(release).filter((file) => file.endsWith('.node'));
    const own = `${path.basename(name).replace(/-/g, '_')}.node`;
    const addon = addons.includes(own) ? own : addons.length === 1 ? addons[0] : undefined;
    if (addon === undefined) continue;
    mkdirSync(path.dirname(cached), { recursive: true });
    await run('tar', ['-czf', cached, '-C', dir, `build/Release/${addon}`], { cwd: dir });
  }
}
