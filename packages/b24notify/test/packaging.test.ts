// What the built package offers to tools that load it in other ways than ours: ESM importers of
// the CommonJS build, and resolvers that ignore `exports` (TypeScript's node10, old bundlers).
// The whole packed package, installed alone, is checked by scripts/pack-smoke.mjs in CI.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, test } from 'vitest';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

function names(module: object): string[] {
  return Object.keys(module)
    .filter((name) => name !== 'default')
    .sort();
}

describe('the CommonJS build', () => {
  test.each(['index', 'opi'])('dist/%s.cjs shows ESM importers every name it exports', async (entry) => {
    const file = `${PACKAGE}dist/${entry}.cjs`;
    const required = names(require(file) as object);
    const imported = names((await import(pathToFileURL(file).href)) as object);
    expect(required.length).toBeGreaterThan(0);
    expect(imported).toEqual(required);
  });

  test("the OPI layer's Russian names are among them", async () => {
    const opi = (await import(pathToFileURL(`${PACKAGE}dist/opi.cjs`).href)) as Record<string, unknown>;
    expect(typeof opi['СоздатьПерсональноеУведомление']).toBe('function');
    expect(typeof opi['ПолучитьБлокФайла']).toBe('function');
  });
});

describe('b24notify/opi without exports', () => {
  const stub = JSON.parse(readFileSync(`${PACKAGE}opi/package.json`, 'utf8')) as Record<string, string>;
  const pkg = JSON.parse(readFileSync(`${PACKAGE}package.json`, 'utf8')) as { files: string[] };

  test('the opi/ stub points to the built files and is published', () => {
    for (const field of ['main', 'module', 'types']) {
      expect(existsSync(`${PACKAGE}opi/${stub[field]}`), `opi/package.json "${field}"`).toBe(true);
    }
    expect(pkg.files).toContain('opi');
  });
});
