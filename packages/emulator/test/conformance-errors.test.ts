/**
 * Conformance, spec §3 and §9: every system error the emulator can produce, with its HTTP status
 * and exact text from the docs' system table (`_includes/system-errors.md`, both repositories),
 * under `errorTable: 'current'` (the default: a wrong webhook is INVALID_CREDENTIALS, as the
 * method pages show) and `legacy` (the table alone: NO_AUTH_FOUND) where they differ.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { EmulatorOptions } from '../src/index.js';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

const TABLES = ['current', 'legacy'] as const;
type Table = (typeof TABLES)[number];

/** Expected status and description by table; one entry when both tables agree. */
type Expected = { status: number; error: string; description: string };
function pick(table: Table, current: Expected, legacy: Partial<Expected> = {}): Expected {
  return table === 'current' ? current : { ...current, ...legacy };
}

/** An error answer is exactly `{"error","error_description"}` JSON, with the given status. */
function expectError(answer: Answer, expected: Expected): void {
  expect(answer.headers['content-type']).toMatch(/^application\/json\b/);
  expect(answer.json).toEqual({ error: expected.error, error_description: expected.description });
  expect(answer.status).toBe(expected.status);
  expect(answer.text).toBe(
    JSON.stringify({ error: expected.error, error_description: expected.description }),
  );
}

const SEND = { USER_ID: 2, MESSAGE: 'hello' };

