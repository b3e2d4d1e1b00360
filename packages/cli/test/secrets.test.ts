import { chmodSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { control, emulator, json, run, sandbox, webhookCode, type RunResult } from './support.js';

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await emulator();
});
afterAll(() => emu.close());

/** A token pair for the emulator's OAuth app whose access token has already expired. */
async function expiredTokens(): Promise<{ accessToken: string; refreshToken: string }> {
  const t = await control(emu, 'POST', '/tokens', { clientId: emu.tokens.clientId, expired: true });
  return { accessToken: String(t.accessToken), refreshToken: String(t.refreshToken) };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function expectNoSecret(results: RunResult[], secrets: string[]): void {
  for (const r of results) {
    for (const secret of secrets) expect(r.all, `a secret leaked in:\n${r.all}`).not.toContain(secret);
  }
}

describe('config file', () => {
  test('set writes mode 0600 in a 0700 directory; show masks; path prints where', async () => {
    const box = sandbox();
    const set = await run(['config', 'set', '--webhook', emu.webhookUrl], { env: box.env });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe(`Saved webhook to ${box.config} (mode 0600).\n`);
    expect(mode(box.config)).toBe(0o600);
    expect(mode(dirname(box.config))).toBe(0o700);
    expect(JSON.parse(readFileSync(box.config, 'utf8'))).toEqual({ webhookUrl: emu.webhookUrl });

    const [show, path, send] = await Promise.all([
      run(['config', 'show'], { env: box.env }),
      run(['config', 'path'], { env: box.env }),
      run(['send', '--user', '1', '--text', 'with the saved webhook', '-q'], { env: box.env }),
    ]);
    expect(json(show)).toEqual({
      path: box.config,
      exists: true,
      mode: '0600',
      config: { webhookUrl: emu.webhookUrl.replace(webhookCode(emu), '***') },
      effective: `webhook from config file ${box.config}`,
    });
    expect(path.stdout).toBe(`${box.config}\n`);
    expect(send.code, send.stderr).toBe(0);
    expectNoSecret([set, show, path, send], [webhookCode(emu)]);
  });

  test('the default location follows XDG_CONFIG_HOME, then HOME', async () => {
    const box = sandbox();
    const [xdg, home] = await Promise.all([
      run(['config', 'path'], {
        env: { HOME: box.dir, XDG_CONFIG_HOME: `${box.dir}/xdg`, B24NOTIFY_CONFIG: undefined },
      }),
      run(['config', 'path'], { env: { HOME: box.dir, B24NOTIFY_CONFIG: undefined } }),
    ]);
    expect(xdg.stdout).toBe(`${box.dir}/xdg/b24notify/config.json\n`);
    expect(home.stdout).toBe(`${box.dir}/.config/b24notify/config.json\n`);
  });

  test('a file others can read is refused for sending, and show warns', async () => {
    const box = sandbox();
    await run(['config', 'set', '--webhook', emu.webhookUrl], { env: box.env });
    chmodSync(box.config, 0o644);
    const [send, show] = await Promise.all([
      run(['send', '--user', '1', '--text', 'x'], { env: box.env }),
      run(['config', 'show'], { env: box.env }),
    ]);
    expect(send.code).toBe(2);
    expect(send.stderr).toContain(`is readable by others (mode 0644)`);
    expect(send.stderr).toContain(`chmod 600 "${box.config}"`);
    expect(show.code).toBe(0);
    expect(show.stderr).toContain('is readable by others');
    expectNoSecret([send, show], [webhookCode(emu)]);
  });

  test('bad config input is a usage error', async () => {
    const box = sandbox();
    const [nothing, twoKinds, badUrl, halfOauth] = await Promise.all([
      run(['config', 'set'], { env: box.env }),
      run(['config', 'set', '--webhook', emu.webhookUrl, '--token', 'abc', '--portal', 'p.bitrix24.com'], {
        env: box.env,
      }),
      run(['config', 'set', '--webhook', 'https://example.bitrix24.com/no-rest/'], { env: box.env }),
      run(['config', 'set', '--portal', 'p.bitrix24.com', '--client-id', 'local.1'], { env: box.env }),
    ]);
    for (const r of [nothing, twoKinds, badUrl, halfOauth]) expect(r.code, r.stderr).toBe(2);
    expect(halfOauth.stderr).toContain('OAuth needs --client-secret, --access-token, --refresh-token too');
  });
});

describe('credentials', () => {
  test('flags beat the environment, which beats the config file', async () => {
    const box = sandbox();
    await run(['config', 'set', '--webhook', emu.webhookUrl], { env: box.env });
    const env = { ...box.env, B24_WEBHOOK_URL: emu.webhookUrl };
    const dry = ['send', '--user', '1', '--text', 'x', '--test'];
    const [fromFlag, fromEnv, fromFile, tokenFlags, tokenEnv, mixed] = await Promise.all([
      run([...dry, '--webhook', emu.webhookUrl], { env }),
      run(dry, { env }),
      run(dry, { env: box.env }),
      run([...dry, '--portal', emu.url, '--token', emu.tokens.accessToken], { env }),
      run(dry, { env: { ...box.env, B24_PORTAL: emu.url, B24_TOKEN: emu.tokens.accessToken } }),
      run([...dry, '--portal', emu.url], { env: { ...box.env, B24_TOKEN: emu.tokens.accessToken } }),
    ]);
    expect(json(fromFlag).credentials).toBe('webhook from --webhook');
    expect(json(fromEnv).credentials).toBe('webhook from B24_WEBHOOK_URL');
    expect(json(fromFile).credentials).toBe(`webhook from config file ${box.config}`);
    expect(json(tokenFlags).credentials).toBe(`access token for ${emu.url} from --token`);
    expect(json(tokenEnv).credentials).toBe(`access token for ${emu.url} from B24_TOKEN`);
    expect(json(mixed).credentials).toBe(`access token for ${emu.url} from B24_TOKEN`);
    expect(json(tokenFlags).request).toMatchObject({ body: { auth: '***' } });
    expectNoSecret(
      [fromFlag, fromEnv, fromFile, tokenFlags, tokenEnv, mixed],
      [webhookCode(emu), emu.tokens.accessToken],
    );
  });

  test('portal + token sends for real; missing pieces are named', async () => {
    const box = sandbox();
    const [sent, noPortal, halfOauth, none] = await Promise.all([
      run(
        ['send', '--portal', emu.url, '--token', emu.tokens.accessToken, '--user', '1', '--text', 'x', '-q'],
        {
          env: box.env,
        },
      ),
      run(['send', '--token', 'abcdef', '--user', '1', '--text', 'x'], { env: box.env }),
      run(['send', '--user', '1', '--text', 'x'], {
        env: { ...box.env, B24_PORTAL: emu.url, B24_CLIENT_ID: 'local.1', B24_ACCESS_TOKEN: 'abcdef' },
      }),
      run(['send', '--user', '1', '--text', 'x'], { env: box.env }),
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(noPortal.code).toBe(2);
    expect(noPortal.stderr).toContain('--token needs a portal: pass --portal DOMAIN or set B24_PORTAL');
    expect(halfOauth.code).toBe(2);
    expect(halfOauth.stderr).toContain('missing B24_CLIENT_SECRET, B24_REFRESH_TOKEN');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('b24notify config set --webhook URL');
  });

  test('OAuth from the environment: an expired token is renewed and the new pair saved 0600', async () => {
    const box = sandbox();
    const old = await expiredTokens();
    const env = {
      ...box.env,
      B24_PORTAL: emu.url,
      B24_CLIENT_ID: emu.tokens.clientId,
      B24_CLIENT_SECRET: emu.tokens.clientSecret,
      B24_ACCESS_TOKEN: old.accessToken,
      B24_REFRESH_TOKEN: old.refreshToken,
      B24_TOKEN_URL: `${emu.url}/oauth/token/`,
    };
    const first = await run(['send', '--user', '1', '--text', 'after a renewal', '-q', '--debug'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('debug: <- HTTP 401');
    expect(first.stderr).toContain(
      `which spends B24_REFRESH_TOKEN; the new tokens were saved to ${box.config} (mode 0600). ` +
        'Later runs with the same variables use them from there',
    );
    expect(mode(box.config)).toBe(0o600);
    const saved = JSON.parse(readFileSync(box.config, 'utf8')) as {
      portal: string;
      oauth: { accessToken: string; refreshToken: string; clientSecret: string };
    };
    expect(saved.portal).toBe(emu.url);
    expect(saved.oauth.refreshToken).not.toBe(old.refreshToken);

    // The next runs with the very same variables (a cron job's) use the renewed pair from the
    // file: their refresh token is spent and would fail with invalid_grant.
    const again = await run(['send', '--user', '1', '--text', 'same variables', '-q', '--debug'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('invalid_grant');
    expect(again.stderr).toContain('with the tokens an earlier run renewed from them');
    expect(again.stderr).not.toContain('debug: <- HTTP 401');
    const third = await run(['send', '--user', '1', '--text', 'same variables again', '-q'], { env });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toBe('');

    // The saved pair works with the variables gone, and renews again into the file when expired.
    const second = await run(['send', '--user', '1', '--text', 'from the file', '-q'], { env: box.env });
    expect(second.code, second.stderr).toBe(0);

    // A fresh authorization in the variables takes over from the file again.
    const fresh = await expiredTokens();
    const newer = await run(['send', '--user', '1', '--text', 'new variables', '-q'], {
      env: { ...env, B24_ACCESS_TOKEN: fresh.accessToken, B24_REFRESH_TOKEN: fresh.refreshToken },
    });
    expect(newer.code, newer.stderr).toBe(0);
    expect(newer.stderr).toContain('the new tokens were saved to');
    expectNoSecret(
      [first, again, third, second, newer],
      [
        old.accessToken,
        old.refreshToken,
        saved.oauth.accessToken,
        saved.oauth.refreshToken,
        emu.tokens.clientSecret,
      ],
    );
  });

  test('OAuth from the config file: renewed tokens are written back to it', async () => {
    const box = sandbox();
    const old = await expiredTokens();
    const set = await run(
      [
        'config',
        'set',
        '--portal',
        emu.url,
        '--client-id',
        emu.tokens.clientId,
        '--client-secret',
        '-',
        '--access-token',
        old.accessToken,
        '--refresh-token',
        old.refreshToken,
        '--token-url',
        `${emu.url}/oauth/token/`,
      ],
      { env: box.env, input: `${emu.tokens.clientSecret}\n` },
    );
    expect(set.code, set.stderr).toBe(0);
    const [send, show] = [
      await run(['send', '--user', '1', '--text', 'x', '-q'], { env: box.env }),
      await run(['config', 'show'], { env: box.env }),
    ];
    expect(send.code, send.stderr).toBe(0);
    expect(send.stderr).toBe('');
    const saved = JSON.parse(readFileSync(box.config, 'utf8')) as { oauth: Record<string, unknown> };
    expect(saved.oauth.clientSecret).toBe(emu.tokens.clientSecret);
    expect(saved.oauth.refreshToken).not.toBe(old.refreshToken);
    expect(typeof saved.oauth.expiresAt).toBe('number');
    expect(mode(box.config)).toBe(0o600);
    expect(json<{ config: { oauth: Record<string, unknown> } }>(show).config.oauth).toMatchObject({
      clientId: emu.tokens.clientId,
      clientSecret: '***',
      accessToken: '***',
      refreshToken: '***',
    });
    expectNoSecret(
      [set, send, show],
      [emu.tokens.clientSecret, String(saved.oauth.refreshToken), old.refreshToken],
    );
  });
});

describe('masking', () => {
  test('no webhook code or token in any output: --debug, --test, errors, usage errors, OPI form', async () => {
    const box = sandbox();
    const code = webhookCode(emu);
    const token = emu.tokens.accessToken;
    const wrong = `${emu.url}/rest/1/${code}x/`;
    const results = await Promise.all([
      run(['send', '--webhook', emu.webhookUrl, '--user', '1', '--text', 'x', '--debug'], { env: box.env }),
      run(['send', '--webhook', emu.webhookUrl, '--user', '1', '--text', 'x', '--test'], { env: box.env }),
      run(['send', '--portal', emu.url, '--token', token, '--user', '1', '--text', 'x', '--debug', '--test']),
      run(['send', '--webhook', wrong, '--user', '1', '--text', 'x', '--debug'], { env: box.env }),
      run(['send', '--portal', emu.url, '--token', `${token}x`, '--user', '1', '--text', 'x'], {
        env: box.env,
      }),
      run(['send', '--webhook', emu.webhookUrl, '--user', 'one', '--text', 'x'], { env: box.env }),
      run(['send', '--webhook', emu.webhookUrl, '--user', '1', '--text', 'x', '--nope'], { env: box.env }),
      run(['call', 'im.notify.get', '--params', `{"auth":"${token}"}`, '--debug'], {
        env: { ...box.env, B24_WEBHOOK_URL: emu.webhookUrl },
      }),
      run([
        'bitrix24',
        'CreatePersonalNotification',
        '--url',
        emu.webhookUrl,
        '--user',
        '1',
        '--text',
        'x',
        '--debug',
      ]),
      run([
        'bitrix24',
        'CreatePersonalNotification',
        '-u',
        emu.domain,
        '-k',
        token,
        '-s',
        '1',
        '-t',
        'x',
        '--test',
      ]),
      run([
        'bitrix24',
        'CreatePersonalNotification',
        '--url',
        wrong,
        '--user',
        '1',
        '--text',
        'x',
        '--debug',
      ]),
      run(['send', '--user', '1', '--text', 'x', '--debug'], { env: { ...box.env, B24_WEBHOOK_URL: wrong } }),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 4, 4, 2, 2, 0, 0, 0, 0, 4]);
    expect(results[0]?.stderr).toContain('/rest/1/***/im.notify.personal.add');
    expect(results[2]?.stdout).toContain('"auth":"***"');
    expectNoSecret(results, [code, token]);
  });

  test('a stack trace only with B24NOTIFY_STACK=1', async () => {
    const args = ['send', '--webhook', `${emu.url}/rest/1/nope/`, '--user', '1', '--text', 'x'];
    const [plain, stack] = await Promise.all([run(args), run(args, { env: { B24NOTIFY_STACK: '1' } })]);
    expect(plain.code).toBe(4);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    expect(stack.code).toBe(4);
    expect(stack.stderr).toMatch(/\n\s+at /);
  });
});
