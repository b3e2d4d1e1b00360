/**
 * `npm run demo`, one of the two commands the README starts with: it must keep working. Runs
 * scripts/demo.mjs as a process (with --exit, as on a non-terminal) and checks what it says.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const DEMO = fileURLToPath(new URL('../../../scripts/demo.mjs', import.meta.url));

test('npm run demo sends the OPI example and delivers a bulk through the outbox', async () => {
  const child = spawn(process.execPath, [DEMO, '--exit'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => child.once('close', resolve));
  expect(out).toMatch(/^Result\n\{\n {2}"result": 1,\n {2}"time": \{/);
  expect(out).toMatch(/Notification 1 is stored in the emulator/);
  expect(out).toMatch(
    /Bulk: 500 notifications delivered through the outbox in 10 batches \(\d+ ms\), 0 failed; requests the portal refused for its limits: 0\./,
  );
  expect(code).toBe(0);
}, 60_000);