describe.each(TRANSPORTS)('system errors over %s', (transport) => {
  describe.each(TABLES)('errorTable %s', (table) => {
    let t: TestPortal;
    afterEach(async () => {
      await t.close();
    });

    const start = (options: EmulatorOptions = {}): Promise<TestPortal> =>
      startTestPortal(transport, { ...options, portal: { errorTable: table, ...options.portal } });

    it('unknown method: ERROR_METHOD_NOT_FOUND 404', async () => {
      t = await start();
      const expected = pick(
        table,
        { status: 404, error: 'ERROR_METHOD_NOT_FOUND', description: 'Method not found!' },
        { description: 'Method not found' },
      );
      expectError(await t.hook('im.notify.nosuch', SEND), expected);
      expectError(await t.oauth('crm.deal.list'), expected);
    });

    it('no auth: NO_AUTH_FOUND 401', async () => {
      t = await start();
      const expected = { status: 401, error: 'NO_AUTH_FOUND', description: 'Wrong authorization data' };
      expectError(
        await t.request('/rest/im.notify.personal.add', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(SEND),
        }),
        expected,
      );
      expectError(await t.request('/rest/profile.json'), expected);
      // An empty token is no token.
      expectError(await t.oauth('profile', {}, ''), expected);
    });

    it('wrong webhook code or user: INVALID_CREDENTIALS (current) / NO_AUTH_FOUND (legacy)', async () => {
      t = await start();
      const expected = pick(
        table,
        { status: 401, error: 'INVALID_CREDENTIALS', description: 'Invalid request credentials' },
        { error: 'NO_AUTH_FOUND', description: 'Wrong authorization data' },
      );
      const code = new URL(t.emu.webhookUrl).pathname.split('/')[3] as string;
      expectError(await t.request(`/rest/1/${code}x/im.notify.personal.add`), expected);
      expectError(await t.request(`/rest/2/${code}/profile`), expected);
      expect((await t.control('GET', '/notifications')).body.total).toBe(0);
    });

    it('unknown access token: NO_AUTH_FOUND 401, as the system table says', async () => {
      t = await start();
      const expected = { status: 401, error: 'NO_AUTH_FOUND', description: 'Wrong authorization data' };
      expectError(await t.oauth('im.notify.personal.add', SEND, 'not-a-token'), expected);
      expectError(await t.oauth('profile', {}, `${t.emu.tokens.accessToken}0`), expected);
    });

    it('expired access token: expired_token 401, after the clock passes 3600 s', async () => {
      t = await start();
      const expected = {
        status: 401,
        error: 'expired_token',
        description: 'The access token provided has expired',
      };
      expect((await t.oauth('profile')).status).toBe(200);
      expect((await t.control('PUT', '/clock', { advanceMs: 3_599_000 })).status).toBe(200);
      expect((await t.oauth('profile')).status).toBe(200);
      expect((await t.control('PUT', '/clock', { advanceMs: 2_000 })).status).toBe(200);
      expectError(await t.oauth('im.notify.personal.add', SEND), expected);
      expectError(await t.oauth('profile'), expected);
      // Webhooks do not expire with the clock unless configured to.
      expect((await t.hook('profile')).status).toBe(200);
    });

    it('expired access token: expired_token 401, from POST /tokens {expired: true}', async () => {
      t = await start();
      const issued = await t.control('POST', '/tokens', { expired: true });
      expect(issued.status).toBe(200);
      expectError(await t.oauth('profile', {}, issued.body.accessToken as string), {
        status: 401,
        error: 'expired_token',
        description: 'The access token provided has expired',
      });
    });

    it('webhook without the im scope: insufficient_scope, worded for the webhook token', async () => {
      t = await start({ portal: { webhooks: [{ userId: 1, code: 'nolimscope', scopes: ['user'] }] } });
      const expected = pick(table, {
        status: 403,
        error: 'insufficient_scope',
        description: 'The request requires higher privileges than provided by the webhook token',
      });
      expectError(await t.request('/rest/1/nolimscope/im.notify.personal.add?USER_ID=2&MESSAGE=x'), expected);
      // A method of a granted scope, and one that needs none, still work.
      expect((await t.request('/rest/1/nolimscope/user.get')).status).toBe(200);
      expect((await t.request('/rest/1/nolimscope/profile')).status).toBe(200);
      // Inside a batch the portal leaves the description empty (research §8).
      const batch = await t.request('/rest/1/nolimscope/batch', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd: { send: 'im.notify.personal.add?USER_ID=2&MESSAGE=x', me: 'profile' } }),
      });
      expect(batch.status).toBe(200);
      expect((batch.body.result as Record<string, unknown>).result_error).toEqual({
        send: { error: 'insufficient_scope', error_description: '' },
      });
      expect((await t.control('GET', '/notifications')).body.total).toBe(0);
    });

    it('app without the im scope: insufficient_scope, worded for the access token', async () => {
      t = await start({
        portal: { apps: [{ clientId: 'local.noim', clientSecret: 'secret-noim', scopes: ['user'] }] },
      });
      const expected = pick(table, {
        status: 403,
        error: 'insufficient_scope',
        description: 'The request requires higher privileges than provided by the access token',
      });
      expectError(await t.oauth('im.notify.system.add', SEND), expected);
      expect((await t.oauth('user.get')).status).toBe(200);
    });

    it('deleted portal: PORTAL_DELETED, for webhooks and apps alike', async () => {
      t = await start();
      expect((await t.control('PUT', '/portal', { state: 'deleted' })).status).toBe(200);
      const expected = pick(table, {
        status: 500,
        error: 'PORTAL_DELETED',
        description: 'Portal was deleted',
      });
      expectError(await t.hook('im.notify.personal.add', SEND), expected);
      expectError(await t.oauth('profile'), expected);
      expect((await t.control('PUT', '/portal', { state: 'active' })).status).toBe(200);
      expect((await t.hook('profile')).status).toBe(200);
    });

    it('a settings change the control API refuses changes nothing, not even its valid part', async () => {
      t = await start();
      const refused = await t.control('PUT', '/portal', { attachMaxLength: 5000, state: 'on fire' });
      expect(refused.status).toBe(400);
      const now = await t.control('GET', '/portal');
      expect(now.body).toMatchObject({ state: 'active', attachMaxLength: 60_000 });
    });

    it('overloaded portal: OVERLOAD_LIMIT', async () => {
      t = await start();
      await t.control('PUT', '/portal', { state: 'overloaded' });
      const expected = pick(table, {
        status: 503,
        error: 'OVERLOAD_LIMIT',
        description: 'REST API is blocked due to overload',
      });
      expectError(await t.hook('im.notify.personal.add', SEND), expected);
      expectError(await t.oauth('profile'), expected);
    });

    it('free plan: ACCESS_DENIED 403, one text for webhooks and apps', async () => {
      t = await start();
      await t.control('PUT', '/portal', { state: 'free-plan' });
      const expected = {
        status: 403,
        error: 'ACCESS_DENIED',
        description: 'REST API is available only on commercial plans',
      };
      expectError(await t.oauth('profile'), expected);
      expectError(await t.hook('im.notify.personal.add', SEND), expected);
    });

    it('user not allowed to use the app: user_access_error', async () => {
      t = await start({
        portal: {
          apps: [{ clientId: 'local.few', clientSecret: 'secret-few', scopes: ['im'], allowedUsers: [2] }],
        },
      });
      const expected = pick(table, {
        status: 403,
        error: 'user_access_error',
        description: 'The user does not have access to the application',
      });
      // The default token is for user 1, who is not on the list.
      expectError(await t.oauth('im.notify.personal.add', SEND), expected);
      const allowed = await t.control('POST', '/tokens', { userId: 2 });
      const ok = await t.oauth(
        'im.notify.personal.add',
        { USER_ID: 1, MESSAGE: 'hi' },
        allowed.body.accessToken as string,
      );
      expect(ok.status).toBe(200);
    });

    it('inactive webhook owner: INVALID_CREDENTIALS 403, the user lacks the rights', async () => {
      t = await start({
        portal: {
          users: [
            { ID: 1, NAME: 'Anna', ACTIVE: false },
            { ID: 2, NAME: 'Boris' },
          ],
          webhooks: [{ userId: 1, code: 'firedowner', scopes: ['im'] }],
        },
      });
      const expected = pick(table, {
        status: 403,
        error: 'INVALID_CREDENTIALS',
        description: 'Invalid request credentials',
      });
      expectError(await t.request('/rest/1/firedowner/im.notify.personal.add?USER_ID=2&MESSAGE=x'), expected);
    });

    it('expired webhook: answered as a wrong webhook once the clock passes expiresAt', async () => {
      const expiresAt = Math.floor(Date.now() / 1000) + 3600;
      t = await start({
        portal: { webhooks: [{ userId: 1, code: 'shortlived', scopes: ['im'], expiresAt }] },
      });
      expect((await t.request('/rest/1/shortlived/profile')).status).toBe(200);
      await t.control('PUT', '/clock', { advanceMs: 3_601_000 });
      expectError(
        await t.request('/rest/1/shortlived/profile'),
        pick(
          table,
          { status: 401, error: 'INVALID_CREDENTIALS', description: 'Invalid request credentials' },
          { error: 'NO_AUTH_FOUND', description: 'Wrong authorization data' },
        ),
      );
    });

    it('INTERNAL_SERVER_ERROR and ERROR_UNEXPECTED_ANSWER from chaos error faults: 500', async () => {
      t = await start({
        portal: {
          chaos: {
            rules: [
              {
                method: 'im.notify.personal.add',
                sequence: [
                  { type: 'error', code: 'INTERNAL_SERVER_ERROR' },
                  { type: 'error', code: 'ERROR_UNEXPECTED_ANSWER' },
                ],
              },
            ],
          },
        },
      });
      expectError(await t.hook('im.notify.personal.add', SEND), {
        status: 500,
        error: 'INTERNAL_SERVER_ERROR',
        description: 'Internal server error',
      });
      expectError(await t.hook('im.notify.personal.add', SEND), {
        status: 500,
        error: 'ERROR_UNEXPECTED_ANSWER',
        description: 'Server returned an unexpected response',
      });
      expect((await t.hook('im.notify.personal.add', SEND)).status).toBe(200);
      // A faulted call stores nothing.
      expect((await t.control('GET', '/notifications')).body.total).toBe(1);
    });

    it('ERROR_MANIFEST_IS_NOT_AVAILABLE and other system codes from chaos keep their documented status', async () => {
      t = await start();
      await t.control('PUT', '/chaos', {
        rules: [
          {
            method: 'profile',
            sequence: [
              { type: 'error', code: 'ERROR_MANIFEST_IS_NOT_AVAILABLE' },
              { type: 'error', code: 'OVERLOAD_LIMIT' },
            ],
          },
        ],
      });
      expectError(await t.hook('profile'), {
        status: 404,
        error: 'ERROR_MANIFEST_IS_NOT_AVAILABLE',
        description: 'Manifest is not available',
      });
      expectError(
        await t.hook('profile'),
        pick(table, {
          status: 503,
          error: 'OVERLOAD_LIMIT',
          description: 'REST API is blocked due to overload',
        }),
      );
    });

    it('batch: nested batch is ERROR_BATCH_METHOD_NOT_ALLOWED per command, answered 200', async () => {
      t = await start();
      const a = await t.hook('batch', { cmd: { inner: 'batch?cmd[x]=profile', me: 'profile' } });
      expect(a.status).toBe(200);
      const result = a.body.result as Record<string, unknown>;
      expect(result.result_error).toEqual({
        inner: {
          error: 'ERROR_BATCH_METHOD_NOT_ALLOWED',
          error_description: 'Method is not allowed for batch usage',
        },
      });
      expect(Object.keys(result.result as object)).toEqual(['me']);
    });

    it('batch over 50 commands with batchOverflow reject: ERROR_BATCH_LENGTH_EXCEEDED 400', async () => {
      t = await start({ portal: { batchOverflow: 'reject' } });
      const cmd = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`c${i}`, 'profile']));
      expectError(await t.hook('batch', { cmd }), {
        status: 400,
        error: 'ERROR_BATCH_LENGTH_EXCEEDED',
        description: 'Max batch length exceeded',
      });
    });

    it('changing the table at run time changes the answers', async () => {
      t = await start();
      const other = table === 'current' ? 'legacy' : 'current';
      await t.control('PUT', '/portal', { errorTable: other });
      const a = await t.request('/rest/1/bogus/profile');
      expect(a.body.error).toBe(other === 'current' ? 'INVALID_CREDENTIALS' : 'NO_AUTH_FOUND');
    });
  });
});

