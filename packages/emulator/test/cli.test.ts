import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/b24notify-emulator.js', import.meta.url));
const dir = mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24emu-cli-'));

/**
 * How long a child may take to start and answer before the test gives up on it. Only how soon a
 * hung binary is reported: on a busy machine Node alone can take seconds to start, so it is
 * generous, and under the suite's test timeout so the child's output is what a failure shows.
 */
const CHILD_WAIT_MS = 45_000;

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, B24NOTIFY_EMULATOR_HOME: dir },
    timeout: CHILD_WAIT_MS,
  });
}

/** Start the binary, wait for its banner, hand it to `use`, then stop it with SIGTERM. */
async function withRunning(args: string[], use: (banner: string) => Promise<void>): Promise<number | null> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, B24NOTIFY_EMULATOR_HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  // Kept for the failure message: a child that dies before its banner says why on stderr.
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running after the test: the suite must leave no process behind.
      child.kill('SIGKILL');
      reject(new Error(`no banner: ${out}${err}`));
    }, CHILD_WAIT_MS);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Press Ctrl+C')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', (code, signal) => reject(new Error(`exited early (${signal ?? code}): ${out}${err}`)));
  });
  try {
    await use(out);
  } finally {
    child.kill('SIGTERM');
  }
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

// Some tests start the binary four times in a row.
describe('b24notify-emulator command line', { timeout: 4 * CHILD_WAIT_MS }, () => {
  test('prints a webhook URL and OAuth credentials that work, and stops cleanly on SIGTERM', async () => {
    const code = await withRunning(['--port', '0', '--plan', 'off'], async (banner) => {
      const webhook = /Webhook URL:\s+(\S+)/.exec(banner)?.[1];
      const token = /Access token:\s+(\S+)/.exec(banner)?.[1];
      const base = /listening on (\S+)/.exec(banner)?.[1];
      expect(webhook).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rest\/1\/[0-9a-f]+\/$/);
      expect(banner).toMatch(/OAuth client id:\s+local\.\w+/);
      expect(banner).toMatch(/OAuth secret:\s+\w+/);
      expect(banner).toMatch(/Refresh token:\s+\w+/);
      const sent = await fetch(`${webhook}im.notify.personal.add`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ USER_ID: 1, MESSAGE: 'from the CLI test' }),
      });
      expect(((await sent.json()) as { result: unknown }).result).toBe(1);
      const viaToken = await fetch(`${base}/rest/profile?auth=${token}`);
      expect(viaToken.status).toBe(200);
    });
    expect(code).toBe(0);
  });

  test('--https prints the CA path to trust', async () => {
    await withRunning(['--port', '0', '--https'], async (banner) => {
      expect(banner).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/);
      expect(banner).toContain(`CA certificate:   ${join(dir, 'ca.pem')}`);
      expect(banner).toContain('NODE_EXTRA_CA_CERTS=');
    });
  });

  test('--help and --version', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: b24notify-emulator');
    expect(help.stdout).toContain('--config FILE');
    const version = run(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test('bad input gets one clear line naming the option and the fix, exit code 2', () => {
    const cases: [string[], RegExp][] = [
      [['--port', 'abc'], /--port: expected a number from 0 to 65535, got "abc"/],
      [['--plan', 'gold'], /--plan: expected standard, enterprise or off, got "gold"/],
      [['--frobnicate'], /Unknown option '--frobnicate'/],
      [['--config', join(dir, 'missing.json')], /missing\.json: no such file/],
    ];
    for (const [args, message] of cases) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  test('a config file with a mistake names the field', () => {
    const file = join(dir, 'portal.json');
    writeFileSync(
      file,
      JSON.stringify({ users: [{ ID: 1, NAME: 'A' }], webhooks: [{ userId: 7, code: 'abc' }] }),
    );
    const r = run(['--config', file]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('webhooks[0].userId: user 7 is not in "users"');
    writeFileSync(file, '{"plan": "standard", "attachMaxLenght": 10}');
    expect(run(['--config', file]).stderr).toContain('attachMaxLenght: not a portal setting');
    writeFileSync(file, '{not json');
    expect(run(['--config', file]).stderr).toContain('not valid JSON');
  });

  test('--seed starts from a fixture; --deterministic gives the same webhook URL every start', async () => {
    const file = join(dir, 'fixture.json');
    writeFileSync(
      file,
      JSON.stringify({
        format: 'b24notify-emulator/fixture',
        version: 1,
        portals: [
          {
            name: 'default',
            domain: 'localhost',
            users: [{ ID: 1, NAME: 'Anna' }],
            webhooks: [{ userId: 1, scopes: ['im'] }],
            apps: [],
            notifications: [
              { id: 41, userId: 1, type: 'system', message: 'Seeded', read: false, createdAt: 0 },
            ],
            clockMs: 0,
          },
        ],
      }),
    );
    const hooks: string[] = [];
    for (let i = 0; i < 2; i++) {
      await withRunning(['--port', '0', '--seed', file, '--deterministic'], async (banner) => {
        const hook = /Webhook URL:\s+(\S+)/.exec(banner)?.[1] as string;
        hooks.push(new URL(hook).pathname);
        const res = await fetch(new URL('/_emulator/api/notifications?q=user:1', hook));
        const body = (await res.json()) as { notifications: { id: number; message: string }[] };
        expect(body.notifications).toMatchObject([{ id: 41, message: 'Seeded' }]);
      });
    }
    expect(hooks[1]).toBe(hooks[0]);
    const missing = run(['--port', '0', '--seed', join(dir, 'missing.json')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/missing\.json: cannot read \(ENOENT\)/);
  });

  test('a port in use is reported with the fix', async () => {
    await withRunning(['--port', '0'], async (banner) => {
      const port = /127\.0\.0\.1:(\d+)/.exec(banner)?.[1] ?? '';
      const r = run(['--port', port]);
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`port ${port} is in use`);
    });
  });
});
