/**
 * The controls view's limits and portal panels in headless Chromium: what is set on the page
 * (every portal setting, the operating buckets' alignment) is what the control API then reports
 * and what REST calls meet; a bad value is answered with the API's own message and changes
 * nothing; every write is JSON, as the control API requires. Screenshots go to
 * test-artifacts/inbox/.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/index.js';
import {
  launchChromium,
  openInbox,
  screenshot,
  waitForStatesUnderLoad,
  watchedPage,
  type PageWatch,
} from './support/browser.js';

waitForStatesUnderLoad();

let browser: Browser;
let emu: RunningEmulator;
let watch: PageWatch;
let page: Page;

/** Call the control API from the test, as a script would. */
async function control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${emu.url}/_emulator/api${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const data = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path}: ${String(data.error)}`);
  return data;
}

/** A REST call through the webhook: the status and the error code, if any. */
async function rest(): Promise<{ status: number; error: unknown }> {
  const res = await fetch(`${emu.webhookUrl}im.notify.personal.add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ USER_ID: 5, MESSAGE: 'From the controls test' }),
  });
  const body = (await res.json()) as { error?: unknown };
  return { status: res.status, error: body.error };
}

const STANDARD = {
  intensity: { drainPerSecond: 2, capacity: 50 },
  operating: { budgetSeconds: 480, windowMinutes: 10, alignment: 'clock' },
};

/** The settings the portal panel edits, as a fresh portal has them. */
const DEFAULT_PORTAL = {
  state: 'active',
  errorTable: 'current',
  batchOverflow: 'per-command',
  messageOutDefault: 'empty',
  batchOperating: 'per-command',
  tagsWithoutClientId: 'webhook',
  restNotificationReplies: 'none',
  schemaKeys: 'upper',
  attachGridDisplays: 'mixed',
  attachMaxLength: 60000,
  requestTimeLimitSeconds: 60,
  requestLogBytes: 32 * 1024 * 1024,
  authServer: 'oauth.bitrix24.tech',
  requireHttps: false,
};

/** The hint that describes a control (`aria-describedby`), as assistive technology reads it. */
const hintOf = (label: string) =>
  page.getByLabel(label).evaluate(
    (e) =>
      (
        e.ownerDocument.getElementById(e.getAttribute('aria-describedby') ?? '') as {
          textContent: string;
        } | null
      )?.textContent ?? null,
  );

beforeAll(async () => {
  [browser, emu] = await Promise.all([launchChromium(), startEmulator({ portal: { plan: 'standard' } })]);
});

afterAll(async () => {
  await browser?.close();
  await emu?.close();
});

beforeEach(async () => {
  // Limits and portal settings outlive a reset: put them back through the API.
  await control('PUT', '/limits', { plan: 'standard' });
  await control('PUT', '/portal', DEFAULT_PORTAL);
  emu.portal.reset();
  watch = await watchedPage(browser);
  page = watch.page;
  await openInbox(page, emu.url, '#/controls');
});

afterEach(async () => {
  expect(watch.errors).toEqual([]);
  expect(watch.dialogs).toEqual([]);
  await page.close();
});

const text = (selector: string) => page.locator(selector).textContent();

