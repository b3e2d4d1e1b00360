import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/opi.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
  esbuildOptions(options, context) {
    // In the CommonJS build a lazy import() of a built-in becomes a lazy require(), which does
    // not start Node's ESM loader in a CommonJS program.
    if (context.format === 'cjs') options.supported = { ...options.supported, 'dynamic-import': false };
  },
});
