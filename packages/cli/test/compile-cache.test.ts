/**
 * The code cache that bin/b24notify.cjs keeps under XDG_CACHE_HOME: written after a successful
 * run, private to the user, used by the next run, and never a reason for a run to fail.
 */
import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BIN, emulator, run, tempDir } from './support.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(() => emu.close());

const BUNDLE = join(BIN, '..', '..', 'dist', 'main.cjs');

/** The build id the build stamps on the bundle, which names every cache file of this build. */
function buildId(): string {
  const id = /\n\/\/ b24notify-build: ([0-9a-f]{16})\n$/.exec(readFileSync(BUNDLE, 'utf8'))?.[1];
  if (!id) throw new Error(`${BUNDLE} has no build id: was it built by its tsup config?`);
  return id;
}

/** A fresh cache home and the folder the CLI keeps its cache in under it. */
function cacheHome(): { env: Record<string, string>; dir: string } {
  const home = tempDir('b24notify-cache-');
  return { env: { XDG_CACHE_HOME: home }, dir: join(home, 'b24notify', 'compile-cache') };
}

function send(env: Record<string, string>) {
  return run(['send', '--webhook', emu.webhookUrl, '--user', '1', '--text', 'cached', '--quiet'], {
    env,
  });
}

describe('the compile cache', () => {
  test('a successful run writes a private cache for its command; the next run uses it', async () => {
    const { env, dir } = cacheHome();
    const first = await send(env);
    expect(first.code, first.stderr).toBe(0);
    const name = `${buildId()}-${process.version}-${process.arch}-send.bin`;
    expect(readdirSync(dir)).toEqual([name]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
    const written = statSync(join(dir, name)).mtimeMs;

    const second = await send(env);
    expect(second.code, second.stderr).toBe(0);
    expect(Number(second.stdout)).toBe(Number(first.stdout) + 1);
    // Accepted by V8, so not written again.
    expect(statSync(join(dir, name)).mtimeMs).toBe(written);

    const version = await run(['--version'], { env });
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(readdirSync(dir).sort()).toEqual([name, name.replace('-send.bin', '-version.bin')].sort());
  });

  test('a failed run leaves no cache behind', async () => {
    const { env, dir } = cacheHome();
    const typo = await run(['sned', '--user', '1'], { env });
    expect(typo.code).toBe(1);
    const bad = await run(['send', '--user', 'x', '--text', 'y'], { env });
    expect(bad.code).toBe(2);
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });

  test('a damaged cache is replaced, and the run does not notice', async () => {
    const { env, dir } = cacheHome();
    expect((await send(env)).code).toBe(0);
    const file = join(dir, readdirSync(dir).join());
    const size = statSync(file).size;
    writeFileSync(file, Buffer.alloc(size, 0x5a));
    const r = await send(env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(file).equals(Buffer.alloc(size, 0x5a))).toBe(false);
  });

  test('B24NOTIFY_COMPILE_CACHE=0 turns it off', async () => {
    const { env, dir } = cacheHome();
    const r = await send({ ...env, B24NOTIFY_COMPILE_CACHE: '0' });
    expect(r.code, r.stderr).toBe(0);
    expect(() => readdirSync(dir)).toThrow(/ENOENT/);
  });

  test('a cache folder that cannot be written only means no cache', async () => {
    const home = tempDir('b24notify-cache-');
    // XDG_CACHE_HOME names a file, so the folder cannot be made under it.
    const file = join(home, 'not-a-folder');
    writeFileSync(file, '');
    const r = await send({ XDG_CACHE_HOME: file });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    // A relative XDG_CACHE_HOME is ignored, as the XDG spec says: HOME/.cache, not the cwd.
    const cwd = tempDir('b24notify-cwd-');
    const rel = await run(
      ['send', '--webhook', emu.webhookUrl, '--user', '1', '--text', 'cached', '--quiet'],
      { env: { XDG_CACHE_HOME: 'cache', HOME: home }, cwd },
    );
    expect(rel.code, rel.stderr).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    expect(readdirSync(join(home, '.cache', 'b24notify', 'compile-cache'))).toHaveLength(1);
  });

  test("caches of other builds are removed once a week old; this build's are kept", async () => {
    const { env, dir } = cacheHome();
    expect((await send(env)).code).toBe(0);
    const old = join(dir, `0123456789abcdef-${process.version}-${process.arch}-send.bin`);
    const recent = join(dir, `fedcba9876543210-${process.version}-${process.arch}-send.bin`);
    writeFileSync(old, 'old');
    writeFileSync(recent, 'recent');
    const eightDaysAgo = (Date.now() - 8 * 24 * 60 * 60 * 1000) / 1000;
    utimesSync(old, eightDaysAgo, eightDaysAgo);
    // Only a write prunes: a run with a new command writes its cache.
    expect((await run(['--version'], { env })).code).toBe(0);
    const names = readdirSync(dir);
    expect(names).not.toContain(`0123456789abcdef-${process.version}-${process.arch}-send.bin`);
    expect(names).toContain(`fedcba9876543210-${process.version}-${process.arch}-send.bin`);
    expect(names.filter((n) => n.startsWith(buildId()))).toHaveLength(2);
  });
});
