import { defineConfig } from 'tsup';

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
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
  esbuildOptions(options) {
    // Lazy imports become lazy require()s, which do not start the ESM loader either.
    options.supported = { ...options.supported, 'dynamic-import': false };
  },
});
