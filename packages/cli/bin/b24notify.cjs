#!/usr/bin/env node
// Starts the CLI, which is all in dist/main.cjs (one CommonJS bundle: no ESM loader at start).
//
// It also keeps a V8 code cache of that bundle for the user, as Node 22's
// module.enableCompileCache() does (Node 20 has no such switch). Without it every run parses the
// 160 KB bundle and compiles each function the command calls: about a third of what a `send`
// costs beyond a bare Node start (bench/cli-startup.mjs). V8 caches only the functions that ran,
// so there is one cache per command. The key is the build id that the build appends to the bundle
// (V8 itself checks only the source's length), the Node version and the architecture.
// B24NOTIFY_COMPILE_CACHE=0 turns it off. Any failure here falls back to a plain require.
'use strict';
const fs = require('fs');
const path = require('path');

const BUNDLE = path.join(__dirname, '..', 'dist', 'main.cjs');
/** The build appends this line and 16 hex digits of the bundle's SHA-256 (tsup.config.ts). */
const BUILD_MARK = '\n// b24notify-build: ';
/** Caches of other builds are removed once this old, so two installed versions do not thrash. */
const STALE_MS = 7 * 24 * 60 * 60 * 1000;

function cacheDir(env) {
  if (env.B24NOTIFY_COMPILE_CACHE === '0') return undefined;
  // As the XDG spec says, a relative XDG_CACHE_HOME is ignored.
  const xdg = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : '';
  const base =
    xdg || (process.platform === 'win32' ? env.LOCALAPPDATA : env.HOME && path.join(env.HOME, '.cache'));
  return base && path.isAbsolute(base) ? path.join(base, 'b24notify', 'compile-cache') : undefined;
}

/** The first argument names the command; anything else (flags, typos) shares one cache. */
function commandKey(first) {
  if (first === '--version' || first === '-v') return 'version';
  return typeof first === 'string' && /^[a-z][a-z0-9]{0,23}$/.test(first) ? first : 'other';
}

function save(dir, file, build, script) {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    // A rename is atomic: a run started meanwhile reads the old cache or the new, never half.
    fs.renameSync(tmp, file);
    const now = Date.now();
    for (const name of fs.readdirSync(dir)) {
      const other = path.join(dir, name);
      if (!name.startsWith(`${build}-`) && now - fs.statSync(other).mtimeMs > STALE_MS) {
        fs.rmSync(other, { force: true });
      }
    }
  } catch {
    // A read-only or full disk only means the next run compiles again.
  }
}

function load() {
  const dir = cacheDir(process.env);
  if (dir === undefined) return require(BUNDLE);
  let source;
  try {
    source = fs.readFileSync(BUNDLE, 'utf8');
  } catch {
    return require(BUNDLE);
  }
  const at = source.lastIndexOf(BUILD_MARK);
  const build = at < 0 ? '' : source.slice(at + BUILD_MARK.length, at + BUILD_MARK.length + 16);
  if (!/^[0-9a-f]{16}$/.test(build)) return require(BUNDLE);
  const file = path.join(
    dir,
    `${build}-${process.version}-${process.arch}-${commandKey(process.argv[2])}.bin`,
  );
  let cachedData;
  try {
    cachedData = fs.readFileSync(file);
  } catch {
    cachedData = undefined;
  }
  const { Script } = require('vm');
  const { createRequire } = require('module');
  // The same wrapper and arguments as Node's own CommonJS loader gives a module.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, {
    filename: BUNDLE,
    cachedData,
  });
  const mod = { exports: {}, filename: BUNDLE, id: BUNDLE, loaded: false };
  script
    .runInThisContext()
    .call(mod.exports, mod.exports, createRequire(BUNDLE), mod, BUNDLE, path.dirname(BUNDLE));
  mod.loaded = true;
  if (cachedData === undefined || script.cachedDataRejected) {
    // After the run, so the cache holds the functions the command compiled; only after a
    // successful one, so mistyped commands leave nothing behind.
    process.once('exit', (code) => {
      if (code === 0) save(dir, file, build, script);
    });
  }
  return mod.exports;
}

load().main();