describe('controls: limits', () => {
  test('shows the limits, and a plan with changed numbers set on the page is what the portal has', async () => {
    await expect.poll(() => text('.limits-plan')).toBe('standard');
    await expect.poll(() => text('.limits-intensity')).toBe('capacity 50, drains 2 per second');
    await expect.poll(() => text('.limits-operating')).toBe('480 s per method in a 10-minute window');
    await expect.poll(() => page.locator('.limits-plan-select').inputValue()).toBe('standard');
    await expect.poll(() => page.locator('.limit-capacity').getAttribute('placeholder')).toBe('50');
    // Every control is named for assistive technology by its label.
    await page.getByLabel('Plan preset').waitFor();
    await page.getByLabel('Capacity (X)').waitFor();
    await page.getByLabel('Drain per second (Y)').waitFor();

    await page.locator('.limits-plan-select').selectOption('enterprise');
    await expect.poll(() => page.locator('.limit-capacity').getAttribute('placeholder')).toBe('250');
    // A bucket of three that hardly drains: the fourth call is refused, however slow the run.
    await page.getByLabel('Capacity (X)').fill('3');
    await page.getByLabel('Drain per second (Y)').fill('0.001');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-status')).toBe('Applied.');

    expect(await control('GET', '/limits')).toEqual({
      ...STANDARD,
      intensity: { drainPerSecond: 0.001, capacity: 3 },
    });
    // The page shows what the portal now has, read back.
    await expect.poll(() => text('.limits-plan')).toBe('enterprise, with changes');
    await expect.poll(() => text('.limits-intensity')).toBe('capacity 3, drains 0.001 per second');
    await expect.poll(() => page.locator('.limits-plan-select').inputValue()).toBe('enterprise');
    await expect.poll(() => page.locator('.limit-capacity').inputValue()).toBe('3');
    await screenshot(page, 'controls-limits');

    const answers = [await rest(), await rest(), await rest(), await rest()];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 503]);
    expect(answers[3]?.error).toBe('QUERY_LIMIT_EXCEEDED');

    // Plan enterprise as it is: capacity 250 again, and the counters start afresh.
    await page.getByLabel('Capacity (X)').fill('');
    await page.getByLabel('Drain per second (Y)').fill('');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-plan')).toBe('enterprise');
    expect(await control('GET', '/limits')).toEqual({
      ...STANDARD,
      intensity: { drainPerSecond: 5, capacity: 250 },
    });
    expect((await rest()).status).toBe(200);

    // Off: no limits at all.
    await page.locator('.limits-plan-select').selectOption('off');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-intensity')).toBe('off');
    await expect.poll(() => text('.limits-operating')).toBe('off');
    expect(await control('GET', '/limits')).toEqual({ intensity: false, operating: false });
  });

  test("a bad number shows the API's message and changes nothing", async () => {
    await page.getByLabel('Capacity (X)').fill('-5');
    await page.locator('.limits-apply').click();
    await expect
      .poll(() => text('.limits-status'))
      .toBe('PUT /limits: intensity.capacity: must be a positive finite number, got -5');
    await expect.poll(() => page.locator('.limits-status').getAttribute('class')).toContain('error');
    expect(await control('GET', '/limits')).toEqual(STANDARD);
    expect(await text('.limits-intensity')).toBe('capacity 50, drains 2 per second');

    await page.getByLabel('Capacity (X)').fill('');
    await page.getByLabel('Window, min').fill('1.5');
    await page.locator('.limits-apply').click();
    await expect
      .poll(() => text('.limits-status'))
      .toContain('operating.windowMinutes: must be a whole number');
    expect(await control('GET', '/limits')).toEqual(STANDARD);

    // Not a number at all: said on the page, nothing sent.
    await page.getByLabel('Window, min').fill('ten');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-status')).toBe('Window, min: "ten" is not a number');
    expect(await control('GET', '/limits')).toEqual(STANDARD);

    // The same for the portal: a bad ATTACH limit next to a new state changes neither.
    await page.getByLabel('State').selectOption('deleted');
    await page.getByLabel('ATTACH max length, characters').fill('0');
    await page.locator('.portal-apply').click();
    await expect
      .poll(() => text('.portal-status'))
      .toBe('PUT /portal: attachMaxLength: expected a positive integer');
    const portal = await control('GET', '/portal');
    expect([portal.state, portal.attachMaxLength]).toEqual(['active', 60000]);
    expect(await text('.portal-now')).toMatch(/^active · /);
    expect((await rest()).status).toBe(200);
    await screenshot(page, 'controls-errors');
  });
});

