/**
 * Done when: a project outside the workspace installs the packed emulator (`npm pack`), and a
 * vitest test and a jest test using `@b24notify/emulator/testing` pass; a deliberately wrong
 * expectation fails in both with a message naming what arrived instead. Needs `npm run build`
 * (the pack holds `dist`); the install takes the emulator's two dependencies from the npm cache
 * or registry, without install scripts (better-sqlite3 is only loaded with `--data`). The
 * runners are the workspace's own vitest and jest (devDependencies), run on the sample's files.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const ROOT_MODULES = fileURLToPath(new URL('../../../node_modules/', import.meta.url));
const VITEST = join(ROOT_MODULES, 'vitest/vitest.mjs');
const JEST = join(ROOT_MODULES, 'jest/bin/jest.js');

interface Run {
  code: number;
  output: string;
}

/** The child's environment: this run's, less what would make a nested vitest think it is a worker. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^VITEST|^JEST|^NODE_OPTIONS$/.test(k)) env[k] = v;
  return { ...env, CI: 'true', FORCE_COLOR: '0', NO_COLOR: '1' };
}

/** Run to the end, bounded: a hung install or runner fails the test instead of the suite. */
function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: childEnv(), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

const TEST_BODY = `
expect.extend(b24Matchers);

let emu;
beforeAll(async () => {
  emu = await startEmulator({ portal: { plan: 'off' } });
});
afterAll(() => emu.close());

async function send(params) {
  const res = await fetch(emu.webhookUrl + 'im.notify.personal.add', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
  if (res.status !== 200) throw new Error(await res.text());
}

test('the invoice reminder reaches user 5', async () => {
  await send({ USER_ID: 5, MESSAGE: 'Invoice 7 paid', TAG: 'invoice-7' });
  await emu.waitFor('user:5 tag:invoice-*', { timeout: 30000 });
  await expect(emu).toHaveNotified({ user: 5, text: 'paid', tag: 'invoice-*' });
  await expect(emu).toHaveNotified('user:5 is:unread');
  await expect(emu.url).toHaveNoNotificationsFor(3);
  await expect(emu).toHaveReceived('im.notify.personal.add', 1);
  await expect(emu).toEventuallyHaveNotified({ user: 5, text: 'invoice 7' }, { timeout: 30000 });
});
`;

const WRONG_BODY = `
expect.extend(b24Matchers);

test('a wrong expectation', async () => {
  const emu = await startEmulator({ portal: { plan: 'off' } });
  try {
    await fetch(emu.webhookUrl + 'im.notify.personal.add', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ USER_ID: 5, MESSAGE: 'Invoice 8 overdue', TAG: 'invoice-8' }),
    });
    await expect(emu).toHaveNotified({ user: 5, text: 'paid' });
  } finally {
    await emu.close();
  }
});
`;

const ESM = `import { startEmulator } from '@b24notify/emulator';
import { b24Matchers } from '@b24notify/emulator/testing';
`;
const CJS = `const { startEmulator } = require('@b24notify/emulator');
const { b24Matchers } = require('@b24notify/emulator/testing');
`;

let sample: string;

beforeAll(async () => {
  sample = mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24emu-sample-'));
  const packed = await run('npm', ['pack', '--pack-destination', sample], PACKAGE_DIR);
  expect(packed.code, packed.output).toBe(0);
  const tarball = readdirSync(sample).find((f) => f.endsWith('.tgz'));
  expect(tarball, packed.output).toBeDefined();
  writeFileSync(
    join(sample, 'package.json'),
    JSON.stringify({ name: 'sample', private: true, jest: { transform: {}, testEnvironment: 'node' } }),
  );
  const installed = await run(
    'npm',
    ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', `./${tarball}`],
    sample,
  );
  expect(installed.code, installed.output).toBe(0);
  writeFileSync(join(sample, 'notify.vitest.test.mjs'), ESM + TEST_BODY);
  writeFileSync(join(sample, 'notify.jest.test.cjs'), CJS + TEST_BODY);
  writeFileSync(join(sample, 'wrong.vitest.test.mjs'), ESM + WRONG_BODY);
  writeFileSync(join(sample, 'wrong.jest.test.cjs'), CJS + WRONG_BODY);
}, 600_000);

const vitest = (pattern: string) =>
  run('node', [VITEST, 'run', '--globals', '--root', sample, pattern], sample);
const jest = (pattern: string) => run('node', [JEST, '--rootDir', sample, '--ci', pattern], sample);

/** What a wrong expectation must say: the expectation, and the notification that did arrive. */
const NAMES_WHAT_ARRIVED =
  /expected a notification matching user:5 text:paid, but none matched; it holds 1; the closest:\s+#1 to user 5, personal, tag "invoice-8", unread: "Invoice 8 overdue" \(differs in: text:paid\)/;

describe('a project that installed the packed emulator', () => {
  test('its vitest test passes', { timeout: 300_000 }, async () => {
    const result = await vitest('notify.vitest');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Tests\s+1 passed/);
  });

  test('its jest test passes', { timeout: 300_000 }, async () => {
    const result = await jest('notify.jest');
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Tests:\s+1 passed/);
  });

  test('a wrong expectation fails under vitest, naming what arrived', { timeout: 300_000 }, async () => {
    const result = await vitest('wrong.vitest');
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(NAMES_WHAT_ARRIVED);
  });

  test('a wrong expectation fails under jest, naming what arrived', { timeout: 300_000 }, async () => {
    const result = await jest('wrong.jest');
    expect(result.code).not.toBe(0);
    expect(result.output).toMatch(NAMES_WHAT_ARRIVED);
  });
});
