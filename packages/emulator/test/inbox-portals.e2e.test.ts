/**
 * The inbox page of an emulator serving several portals, in headless Chromium: a selector
 * switches between them, each shows only its own notifications, live, and a portal's settings
 * reach the page as text only.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createClient, type Client } from '../../b24notify/src/index.js';
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

const HOSTILE_DOMAIN = '<img src=x onerror=alert(1)>.example.test';

let browser: Browser;
let emu: RunningEmulator;
let a: Client;
let b: Client;
let watch: PageWatch;
let page: Page;

beforeAll(async () => {
  [browser, emu] = await Promise.all([
    launchChromium(),
    startEmulator({
      portal: { plan: 'off' },
      portals: [{ name: 'a' }, { name: 'b', domain: HOSTILE_DOMAIN }],
    }),
  ]);
  const client = (webhookUrl: string) =>
    createClient({ webhookUrl, pacing: false, retry: false, clientId: 'inbox-portals' });
  a = client(emu.portalNamed('a').webhookUrl);
  b = client(emu.portalNamed('b').webhookUrl);
});

afterAll(async () => {
  await browser?.close();
  await emu?.close();
});

beforeEach(async () => {
  for (const p of emu.portals) p.portal.reset();
  watch = await watchedPage(browser);
  page = watch.page;
});

afterEach(async () => {
  expect(watch.errors).toEqual([]);
  expect(watch.dialogs).toEqual([]);
  expect(await page.evaluate<boolean>('window.__pwned === true')).toBe(false);
  await page.close();
});

// Ids are per portal (both start at 1), so cards are told apart by their text.
const card = (text: string) => page.locator('.notification', { hasText: text });

describe('inbox with several portals', () => {
  test('the selector switches portals; each shows its own notifications, live', async () => {
    await a.notify.personal({ userId: 5, message: 'Only on portal a' });
    await b.notify.personal({ userId: 5, message: 'Only on portal b' });

    await openInbox(page, emu.portalNamed('a').url, '#/inbox/5');
    await page.waitForSelector('body[data-portal="a"]');
    await card('Only on portal a').waitFor();
    expect(await card('Only on portal b').count()).toBe(0);
    const options = page.locator('#portal option');
    expect(await options.allTextContents()).toEqual(['a (a.localhost)', `b (${HOSTILE_DOMAIN})`]);
    // The hostile domain stayed text: no element was made from it.
    expect(await page.locator('#portal img').count()).toBe(0);

    await page.selectOption('#portal', 'b');
    await page.waitForSelector('body[data-portal="b"][data-ready="true"][data-live="true"]');
    expect(new URL(page.url()).searchParams.get('portal')).toBe('b');
    expect(new URL(page.url()).hash).toBe('#/inbox/5');
    await card('Only on portal b').waitFor();
    expect(await card('Only on portal a').count()).toBe(0);

    // Live on b: b's new notification appears, a's does not (it is sent first, so once b's
    // has arrived, a's would have too).
    await a.notify.personal({ userId: 5, message: 'Later on a' });
    await b.notify.personal({ userId: 5, message: 'Later on b' });
    await card('Later on b').waitFor();
    expect(await card('Later on a').count()).toBe(0);
    await expect.poll(() => page.locator('.user[data-user-id="5"] .unread-count').textContent()).toBe('2');
    await screenshot(page, 'inbox-portals');

    // The Controls view acts on the portal shown.
    await page.goto(`${emu.portalNamed('a').url}/?portal=b#/controls`);
    await page.waitForSelector('body[data-ready="true"][data-portal="b"]');
    await page.locator('#portal').waitFor();
    expect(await page.locator('#portal').inputValue()).toBe('b');
  });

  test('addressed by Host: <name>.localhost serves that portal, the selector too', async () => {
    const hosted = await startEmulator({
      addressing: 'host',
      portal: { plan: 'off' },
      portals: [{ name: 'a' }, { name: 'b' }],
    });
    try {
      const b = hosted.portalNamed('b');
      // Stored in-process: Node's resolver may not know b.localhost (see the README); the page
      // reaches it all the same, since Chromium resolves *.localhost to loopback itself.
      b.portal.store.addNotification({
        userId: 5,
        authorId: 1,
        type: 'personal',
        message: 'Stored on b',
        messageOut: '',
        tag: null,
        subTag: null,
        appKey: 'test',
        clientId: null,
        attach: null,
        read: false,
        createdAt: b.portal.clock.now(),
        requestId: null,
        answers: [],
      });
      await openInbox(page, b.url, '#/inbox/5');
      await page.waitForSelector('body[data-portal="b"]');
      await card('Stored on b').waitFor();
      expect(await page.locator('#portal').inputValue()).toBe('b');
    } finally {
      await hosted.close();
    }
  });

  test('one portal: no selector', async () => {
    const single = await startEmulator({ portal: { plan: 'off' } });
    try {
      await openInbox(page, single.url);
      await page.waitForSelector('body[data-portals="1"]');
      expect(await page.locator('#portal-picker').isHidden()).toBe(true);
    } finally {
      await single.close();
    }
  });
});