describe('controls: portal', () => {
  test('overloaded makes REST calls answer OVERLOAD_LIMIT, and normal works again', async () => {
    await expect.poll(() => page.getByLabel('State').inputValue()).toBe('active');
    await expect.poll(() => text('.portal-now')).toContain('error table current');
    expect((await rest()).status).toBe(200);

    await page.getByLabel('State').selectOption('overloaded');
    await page.locator('.portal-apply').click();
    await expect.poll(() => text('.portal-status')).toBe('Applied.');
    expect((await control('GET', '/portal')).state).toBe('overloaded');
    await expect.poll(() => text('.portal-now')).toMatch(/^overloaded · /);
    expect(await rest()).toEqual({ status: 503, error: 'OVERLOAD_LIMIT' });

    // Both readings of the docs answer it with the system table's 503.
    await page.getByLabel('Error table').selectOption('legacy');
    await page.locator('.portal-apply').click();
    await expect.poll(() => text('.portal-now')).toContain('error table legacy');
    expect(await rest()).toEqual({ status: 503, error: 'OVERLOAD_LIMIT' });

    await page.getByLabel('State').selectOption('active');
    await page.getByLabel('Error table').selectOption('current');
    await page.getByLabel('ATTACH max length, characters').fill('30000');
    await page.locator('.portal-apply').click();
    await expect.poll(() => text('.portal-now')).toMatch(/^active · error table current · /);
    const portal = await control('GET', '/portal');
    expect([portal.state, portal.errorTable, portal.attachMaxLength]).toEqual(['active', 'current', 30000]);
    expect((await rest()).status).toBe(200);

    // Nothing changed in the form: nothing is sent.
    await page.locator('.portal-apply').click();
    await expect.poll(() => text('.portal-status')).toContain('Nothing to change');
    await screenshot(page, 'controls-portal');
  });
});

describe('controls: operating buckets', () => {
  test('the alignment set on the page is what the portal has, and survives another change', async () => {
    await expect.poll(() => page.getByLabel('Operating buckets').inputValue()).toBe('clock');
    expect(await hintOf('Operating buckets')).toMatch(/^clock: one bucket per clock minute/);

    await page.getByLabel('Operating buckets').selectOption('first-call');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-status')).toBe('Applied.');
    expect(await control('GET', '/limits')).toEqual({
      ...STANDARD,
      operating: { ...STANDARD.operating, alignment: 'first-call' },
    });
    await expect
      .poll(() => text('.limits-operating'))
      .toBe('480 s per method in a 10-minute window (buckets from the first call)');
    await expect.poll(() => text('.limits-plan')).toBe('standard, with changes');

    // A fresh page shows it, and applying another number keeps it (it used to fall back to clock).
    await openInbox(page, emu.url, '#/controls');
    await expect.poll(() => page.getByLabel('Operating buckets').inputValue()).toBe('first-call');
    await page.getByLabel('Operating budget, s').fill('100');
    await page.locator('.limits-apply').click();
    await expect
      .poll(() => text('.limits-operating'))
      .toBe('100 s per method in a 10-minute window (buckets from the first call)');
    expect(await control('GET', '/limits')).toEqual({
      ...STANDARD,
      operating: { budgetSeconds: 100, windowMinutes: 10, alignment: 'first-call' },
    });

    // Plan off with no operating number has nothing to align: said, nothing sent.
    await page.locator('.limits-plan-select').selectOption('off');
    await page.getByLabel('Operating budget, s').fill('');
    await page.getByLabel('Window, min').fill('');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-status')).toMatch(/^Operating buckets: the operating limit is off/);
    expect((await control('GET', '/limits')).operating).toMatchObject({ alignment: 'first-call' });

    await page.locator('.limits-plan-select').selectOption('standard');
    await page.getByLabel('Operating buckets').selectOption('clock');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-plan')).toBe('standard');
    expect(await control('GET', '/limits')).toEqual(STANDARD);
  });
});

