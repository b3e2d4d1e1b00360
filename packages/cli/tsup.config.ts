import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

const BUNDLE = 'dist/main.cjs';

/**
 * Appends a build id to the bundle: the key of the code cache that bin/b24notify.cjs keeps. V8
 * checks a cache against the source's length only, so the id makes a rebuild of the same length
 * (or an upgrade that npm gives the same file times) start from a fresh cache.
 */
async function stampBuildId(): Promise<void> {
  const source = await readFile(BUNDLE, 'utf8');
  const id = createHash('sha256').update(source).digest('hex').slice(0, 16);
  await writeFile(BUNDLE, `${source.trimEnd()}\n// b24notify-build: ${id}\n`);
}

export default defineConfig({
  // One CommonJS file: a cold start then skips Node's ESM loader and resolves one file instead
  // of a dozen, which is most of what a `send` costs beyond a bare Node start (measured by
  // bench/cli-startup.mjs). Commands stay one per source file and are still loaded lazily:
  // each `import('./commands/x.js')` becomes a wrapper that runs that module only when called.
  entry: ['src/main.ts'],
  format: ['cjs'],
  splitting: false,
  // The library is inlined (one file to load); the emulator, an optional dependency, is not.
  noExternal: ['b24notify'],
  shims: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
  onSuccess: stampBuildId,
  esbuildOptions(options) {
    // No comments or indentation: a quarter less to read at every start, and the bundle is then
    // pure ASCII (esbuild escapes other characters in strings), which V8 keeps as a one-byte
    // string, half the memory of the two-byte string the comments' "…" and "§" would force.
    // Names stay, so a stack trace (B24NOTIFY_STACK=1) still reads; the source map maps it back.
    options.minifyWhitespace = true;
    options.minifySyntax = true;
    // The source map stays (the bundle's positions mean nothing without it), without the sources,
    // two thirds of the tarball: mapped through it a trace names src/<file>.ts:line, which is
    // what a bug report needs (README, "Output", says how to get one).
    options.sourcesContent = false;
    // Lazy imports become lazy require()s, which do not start the ESM loader either.
    options.supported = { ...options.supported, 'dynamic-import': false };
  },
});
