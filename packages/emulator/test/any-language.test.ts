/**
 * `docs/any-language.md`, run as written: the shell script (curl, `npx b24notify-emulator`) in
 * a project folder that has the emulator installed, and the Python and PHP examples (their
 * standard libraries only; `scripts/system-deps.sh` installs python3 and php-cli) against an
 * emulator started here. Each must exit 0 and print its "ok" line.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/index.js';

const GUIDE = readFileSync(new URL('../docs/any-language.md', import.meta.url), 'utf8');
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The fenced block after `<!-- example: NAME -->`. */
function example(name: string): string {
  const m = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(GUIDE);
  if (!m) throw new Error(`docs/any-language.md has no example "${name}"`);
  return m[1] as string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a program in its own process group, so whatever it starts is ended with it. */
function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // A bound on a hung example, not a timed assertion: the examples wait for state.
    const guard = setTimeout(() => process.kill(-(child.pid as number), 'SIGKILL'), 120_000);
    child.on('error', reject);
    let exitCode: number | null = null;
    child.on('exit', (code) => {
      exitCode = code;
      // Anything the example left running would hold its output open: end its group.
      try {
        process.kill(-(child.pid as number), 'SIGTERM');
      } catch {
        // The group is gone already: nothing was left running.
      }
    });
    child.on('close', () => {
      clearTimeout(guard);
      resolve({ code: exitCode, stdout, stderr });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const scratch = (): string => mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24emu-any-'));

describe('the shell script in CI', () => {
  test('starts with npx, waits for the port, sends and asserts with curl', { timeout: 180_000 }, async () => {
    // A project with the emulator installed, as `npm install -D @b24notify/emulator` leaves it.
    const dir = scratch();
    writeFileSync(join(dir, 'package.json'), '{"name": "ci-sample", "private": true}\n');
    mkdirSync(join(dir, 'node_modules/@b24notify'), { recursive: true });
    mkdirSync(join(dir, 'node_modules/.bin'));
    symlinkSync(PACKAGE_DIR, join(dir, 'node_modules/@b24notify/emulator'));
    symlinkSync(
      '../@b24notify/emulator/bin/b24notify-emulator.js',
      join(dir, 'node_modules/.bin/b24notify-emulator'),
    );
    writeFileSync(join(dir, 'ci.sh'), example('sh'));
    const port = await freePort();
    const result = await run('bash', ['ci.sh'], dir, { PORT: String(port), npm_config_offline: 'true' });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^ok: "total":1$/m);
    // The script's own trap stopped the emulator (setsid puts it out of this test's group).
    const listening = (): Promise<boolean> =>
      fetch(`http://127.0.0.1:${port}/_emulator/api/clock`).then(
        () => true,
        () => false,
      );
    await expect.poll(listening, { timeout: 60_000 }).toBe(false);
  });
});

describe('Python and PHP', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ portal: { plan: 'off' } });
  });
  afterAll(() => emu.close());

  test.each([
    ['python3', 'python', 'example.py'],
    ['php', 'php', 'example.php'],
  ])('%s runs its example with the standard library', { timeout: 180_000 }, async (command, name, file) => {
    const dir = scratch();
    writeFileSync(join(dir, file), example(name));
    const result = await run(command, [file], dir, { EMU: emu.url, WEBHOOK: emu.webhookUrl });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^ok \d+$/m);
  });
});