describe('controls: short operating window', () => {
  test('a seconds window set through the API is shown as it is, kept by another change, and set or cleared on the page', async () => {
    await control('PUT', '/limits', { plan: 'standard', operating: { windowSeconds: 30 } });
    await openInbox(page, emu.url, '#/controls');
    await expect.poll(() => text('.limits-operating')).toBe('480 s per method in a 30-second window');
    await expect.poll(() => text('.limits-plan')).toBe('standard, with changes');
    await expect.poll(() => page.getByLabel('Window, s (emulator only)').inputValue()).toBe('30');
    expect(await hintOf('Window, s (emulator only)')).toMatch(/^A window of this many whole seconds/);

    // Another number applied: the seconds stay (they used to be dropped for the preset's minutes).
    await page.getByLabel('Operating budget, s').fill('5');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-operating')).toBe('5 s per method in a 30-second window');
    expect(await control('GET', '/limits')).toEqual({
      ...STANDARD,
      operating: { ...STANDARD.operating, budgetSeconds: 5, windowSeconds: 30 },
    });

    // Set on the page.
    await page.getByLabel('Window, s (emulator only)').fill('10');
    await page.getByLabel('Operating budget, s').fill('1');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-operating')).toBe('1 s per method in a 10-second window');
    expect(await control('GET', '/limits')).toEqual({
      ...STANDARD,
      operating: { ...STANDARD.operating, budgetSeconds: 1, windowSeconds: 10 },
    });

    // Emptied: the preset's window in minutes again.
    await page.getByLabel('Window, s (emulator only)').fill('');
    await page.getByLabel('Operating budget, s').fill('');
    await expect
      .poll(() => page.getByLabel('Window, s (emulator only)').getAttribute('placeholder'))
      .toBe('minutes');
    await page.locator('.limits-apply').click();
    await expect.poll(() => text('.limits-plan')).toBe('standard');
    await expect.poll(() => text('.limits-operating')).toBe('480 s per method in a 10-minute window');
    expect(await control('GET', '/limits')).toEqual(STANDARD);

    // Not a whole number: the API's message, nothing changed.
    await page.getByLabel('Window, s (emulator only)').fill('1.5');
    await page.locator('.limits-apply').click();
    await expect
      .poll(() => text('.limits-status'))
      .toContain('operating.windowSeconds: must be a whole number');
    expect(await control('GET', '/limits')).toEqual(STANDARD);
    await screenshot(page, 'controls-window-seconds');
  });
});

