/**
 * Running the built `b24notify` binary as a child process against an emulator started in the
 * test process. Each run gets a clean environment: no B24_* variables from the developer's
 * shell, and a config file in a temporary directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '@b24notify/emulator';

/** The built binary (the root `npm test` builds first). */
export const BIN = fileURLToPath(new URL('../bin/b24notify.cjs', import.meta.url));

/** What a run printed and how it exited. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, for "never appears anywhere" checks. */
  all: string;
}

/** How to run the binary. */
export interface RunOptions {
  /** Variables added to the clean environment; undefined removes one. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string;
  cwd?: string;
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'b24notify-cli-'): string {
  return mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), prefix));
}

/** A home for one test file: its own HOME and config file path. */
export function sandbox(): { dir: string; config: string; env: Record<string, string> } {
  const dir = tempDir();
  const config = join(dir, 'config', 'config.json');
  return { dir, config, env: { HOME: dir, B24NOTIFY_CONFIG: config } };
}

/** Where runs keep HOME and the config file unless a test says otherwise: never the real ones. */
const defaultHome = sandbox();

/** Run `b24notify args…` and collect its output. */
export function run(args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const merged = { PATH: process.env.PATH ?? '', ...defaultHome.env, ...options.env };
  const env = Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      cwd: options.cwd ?? process.cwd(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, all: stdout + stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Parse a run's stdout as JSON, with the output in the message when it is not JSON. */
export function json<T = Record<string, unknown>>(result: RunResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** An emulator with no limits, on plain http on 127.0.0.1 (the library allows http to loopback). */
export function emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ ...options, portal: { plan: 'off', ...options.portal } });
}

/** The webhook code of an emulator: the secret that must never be printed. */
export function webhookCode(emu: RunningEmulator): string {
  const code = /\/rest\/\d+\/([^/]+)\//.exec(emu.webhookUrl)?.[1];
  if (!code) throw new Error(`no code in ${emu.webhookUrl}`);
  return code;
}

/** Call the emulator's control API. */
export async function control(
  emu: RunningEmulator,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${emu.url}/_emulator/api${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
}
