import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { B24Hook } from '@bitrix24/b24jssdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestPortal, type TestPortal } from './support/emulator.js';

/**
 * The official Bitrix24 JS SDK (@bitrix24/b24jssdk) against the emulator over HTTPS. The SDK
 * runs in a child process (test/fixtures/b24jssdk-client.mjs) started with NODE_EXTRA_CA_CERTS
 * set to the emulator's CA: Node reads that variable only at start-up, and the SDK's axios
 * offers no other way to trust a private CA through B24Hook.fromWebhookUrl.
 */

const execFileAsync = promisify(execFile);
const FIXTURE = fileURLToPath(new URL('./fixtures/b24jssdk-client.mjs', import.meta.url));

interface SdkError {
  name: string;
  code?: string;
  description?: string;
  status?: number;
}
type Outcome = { ok: true; value: Record<string, unknown> } | { ok: false; error: SdkError };

interface StoredNotificationJson {
  id: number;
  userId: number;
  authorId: number;
  type: string;
  message: string;
  messageOut: string;
  tag: string | null;
  subTag: string | null;
}

let portal: TestPortal;

beforeAll(async () => {
  portal = await startTestPortal('https');
});

afterAll(async () => {
  await portal?.close();
});

beforeEach(async () => {
  const reset = await portal.control('POST', '/reset');
  expect(reset.status).toBe(200);
});

/** Run the named fixture steps in a fresh Node process that trusts the emulator's CA. */
async function runSdk(...steps: string[]): Promise<Record<string, Outcome>> {
  const { stdout } = await execFileAsync(process.execPath, [FIXTURE], {
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: portal.emu.caCertPath,
      B24_WEBHOOK_URL: portal.emu.webhookUrl,
      B24_STEPS: steps.join(','),
    },
    timeout: 45_000,
    maxBuffer: 4 * 1024 * 1024,
  });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Record<string, Outcome>;
}

function value(outcome: Outcome | undefined): Record<string, unknown> {
  if (!outcome?.ok) throw new Error(`step failed: ${JSON.stringify(outcome)}`);
  return outcome.value;
}

function failure(outcome: Outcome | undefined): SdkError {
  if (!outcome || outcome.ok) throw new Error(`step did not fail: ${JSON.stringify(outcome)}`);
  return outcome.error;
}

async function stored(): Promise<StoredNotificationJson[]> {
  const answer = await portal.control('GET', '/notifications');
  expect(answer.status).toBe(200);
  return (answer.body.notifications as StoredNotificationJson[]).slice().sort((a, b) => a.id - b.id);
}

// Each test starts a Node process and loads the SDK: allow for a busy machine.
describe('@bitrix24/b24jssdk against the emulator', { timeout: 60_000 }, () => {
  it('refuses a plain-http webhook URL, which is why these tests use HTTPS', () => {
    expect(() => B24Hook.fromWebhookUrl('http://127.0.0.1:1/rest/1/code/')).toThrow(
      expect.objectContaining({ code: 'JSSDK_HOOK_URL_NOT_HTTPS' }),
    );
  });

  it('sends a personal notification and reads back its id and time block', async () => {
    const out = await runSdk('personal');
    const v = value(out.personal);
    expect(v.isSuccess).toBe(true);
    expect(v.status).toBe(200);
    expect(Number.isInteger(v.result)).toBe(true);
    const time = v.time as Record<string, unknown>;
    for (const key of ['start', 'finish', 'duration', 'processing', 'operating', 'operating_reset_at']) {
      expect(typeof time[key], key).toBe('number');
    }
    expect(time.date_start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);

    const [n, ...rest] = await stored();
    expect(rest).toEqual([]);
    expect(n).toMatchObject({
      id: v.result,
      userId: 5,
      authorId: portal.emu.tokens.userId,
      type: 'personal',
      message: 'Task Reminder',
      messageOut: 'Task Reminder (email)',
      tag: 'TASK_REMINDER_42',
      subTag: 'TASK_REMINDER|42',
    });

    // The SDK reached the webhook over POST; its telemetry query parameters are harmless.
    const log = await portal.control('GET', '/requests?method=im.notify.personal.add');
    const [entry] = log.body.requests as { transport: string; httpMethod: string; status: number }[];
    expect(entry).toMatchObject({ transport: 'webhook', httpMethod: 'POST', status: 200 });
  });

  it('works through the deprecated callMethod the docs still show', async () => {
    const out = await runSdk('callMethod');
    const v = value(out.callMethod);
    expect(v.isSuccess).toBe(true);
    const [n] = await stored();
    expect(n).toMatchObject({ id: v.result, message: 'Task Reminder via callMethod', userId: 5 });
  });

  it('surfaces the portal error codes exactly', async () => {
    const out = await runSdk('userIdEmpty', 'messageEmpty', 'unknownMethod');
    expect(failure(out.userIdEmpty)).toMatchObject({
      name: 'AjaxError',
      code: 'USER_ID_EMPTY',
      description: "User ID can't be empty",
      status: 400,
    });
    expect(failure(out.messageEmpty)).toMatchObject({
      name: 'AjaxError',
      code: 'MESSAGE_EMPTY',
      description: "Message can't be empty",
      status: 400,
    });
    expect(failure(out.unknownMethod)).toMatchObject({ code: 'ERROR_METHOD_NOT_FOUND', status: 404 });
    expect(await stored()).toEqual([]);
  });

  it('runs a batch of notifications and reports the failing command by its key', async () => {
    const out = await runSdk('batch');
    const v = value(out.batch);
    // A failed command makes the whole Result unsuccessful, the others still deliver.
    expect(v.isSuccess).toBe(false);
    const data = v.data as Record<string, number>;
    expect(Object.keys(data).sort()).toEqual(['first', 'second', 'third']);
    expect(v.errors).toEqual({
      broken: expect.objectContaining({ code: 'MESSAGE_EMPTY', description: "Message can't be empty" }),
    });

    const all = await stored();
    expect(all.map((n) => n.id)).toEqual([data.first, data.second, data.third]);
    expect(all[0]).toMatchObject({ userId: 5, type: 'personal', message: 'Batch one', tag: 'B1' });
    // qs-encoded inside the batch command, decoded by the emulator.
    expect(all[1]).toMatchObject({ userId: 3, type: 'personal', message: 'Batch two [b]bold[/b]' });
    expect(all[2]).toMatchObject({ userId: 5, type: 'system', authorId: 0, message: 'Batch three & more' });

    const log = await portal.control('GET', '/requests?method=batch');
    expect(log.body.requests).toHaveLength(1);
  });

  it('runs an array batch and returns per-command results with their time blocks', async () => {
    const out = await runSdk('batchArray');
    const v = value(out.batchArray);
    expect(v.isSuccess).toBe(true);
    const rows = v.rows as { isSuccess: boolean; result: number; hasTime: boolean }[];
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.isSuccess && r.hasTime && Number.isInteger(r.result))).toBe(true);
    const all = await stored();
    expect(all.map((n) => n.message)).toEqual(['Array one', 'Array two']);
  });

  it("answers the SDK's connectivity tools (server.time) and profile", async () => {
    const out = await runSdk('tools', 'profile');
    const tools = value(out.tools);
    expect(tools.healthy).toBe(true);
    expect(tools.ping).toBeGreaterThanOrEqual(0);
    const profile = value(out.profile);
    expect(profile.isSuccess).toBe(true);
    expect(profile.result).toMatchObject({ ID: String(portal.emu.tokens.userId) });
  });
});