describe('controls: every portal setting', () => {
  test('each new setting is offered with its hint, applied from the page, and met by REST calls', async () => {
    const writes: { method: string; url: string; type: string | undefined }[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET')
        writes.push({ method: r.method(), url: r.url(), type: r.headers()['content-type'] });
    });
    await expect.poll(() => page.getByLabel('Authorization server').inputValue()).toBe('oauth.bitrix24.tech');
    await expect.poll(() => text('.portal-now')).toContain('schema keys upper');
    expect(await page.getByLabel('Request log size, bytes').inputValue()).toBe('33554432');
    expect(await page.getByLabel('Request time limit, s').inputValue()).toBe('60');
    for (const [label, hint] of [
      ['Batch operating time', /^batch: a batch is charged to the method batch/],
      ['Tags without CLIENT_ID', /^ignore: TAG and SUB_TAG/],
      ['Replies to REST notifications', /^accept: im\.notify\.answer/],
      ['im.notify.schema.get keys', /^lower: /],
      ['Request time limit, s', /cut with 504/],
      ['Request log size, bytes', /^Bytes the inspection log keeps/],
      ['Authorization server', /server_endpoint/],
      ['State', /documented error/],
    ] as const) {
      expect(await hintOf(label), label).toMatch(hint);
    }

    await page.getByLabel('Batch operating time').selectOption('batch');
    await page.getByLabel('Tags without CLIENT_ID').selectOption('ignore');
    await page.getByLabel('Replies to REST notifications').selectOption('accept');
    await page.getByLabel('im.notify.schema.get keys').selectOption('lower');
    await page.getByLabel('Request time limit, s').fill('30');
    await page.getByLabel('Request log size, bytes').fill('1048576');
    await page.getByLabel('Authorization server').fill('oauth.bitrix.info');
    await page.locator('.portal-apply').click();
    await expect.poll(() => text('.portal-status')).toBe('Applied.');
    expect(await control('GET', '/portal')).toMatchObject({
      batchOperating: 'batch',
      tagsWithoutClientId: 'ignore',
      restNotificationReplies: 'accept',
      schemaKeys: 'lower',
      requestTimeLimitSeconds: 30,
      requestLogBytes: 1048576,
      authServer: 'oauth.bitrix.info',
    });
    await expect.poll(() => text('.portal-now')).toContain('schema keys lower');
    expect(await text('.portal-now')).toContain('auth server oauth.bitrix.info');
    expect(await text('.portal-now')).toContain('request log up to 1.0 MB');
    await screenshot(page, 'controls-settings');

    // What REST callers meet: the older schema keys, and the token answer's server.
    const schema = await fetch(`${emu.webhookUrl}im.notify.schema.get`);
    expect(((await schema.json()) as { result: { rest: object } }).result.rest).toHaveProperty('module_id');
    const refreshed = await fetch(`${emu.url}/oauth/token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: emu.tokens.clientId,
        client_secret: emu.tokens.clientSecret,
        refresh_token: emu.tokens.refreshToken,
      }).toString(),
    });
    expect(((await refreshed.json()) as { server_endpoint: string }).server_endpoint).toBe(
      'https://oauth.bitrix.info/rest/',
    );

    // The page's writes were JSON, as the control API requires of a body.
    expect(writes).toEqual([
      { method: 'PUT', url: `${emu.url}/_emulator/api/portal`, type: 'application/json' },
    ]);
  });

  test("a refused value shows the API's message and changes nothing, however many settings it came with", async () => {
    await expect.poll(() => page.getByLabel('Authorization server').inputValue()).toBe('oauth.bitrix24.tech');
    const before = await control('GET', '/portal');

    await page.getByLabel('im.notify.schema.get keys').selectOption('lower');
    await page.getByLabel('Batch operating time').selectOption('batch');
    await page.getByLabel('Request time limit, s').fill('0');
    await page.locator('.portal-apply').click();
    await expect
      .poll(() => text('.portal-status'))
      .toBe('PUT /portal: requestTimeLimitSeconds: expected a positive integer');
    await expect.poll(() => page.locator('.portal-status').getAttribute('class')).toContain('error');
    expect(await control('GET', '/portal')).toEqual(before);
    // The form keeps what was typed, to be corrected; the line above it shows the portal.
    expect(await page.getByLabel('Request time limit, s').inputValue()).toBe('0');
    expect(await text('.portal-now')).toContain('schema keys upper');

    await page.getByLabel('Request time limit, s').fill('60');
    await page.getByLabel('Request log size, bytes').fill('1.5');
    await page.locator('.portal-apply').click();
    await expect
      .poll(() => text('.portal-status'))
      .toBe('PUT /portal: requestLogBytes: expected a positive integer');
    expect(await control('GET', '/portal')).toEqual(before);

    await page.getByLabel('Request log size, bytes').fill('');
    await page.getByLabel('Authorization server').fill('https://oauth.bitrix.info/');
    await page.locator('.portal-apply').click();
    await expect
      .poll(() => text('.portal-status'))
      .toMatch(/^PUT \/portal: authServer: expected a host name/);
    expect(await control('GET', '/portal')).toEqual(before);

    // Not a number at all: said on the page, nothing sent.
    await page.getByLabel('Authorization server').fill('');
    await page.getByLabel('Request log size, bytes').fill('32 MiB');
    await page.locator('.portal-apply').click();
    await expect.poll(() => text('.portal-status')).toBe('Request log size, bytes: "32 MiB" is not a number');
    expect(await control('GET', '/portal')).toEqual(before);

    // Corrected, it applies.
    await page.getByLabel('Request log size, bytes').fill('');
    await page.locator('.portal-apply').click();
    await expect.poll(() => text('.portal-status')).toBe('Applied.');
    expect(await control('GET', '/portal')).toMatchObject({ schemaKeys: 'lower', batchOperating: 'batch' });
    await screenshot(page, 'controls-settings-errors');
  });
});
