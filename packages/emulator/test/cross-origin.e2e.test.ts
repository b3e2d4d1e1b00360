/**
 * Any web page can send requests to 127.0.0.1. In headless Chromium, a page served from another
 * loopback origin (a second server on port 0: same-site at 127.0.0.1, cross-site at localhost)
 * tries every write a page can make without the user's help: `no-cors` fetches, CORS fetches
 * that need a preflight, `sendBeacon` and `<form>` posts. Checked from Node, through the
 * control API: nothing changed. The inbox page itself, same-origin, still resets.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/index.js';
import { STATE_WAIT_MS, launchChromium, waitForStatesUnderLoad } from './support/browser.js';

waitForStatesUnderLoad();

let browser: Browser;
let emu: RunningEmulator;
let attacker: Server;
let attackerPort: number;

/** The page the attack runs from: a form posting into a hidden frame, so the page stays. */
function attackPage(target: string): string {
  const api = `${target}/_emulator/api`;
  return `<!doctype html>
<meta charset="utf-8">
<title>not the emulator</title>
<iframe name="sink"></iframe>
<form id="plain" method="POST" action="${api}/reset" enctype="text/plain" target="sink">
  <input name='{"state":"deleted","pad":"' value='"}'>
</form>
<form id="urlencoded" method="POST" action="${api}/reset" target="sink">
  <input name="x" value="1">
</form>
<form id="portal" method="POST" action="${api}/portal" enctype="text/plain" target="sink">
  <input name='{"state":"deleted","pad":"' value='"}'>
</form>`;
}

beforeAll(async () => {
  [browser, emu] = await Promise.all([
    // One renderer for every frame: with site isolation the sink frame's cross-site navigation
    // moves it to a new process, and Playwright may attach to it after the emulator's answer has
    // come, so `waitForResponse` missed it on a busy machine. What the emulator judges (the
    // Origin and Sec-Fetch-Site headers the browser sends) does not depend on process layout.
    launchChromium(['--disable-site-isolation-trials', '--disable-features=IsolateOrigins,site-per-process']),
    startEmulator({ portal: { plan: 'off' } }),
  ]);
  attacker = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(attackPage(emu.url));
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerPort = (attacker.address() as AddressInfo).port;
});

afterAll(async () => {
  await browser?.close();
  await emu?.close();
  await new Promise((resolve) => attacker?.close(resolve));
});

