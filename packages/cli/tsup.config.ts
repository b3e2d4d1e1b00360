import { defineConfig } from 'tsup';

export default defineConfig({
  // Every command is its own entry, so the binary loads only the command that runs; code they
  // share (the library included, inlined so a start resolves no package) sits in chunks.
  entry: ['src/main.ts', 'src/commands/*.ts'],
  format: ['esm'],
  splitting: true,
  noExternal: ['b24notify'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
});
