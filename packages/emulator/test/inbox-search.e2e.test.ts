/**
 * The inbox page's search box speaks the filter language (`src/search.ts`), in headless
 * Chromium: terms combine, a bad term is named next to the box, `user:` and `portal:` navigate,
 * live arrivals honour the query, and an arrival during a reload is not lost to the reload.
 */
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createClient, type Client } from '../../b24notify/src/index.js';
import { startEmulator, type RunningEmulator } from '../src/index.js';
import {
  launchChromium,
  openInbox,
  waitForStatesUnderLoad,
  watchedPage,
  type PageWatch,
} from './support/browser.js';

waitForStatesUnderLoad();

let browser: Browser;
let emu: RunningEmulator;
let a: Client;
let b: Client;
let watch: PageWatch;
let page: Page;

beforeAll(async () => {
  [browser, emu] = await Promise.all([
    launchChromium(),
    startEmulator({ portal: { plan: 'off' }, portals: [{ name: 'a' }, { name: 'b' }] }),
  ]);
  const client = (webhookUrl: string) =>
    createClient({ webhookUrl, pacing: false, retry: false, clientId: 'inbox-search' });
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
  await page.close();
});

const messages = () => page.locator('.notification .notification-message').allTextContents();
const search = () => page.locator('.filter-search');

describe('the search box', () => {
  test('terms of the filter language combine; live arrivals honour them', async () => {
    await a.notify.personal({ userId: 2, message: 'Invoice 1 paid', tag: 'invoice-1' });
    await a.notify.personal({ userId: 2, message: 'Invoice 2 overdue', tag: 'invoice-2' });
    await a.notify.personal({ userId: 2, message: 'Meeting at noon', tag: 'meeting' });
    await openInbox(page, emu.portalNamed('a').url, '#/inbox/2');
    await expect.poll(messages).toHaveLength(3);

    await search().fill('tag:invoice-*');
    await expect.poll(messages).toEqual(['Invoice 2 overdue', 'Invoice 1 paid']);
    await search().fill('tag:invoice-* paid');
    await expect.poll(messages).toEqual(['Invoice 1 paid']);
    await expect.poll(() => page.locator('.feed-count').textContent()).toBe('1 notification match');

    // Live: a match shows, the rest stays out.
    await a.notify.personal({ userId: 2, message: 'Invoice 3 unpaid', tag: 'other' });
    await a.notify.personal({ userId: 2, message: 'Invoice 3 paid', tag: 'invoice-3' });
    await expect.poll(messages).toEqual(['Invoice 3 paid', 'Invoice 1 paid']);

    await search().fill('is:unread has:attach');
    await expect.poll(messages).toEqual([]);
    await expect.poll(() => page.locator('.empty').textContent()).toBe('Nothing matches these filters.');
  });

  test('a term that does not parse is named next to the box; the list stays', async () => {
    await a.notify.personal({ userId: 2, message: 'Still here' });
    await openInbox(page, emu.portalNamed('a').url, '#/inbox/2');
    await expect.poll(messages).toEqual(['Still here']);
    await search().fill('colour:red');
    await expect
      .poll(() => page.locator('.filter-error').textContent())
      .toMatch(/^colour:red: unknown term "colour:"; the terms are user: from: tag:/);
    expect(await search().getAttribute('aria-invalid')).toBe('true');
    expect(await messages()).toEqual(['Still here']);
    await search().fill('still');
    await expect.poll(() => page.locator('.filter-error').isHidden()).toBe(true);
    expect(await search().getAttribute('aria-invalid')).toBe('false');
  });

  test('user: shows that user; portal: that portal, keeping the query', async () => {
    await a.notify.personal({ userId: 10, message: 'For ten on a' });
    await b.notify.personal({ userId: 10, message: 'For ten on b', tag: 'b-tag' });
    await b.notify.personal({ userId: 10, message: 'Other on b' });
    await openInbox(page, emu.portalNamed('a').url, '#/inbox/2');
    await page.waitForSelector('body[data-portal="a"]');

    await search().fill('user:10');
    await expect.poll(() => page.evaluate<string>('location.hash')).toBe('#/inbox/10');
    await expect.poll(messages).toEqual(['For ten on a']);

    await search().fill('portal:nowhere');
    await expect
      .poll(() => page.locator('.filter-error').textContent())
      .toBe('portal:nowhere: no portal named "nowhere" (there are "a", "b")');

    await search().fill('portal:b tag:b-*');
    await page.waitForSelector('body[data-portal="b"][data-ready="true"]');
    await expect.poll(messages).toEqual(['For ten on b']);
    expect(await search().inputValue()).toBe('portal:b tag:b-*');
  });
});

describe('a reload after a hash change', () => {
  test('does not overwrite a notification that arrived live while it was fetching', async () => {
    await a.notify.personal({ userId: 5, message: 'Five one' });
    await a.notify.personal({ userId: 5, message: 'Five two' });
    await openInbox(page, emu.portalNamed('a').url, '#/inbox/5');
    await expect.poll(messages).toHaveLength(2);

    // Hold user 3's list answer after the server has made it, so the event arrives in between.
    let fetched!: () => void;
    const answerMade = new Promise<void>((resolve) => (fetched = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route(/\/_emulator\/api\/notifications\?.*user=3/, async (route: Route) => {
      const response = await route.fetch();
      fetched();
      await released;
      await route.fulfill({ response });
    });
    await page.evaluate('location.hash = "#/inbox/3"');
    await answerMade;
    await a.notify.personal({ userId: 3, message: 'Three arrived live' });
    // Shown at once, in the list the reload is about to replace.
    await page.locator('.notification', { hasText: 'Three arrived live' }).waitFor();
    release();
    await expect.poll(() => page.locator('.feed-count').textContent()).toBe('1 notification');
    expect(await messages()).toEqual(['Three arrived live']);
  });
});