async function control(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${emu.url}/_emulator/api${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return (await res.json()) as Record<string, unknown>;
}

/** What the attack may not change, read from Node. */
async function snapshot(): Promise<unknown> {
  const { notifications } = await control('GET', '/notifications?limit=1000');
  const portal = await control('GET', '/portal');
  const clock = await control('GET', '/clock');
  const chaos = await control('GET', '/chaos');
  const limits = await control('GET', '/limits');
  return { notifications, portal, offsetMs: clock.offsetMs, chaos, limits };
}

/** Submit a form of the attack page and wait for the emulator's answer to reach the frame. */
async function submit(page: Page, id: string, path: string): Promise<number> {
  const [response] = await Promise.all([
    page.waitForResponse(
      (r) => r.url() === `${emu.url}/_emulator/api${path}` && r.request().method() === 'POST',
      { timeout: STATE_WAIT_MS },
    ),
    page.evaluate((formId) => {
      (globalThis as unknown as { document: { getElementById(id: string): { submit(): void } } }).document
        .getElementById(formId)
        .submit();
    }, id),
  ]);
  return response.status();
}

describe.each([
  ['same-site', '127.0.0.1'],
  ['cross-site', 'localhost'],
])('a %s page', (_site, host) => {
  test('cannot reset, change settings, add or change notifications through the control API', async () => {
    const webhook = emu.webhookUrl;
    for (const message of ['first', 'second']) {
      const res = await fetch(`${webhook}im.notify.personal.add`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ USER_ID: 1, MESSAGE: message }),
      });
      expect(res.status).toBe(200);
    }
    const before = await snapshot();
    const page = await browser.newPage();
    try {
      await page.goto(`http://${host}:${String(attackerPort)}/`);
      const outcomes = await page.evaluate(async (api: string) => {
        const results: Record<string, string> = {};
        const attempt = async (name: string, init: Record<string, unknown>, path: string): Promise<void> => {
          try {
            const res = await fetch(`${api}${path}`, init);
            results[name] = `answered ${res.type} ${String(res.status)}`;
          } catch (err) {
            results[name] = `failed: ${String(err)}`;
          }
        };
        const json = (body: unknown): string => JSON.stringify(body);
        await attempt('reset', { method: 'POST', mode: 'no-cors' }, '/reset');
        await attempt(
          'reset, text/plain body',
          { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' },
          '/reset',
        );
        await attempt(
          'portal, no-cors PUT',
          { method: 'PUT', mode: 'no-cors', body: json({ state: 'deleted' }) },
          '/portal',
        );
        await attempt(
          'portal, CORS PUT',
          {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: json({ state: 'deleted' }),
          },
          '/portal',
        );
        await attempt(
          'notification, no-cors POST',
          { method: 'POST', mode: 'no-cors', body: json({ userId: 1, message: 'injected' }) },
          '/notifications',
        );
        await attempt(
          'notification, CORS PATCH',
          { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: json({ read: true }) },
          '/notifications/1',
        );
        await attempt('notification, CORS DELETE', { method: 'DELETE' }, '/notifications/1');
        await attempt(
          'session, no-cors POST',
          {
            method: 'POST',
            mode: 'no-cors',
            headers: { 'content-type': 'text/plain' },
            body: json({ userId: 1 }),
          },
          '/sessions',
        );
        return results;
      }, `${emu.url}/_emulator/api`);
      // The browser sent what it may; none of it may have worked.
      expect(outcomes.reset).toBe('answered opaque 0');
      expect(outcomes['portal, no-cors PUT']).toMatch(/^failed: TypeError/);
      expect(outcomes['portal, CORS PUT']).toMatch(/^failed: TypeError/);
      expect(outcomes['notification, CORS PATCH']).toMatch(/^failed: TypeError/);
      expect(outcomes['notification, CORS DELETE']).toMatch(/^failed: TypeError/);
      const [beacon] = await Promise.all([
        page.waitForResponse(
          (r) => r.url() === `${emu.url}/_emulator/api/reset` && r.request().resourceType() === 'ping',
          { timeout: STATE_WAIT_MS },
        ),
        page.evaluate((url: string) => {
          const nav = globalThis as unknown as {
            navigator: { sendBeacon(to: string, body: string): boolean };
          };
          return nav.navigator.sendBeacon(url, '{}');
        }, `${emu.url}/_emulator/api/reset`),
      ]);
      expect(beacon.status()).toBe(403);
      expect(await submit(page, 'plain', '/reset')).toBe(403);
      expect(await submit(page, 'urlencoded', '/reset')).toBe(403);
      expect(await submit(page, 'portal', '/portal')).toBe(403);
      expect(await snapshot()).toEqual(before);
    } finally {
      await page.close();
    }
  });
});

test('the inbox page, same-origin, still writes: reset from the page clears the portal', async () => {
  const res = await fetch(`${emu.webhookUrl}im.notify.personal.add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ USER_ID: 1, MESSAGE: 'to be reset' }),
  });
  expect(res.status).toBe(200);
  const page = await browser.newPage();
  try {
    await page.goto(`${emu.url}/`);
    const status = await page.evaluate(
      async () => (await fetch('/_emulator/api/reset', { method: 'POST' })).status,
    );
    expect(status).toBe(200);
    expect((await control('GET', '/notifications')).total).toBe(0);
  } finally {
    await page.close();
  }
});
