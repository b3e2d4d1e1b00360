import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestPortal, TRANSPORTS, type TestPortal } from './support/emulator.js';

/**
 * The documentation's own curl examples for im.notify.personal.add (seed 004), run with the real
 * curl binary: same verb, headers and JSON body byte for byte; only the portal address differs
 * (plus --cacert for HTTPS, and -sS/--write-out so the test can read the status).
 */

const execFileAsync = promisify(execFile);

function curlVersion(): string | undefined {
  try {
    return execFileSync('curl', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  } catch {
    return undefined;
  }
}
const CURL = curlVersion();
if (!CURL)
  console.warn('interop-curl: no `curl` binary on PATH; the curl interoperability tests are skipped');

/** The seed's webhook example body, verbatim. */
const WEBHOOK_BODY =
  '{"USER_ID":5,"MESSAGE":"Task Reminder","MESSAGE_OUT":"Task Reminder (email)","TAG":"TASK_REMINDER_42","SUB_TAG":"TASK_REMINDER|42"}';
/** The seed's OAuth example body, verbatim but for the token placeholder. */
const oauthBody = (token: string): string =>
  `{"USER_ID":5,"MESSAGE":"Task Reminder","MESSAGE_OUT":"Task Reminder (email)","TAG":"TASK_REMINDER_42","SUB_TAG":"TASK_REMINDER|42","auth":"${token}"}`;

/** A proxy in the environment must not capture loopback calls. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/_proxy$/i.test(key)));
}

interface CurlAnswer {
  exitCode: number;
  status: number;
  contentType: string;
  body: Record<string, unknown>;
  stderr: string;
}

const MARK = '\n@@curl ';

/** Run the docs' command line against `url`; `extra` goes before the URL. */
async function curl(url: string, body: string, extra: string[] = []): Promise<CurlAnswer> {
  const args = [
    '-sS',
    '--write-out',
    `${MARK}%{http_code} %{content_type}`,
    ...extra,
    '-X',
    'POST',
    '-H',
    'Content-Type: application/json',
    '-H',
    'Accept: application/json',
    '-d',
    body,
    url,
  ];
  try {
    const { stdout, stderr } = await execFileAsync('curl', args, { env: cleanEnv(), timeout: 20_000 });
    const at = stdout.lastIndexOf(MARK);
    const [code = '0', ...type] = stdout.slice(at + MARK.length).split(' ');
    return {
      exitCode: 0,
      status: Number(code),
      contentType: type.join(' '),
      body: JSON.parse(stdout.slice(0, at)) as Record<string, unknown>,
      stderr,
    };
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    return {
      exitCode: typeof e.code === 'number' ? e.code : -1,
      status: 0,
      contentType: '',
      body: {},
      stderr: e.stderr ?? '',
    };
  }
}

function expectSuccess(answer: CurlAnswer): number {
  expect(answer.stderr).toBe('');
  expect(answer.exitCode).toBe(0);
  expect(answer.status).toBe(200);
  expect(answer.contentType).toMatch(/^application\/json/);
  expect(Number.isInteger(answer.body.result)).toBe(true);
  const time = answer.body.time as Record<string, unknown> | undefined;
  expect(time).toBeDefined();
  expect(typeof time?.start).toBe('number');
  expect(typeof time?.date_finish).toBe('string');
  return answer.body.result as number;
}

describe.skipIf(!CURL).each(TRANSPORTS)('the docs curl examples over %s', (transport) => {
  let portal: TestPortal;
  let tls: string[];

  beforeAll(async () => {
    portal = await startTestPortal(transport);
    tls = portal.emu.caCertPath ? ['--cacert', portal.emu.caCertPath] : [];
  });

  afterAll(async () => {
    await portal?.close();
  });

  beforeEach(async () => {
    expect((await portal.control('POST', '/reset')).status).toBe(200);
  });

  async function storedOne(id: number): Promise<Record<string, unknown>> {
    const answer = await portal.control('GET', `/notifications/${id}`);
    expect(answer.status).toBe(200);
    return answer.body;
  }

  it('webhook: POST JSON to /rest/USER/WEBHOOK/im.notify.personal.add', async () => {
    const answer = await curl(`${portal.emu.webhookUrl}im.notify.personal.add`, WEBHOOK_BODY, tls);
    const id = expectSuccess(answer);
    expect(await storedOne(id)).toMatchObject({
      id,
      userId: 5,
      authorId: Number(new URL(portal.emu.webhookUrl).pathname.split('/')[2]),
      type: 'personal',
      message: 'Task Reminder',
      messageOut: 'Task Reminder (email)',
      tag: 'TASK_REMINDER_42',
      subTag: 'TASK_REMINDER|42',
    });
  });

  it('OAuth: POST JSON with auth to /rest/im.notify.personal.add', async () => {
    const answer = await curl(
      `${portal.emu.url}/rest/im.notify.personal.add`,
      oauthBody(portal.emu.tokens.accessToken),
      tls,
    );
    const id = expectSuccess(answer);
    expect(await storedOne(id)).toMatchObject({
      id,
      userId: 5,
      authorId: portal.emu.tokens.userId,
      type: 'personal',
      message: 'Task Reminder',
      messageOut: 'Task Reminder (email)',
      tag: 'TASK_REMINDER_42',
      subTag: 'TASK_REMINDER|42',
      clientId: portal.emu.tokens.clientId,
    });
  });

  it('sending the same TAG again replaces the first notification', async () => {
    const first = expectSuccess(
      await curl(`${portal.emu.webhookUrl}im.notify.personal.add`, WEBHOOK_BODY, tls),
    );
    const second = expectSuccess(
      await curl(`${portal.emu.webhookUrl}im.notify.personal.add`, WEBHOOK_BODY, tls),
    );
    expect(second).toBeGreaterThan(first);
    const list = await portal.control('GET', '/notifications?tag=TASK_REMINDER_42');
    expect((list.body.notifications as { id: number }[]).map((n) => n.id)).toEqual([second]);
  });

  it('a bad token gets a JSON error, not a notification', async () => {
    const answer = await curl(`${portal.emu.url}/rest/im.notify.personal.add`, oauthBody('not-a-token'), tls);
    expect(answer.exitCode).toBe(0);
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: expect.any(String), error_description: expect.any(String) });
    expect((await portal.control('GET', '/notifications')).body.total).toBe(0);
  });

  it.runIf(transport === 'https')('curl refuses the emulator certificate without --cacert', async () => {
    const answer = await curl(`${portal.emu.webhookUrl}im.notify.personal.add`, WEBHOOK_BODY);
    // 60: peer certificate cannot be authenticated with known CA certificates.
    expect(answer.exitCode).toBe(60);
    expect((await portal.control('GET', '/notifications')).body.total).toBe(0);
  });
});
