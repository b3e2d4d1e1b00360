import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/opi.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
});
