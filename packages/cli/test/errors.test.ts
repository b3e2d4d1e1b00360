/** Exit codes a script can tell apart, and the one-block error reports behind them. */
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { control, emulator, json, run, sandbox } from './support.js';

let emu: RunningEmulator;
const box = sandbox();
let env: Record<string, string>;

beforeAll(async () => {
  emu = await emulator();
  env = { ...box.env, B24_WEBHOOK_URL: emu.webhookUrl };
});
afterEach(() => control(emu, 'PUT', '/chaos', { rules: [] }));
afterAll(() => emu.close());

const send = ['send', '--user', '1', '--text', 'x', '--retries', '0'];

describe('exit codes', () => {
  test('0 done, 3 error answer, 4 credentials refused, 1 unknown command', async () => {
    const [ok, api, auth, unknown] = await Promise.all([
      run(send, { env }),
      run(['call', 'im.notify.personal.add', '--params', '{"USER_ID":1}'], { env }),
      run(send, { env: { ...env, B24_WEBHOOK_URL: `${emu.url}/rest/1/wrong/` } }),
      run(['sned', '--user', '1'], { env }),
    ]);
    expect([ok.code, api.code, auth.code, unknown.code]).toEqual([0, 3, 4, 1]);
    expect(api.stderr).toBe(
      'b24notify call: MESSAGE_EMPTY (HTTP 400) in im.notify.personal.add on ' +
        `${emu.domain}\n  meaning:  Message can't be empty\n  to do:    Pass a non-empty message.\n` +
        '  delivery: not delivered: the portal created nothing\n',
    );
    expect(auth.stderr).toContain('INVALID_CREDENTIALS (HTTP 401)');
    expect(auth.stderr).toContain('to do:    Check the webhook URL');
    expect(unknown.stderr).toBe(
      `b24notify: unknown command "sned" (did you mean "send"?). See 'b24notify --help'.\n`,
    );
  });

  test('2 for usage errors, each on one line', async () => {
    const results = await Promise.all([
      run(['send', '--user', '1', '--text', 'x', '--bogus'], { env }),
      run(['send', '--user', '1', '--text'], { env }),
      run(['send', '--user', '-5', '--text', 'x'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--json', '--pretty'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--timeout', 'soon'], { env }),
      run(['call', 'im.notify.get', '--params', '{"LIMIT":'], { env }),
      run(['call', 'im.notify.get', '--params', '@missing.json'], { env }),
      run(['read', '--ids', '1,two'], { env }),
      run(['--webhook', 'x', 'send'], { env }),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect(results[1]?.stderr).toContain('--text needs a value');
    expect(results[2]?.stderr).toContain('--user: expected a positive integer, got "-5"');
  });

  test('the first-hour messages say what is wrong and what to do', async () => {
    const oauthNoTokenUrl = {
      ...box.env,
      B24_PORTAL: emu.url,
      B24_CLIENT_ID: 'local.app',
      B24_CLIENT_SECRET: 'client-secret-1',
      B24_ACCESS_TOKEN: 'access-token-1',
      B24_REFRESH_TOKEN: 'refresh-token-1',
    };
    const [minus, ambiguousText, at, opiNone, opiToken, host, tag, tagWithId, noTokenUrl] = await Promise.all(
      [
        run(['send', '--user', '-1', '--text', 'x'], { env }),
        run(['send', '--user', '1', '--text', '-x'], { env }),
        run(['send', '--user', '1', '--text', 'x', '--attach', '@'], { env }),
        run(['bitrix24', 'CreatePersonalNotification', '--user', '1', '--text', 'x'], { env: box.env }),
        run(['bitrix24', 'CreatePersonalNotification', '--user', '1', '--text', 'x', '--token', 'tok-1234'], {
          env: box.env,
        }),
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this machine.
        run(['emulator', '--host', '192.0.2.1', '--port', '0'], { env: box.env }),
        run([...send, '--tag', 'invoice-1'], { env }),
        run([...send, '--tag', 'invoice-2', '--client-id', 'billing'], { env }),
        run(send, { env: oauthNoTokenUrl }),
      ],
    );
    expect(noTokenUrl.code).toBe(2);
    expect(noTokenUrl.stderr).toContain(
      `no OAuth token URL is set, so a refresh would go to Bitrix24's own server: set B24_TOKEN_URL`,
    );
    expect(noTokenUrl.stderr).toContain(`for the b24notify emulator ${emu.url}/oauth/token/`);
    expect(minus.code).toBe(2);
    expect(minus.stderr).toBe(
      `b24notify send: --user: expected a positive integer, got "-1". See 'b24notify send --help'.\n`,
    );
    // A text may start with "-": then the way to pass it is the useful answer.
    expect(ambiguousText.stderr).toContain(
      '--text needs a value; to pass one starting with "-", write --text=VALUE',
    );
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('--attach: "@" must be followed by a file name, like --attach @attach.json');
    expect(opiNone.code).toBe(2);
    expect(opiNone.stderr).toContain(
      'no credentials: pass --url WEBHOOK_URL (or --url DOMAIN with --token TOKEN)',
    );
    expect(opiNone.stderr).not.toMatch(/pass --webhook|--portal/);
    expect(opiToken.stderr).toContain('--token needs a portal: pass --url DOMAIN or set B24_PORTAL');
    expect(host.code).toBe(2);
    expect(host.stderr).toContain(
      'b24notify emulator: cannot listen on 192.0.2.1: no network interface of this machine has that address',
    );
    expect(host.stderr).toContain('to do:    Use 127.0.0.1 (the default), 0.0.0.0 for every interface');
    expect(host.stderr).not.toContain('unexpected error');
    expect(tag.code).toBe(0);
    expect(tag.stderr).toContain('warning: a tag through a webhook needs --client-id');
    expect(tagWithId.code).toBe(0);
    expect(tagWithId.stderr).toBe('');
  });

  test('5 when rate limited, with the error block', async () => {
    await control(emu, 'PUT', '/chaos', {
      rules: [
        { method: 'im.notify.personal.add', faults: [{ type: 'error', code: 'QUERY_LIMIT_EXCEEDED' }] },
      ],
    });
    const r = await run(send, { env });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('QUERY_LIMIT_EXCEEDED (HTTP 503)');
    expect(r.stderr).toContain('to do:    Slow down');
    expect(r.stderr).toContain('delivery: not delivered');
  });

  test('6 for a refused connection (not delivered) and a timeout (delivery unknown)', async () => {
    await control(emu, 'PUT', '/chaos', {
      rules: [{ method: 'im.notify.personal.add', faults: [{ type: 'delay', ms: 3000 }] }],
    });
    const [refused, timeout] = await Promise.all([
      run(send, { env: { ...env, B24_WEBHOOK_URL: 'http://127.0.0.1:9/rest/1/abcdef/' } }),
      run([...send, '--timeout', '300'], { env }),
    ]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(
      /^b24notify send: ECONNREFUSED in im\.notify\.personal\.add on 127\.0\.0\.1:9\n/,
    );
    expect(refused.stderr).toContain('delivery: not delivered: the request never reached the portal');
    expect(timeout.code).toBe(6);
    expect(timeout.stderr).toContain('TIMEOUT in im.notify.personal.add');
    expect(timeout.stderr).toContain('no answer within 300 ms');
    expect(timeout.stderr).toContain('delivery: UNKNOWN: the portal may have created the notification');
  });

  test('--opi-exit and B24NOTIFY_OPI_EXIT=1: 0 on an error answer, printed as data', async () => {
    const bad = ['call', 'im.notify.personal.add', '--params', '{"USER_ID":1}'];
    const [flag, variable, network] = await Promise.all([
      run([...bad, '--opi-exit'], { env }),
      run(bad, { env: { ...env, B24NOTIFY_OPI_EXIT: '1' } }),
      run([...send, '--opi-exit'], { env: { ...env, B24_WEBHOOK_URL: 'http://127.0.0.1:9/rest/1/abcdef/' } }),
    ]);
    for (const r of [flag, variable]) {
      expect(r.code).toBe(0);
      expect(json(r)).toEqual({ error: 'MESSAGE_EMPTY', error_description: "Message can't be empty" });
      expect(r.stderr).toContain('MESSAGE_EMPTY');
    }
    // Not an answer from the portal: still a failure.
    expect(network.code).toBe(6);
  });
});
