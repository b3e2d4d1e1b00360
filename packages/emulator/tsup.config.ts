import { copyFile, mkdir } from 'node:fs/promises';
import { defineConfig } from 'tsup';

/** Files of the inbox page copied as they are, next to the bundled script. */
const UI_STATIC = ['index.html', 'styles.css', 'favicon.svg'];

export default defineConfig([
  {
    entry: ['src/index.ts', 'src/cli.ts', 'src/testing.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    // The inbox build below runs alongside and owns dist/ui.
    clean: ['!ui/**'],
    shims: true,
    target: 'node20',
    tsconfig: 'tsconfig.json',
  },
  {
    // The inbox page: one browser script, no framework, served by src/inbox.ts.
    entry: { app: 'ui/app.ts' },
    outDir: 'dist/ui',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    clean: true,
    dts: false,
    tsconfig: 'ui/tsconfig.json',
    outExtension: () => ({ js: '.js' }),
    async onSuccess() {
      await mkdir('dist/ui', { recursive: true });
      await Promise.all(UI_STATIC.map((name) => copyFile(`ui/${name}`, `dist/ui/${name}`)));
    },
  },
]);
