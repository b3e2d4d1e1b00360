import { defineConfig } from 'tsup';

export default defineConfig({
  // Every command is its own entry, so the binary loads only the command that runs.
  entry: ['src/main.ts', 'src/commands/*.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  splitting: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
});
