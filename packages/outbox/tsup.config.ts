import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // No source maps: see "What the tarballs hold" in DEVELOPERS.md.
  sourcemap: false,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
  // The library and SQLite are dependencies, resolved by the user's install, never inlined.
  external: ['b24notify', 'better-sqlite3'],
});
