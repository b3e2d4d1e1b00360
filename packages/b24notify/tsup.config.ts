import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/opi.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // No source maps: see "What the tarballs hold" in DEVELOPERS.md.
  sourcemap: false,
  clean: true,
  target: 'node20',
  tsconfig: 'tsconfig.json',
  esbuildOptions(options, context) {
    // In the CommonJS build a lazy import() of a built-in becomes a lazy require(), which does
    // not start Node's ESM loader in a CommonJS program.
    if (context.format === 'cjs') {
      options.supported = { ...options.supported, 'dynamic-import': false };
      // Node finds a CommonJS module's named exports for `import` by scanning its text
      // (cjs-module-lexer), which does not read \u escapes: with esbuild's default ASCII output
      // the OPI layer's Russian names were invisible to ESM importers of the CommonJS build.
      options.charset = 'utf8';
    }
  },
});