/**
 * How credentials reach the portal and whose they are (`settings/how-to-call-rest-api/
 * authorization.md`, `settings/oauth/simple-way.md`) and which scopes open which methods
 * (`api-reference/scopes/permissions.md`). The transport changes none of this, so plain http.
 */
describe('authorization: who calls, and with what', () => {
  let t: TestPortal;
  afterEach(async () => {
    await t.close();
  });

  it('calls on behalf of the webhook creator or the token user', async () => {
    t = await startTestPortal('http', {
      portal: { webhooks: [{ userId: 2, code: 'borishook', scopes: ['im'] }] },
    });
    expect((await t.request('/rest/2/borishook/profile')).body.result).toMatchObject({ ID: '2' });
    const sent = await t.request('/rest/2/borishook/im.notify.personal.add.json?USER_ID=3&MESSAGE=hi');
    expect(sent.status).toBe(200);
    const stored = await t.control('GET', `/notifications/${String(sent.body.result)}`);
    expect(stored.body).toMatchObject({ userId: 3, authorId: 2 });
    // The same code under another user id is no webhook at all.
    expect((await t.request('/rest/1/borishook/profile')).body.error).toBe('INVALID_CREDENTIALS');
    const clara = (await t.control('POST', '/tokens', { userId: 3 })).body as { accessToken: string };
    expect((await t.oauth('profile', {}, clara.accessToken)).body.result).toMatchObject({ ID: '3' });
  });

  it('a webhook URL wins over an auth parameter sent with it', async () => {
    t = await startTestPortal('http', {
      portal: { webhooks: [{ userId: 2, code: 'borishook', scopes: ['im'] }] },
    });
    const clara = (await t.control('POST', '/tokens', { userId: 3 })).body as { accessToken: string };
    const a = await t.request(`/rest/2/borishook/profile?auth=${clara.accessToken}`);
    expect(a.body.result).toMatchObject({ ID: '2' });
    // A wrong webhook stays wrong, whatever token comes with it.
    const wrong = await t.request(`/rest/2/nosuchhook/profile?auth=${clara.accessToken}`);
    expect(wrong.body.error).toBe('INVALID_CREDENTIALS');
  });

  it('takes the access token from the auth parameter only, not an Authorization header', async () => {
    t = await startTestPortal('http');
    const token = t.emu.tokens.accessToken;
    const bearer = await t.request('/rest/profile.json', { headers: { authorization: `Bearer ${token}` } });
    expectError(bearer, { status: 401, error: 'NO_AUTH_FOUND', description: 'Wrong authorization data' });
    expect((await t.request(`/rest/profile.json?auth=${token}`)).status).toBe(200);
  });

  it('refuses a token of an inactive user: INVALID_CREDENTIALS 403, limited by that user', async () => {
    t = await startTestPortal('http', {
      portal: {
        users: [
          { ID: 1, NAME: 'Anna' },
          { ID: 3, NAME: 'Clara', ACTIVE: false },
        ],
      },
    });
    const clara = (await t.control('POST', '/tokens', { userId: 3 })).body as { accessToken: string };
    expectError(await t.oauth('profile', {}, clara.accessToken), {
      status: 403,
      error: 'INVALID_CREDENTIALS',
      description: 'Invalid request credentials',
    });
  });

  it('opens user.get to the user, user_brief or user_basic scope, and im methods to im alone', async () => {
    t = await startTestPortal('http', {
      portal: {
        webhooks: [
          { userId: 1, code: 'hookuser', scopes: ['user'] },
          { userId: 1, code: 'hookbrief', scopes: ['user_brief'] },
          { userId: 1, code: 'hookbasic', scopes: ['user_basic'] },
          { userId: 1, code: 'hookimonly', scopes: ['im'] },
        ],
      },
    });
    for (const code of ['hookuser', 'hookbrief', 'hookbasic']) {
      const a = await t.request(`/rest/1/${code}/user.get`);
      expect({ code, status: a.status, error: a.body.error }).toEqual({
        code,
        status: 200,
        error: undefined,
      });
      const send = await t.request(`/rest/1/${code}/im.notify.personal.add?USER_ID=2&MESSAGE=x`);
      expect({ code, error: send.body.error }).toEqual({ code, error: 'insufficient_scope' });
    }
    expect((await t.request('/rest/1/hookimonly/user.get')).body.error).toBe('insufficient_scope');
    // The narrower versions read fewer fields (user-scope.md): user_brief no contact data.
    const fields = async (code: string): Promise<string[]> => {
      const a = await t.request(`/rest/1/${code}/user.get?ID=2`);
      return Object.keys((a.body.result as Record<string, unknown>[])[0] ?? {}).sort();
    };
    const brief = [
      'ACTIVE',
      'ID',
      'IS_ONLINE',
      'LAST_NAME',
      'NAME',
      'SECOND_NAME',
      'UF_DEPARTMENT',
      'WORK_POSITION',
    ];
    expect(await fields('hookbrief')).toEqual(brief);
    expect(await fields('hookbasic')).toEqual([...brief, 'EMAIL'].sort());
    expect(await fields('hookuser')).toEqual([...brief, 'EMAIL', 'USER_TYPE'].sort());
    expect((await t.request('/rest/1/hookimonly/im.notify.personal.add?USER_ID=2&MESSAGE=x')).status).toBe(
      200,
    );
    // profile and server.time are of the basic scope every caller holds.
    for (const method of ['profile', 'server.time']) {
      expect((await t.request(`/rest/1/hookbrief/${method}`)).status).toBe(200);
    }
  });
});
