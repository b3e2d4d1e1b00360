import { copyFile, mkdir } from 'node:fs/promises';
import { defineConfig } from 'tsup';

/** Files of the inbox page copied as they are, next to the bundled script. */
const UI_STATIC = ['index.html', 'styles.css', 'favicon.svg'];

/** The entry points package.json exports (`.` and `./testing`), in both formats, with types. */
const EXPORTED = ['src/index.ts', 'src/testing.ts'];

/** The entry points without the command line, whatever form tsup passes them in. */
function onlyExported(entries: unknown): string[] | Record<string, string> {
  if (Array.isArray(entries)) return entries.filter((e): e is string => EXPORTED.includes(e as string));
  const all = (entries ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(all).filter(([, file]) => EXPORTED.includes(file)));
}

export default defineConfig([
  {
    entry: ['src/index.ts', 'src/cli.ts', 'src/testing.ts'],
    format: ['esm', 'cjs'],
    // The command line is an ES module run by bin/b24notify-emulator.js and no export names it:
    // it needs no CommonJS copy and no types.
    dts: { entry: EXPORTED },
    esbuildOptions(options, context) {
      if (context.format === 'cjs') options.entryPoints = onlyExported(options.entryPoints);
    },
    // No source maps for Node: see "What the tarballs hold" in DEVELOPERS.md.
    sourcemap: false,
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
    // The page's own map, with its TypeScript, stays: the emulator serves it to the browser's
    // developer tools (src/inbox.ts), which can show the sources only if the map carries them.
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
