/**
 * The inbox page of an emulator serving several portals, in headless Chromium: a selector
 * switches between them, each shows only its own notifications, live, and a portal's settings
 * reach the page as text only.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { openInbox, screenshot, waitForStatesUnderLoad } from './support/browser.js';
import { useTwoPortalInbox } from './support/two-portals.js';
import { startEmulator } from '../src/index.js';

waitForStatesUnderLoad();

const HOSTILE_DOMAIN = '<img src=x onerror=alert(1)>.example.test';

const inbox = useTwoPortalInbox({ clientId: 'inbox-portals', bDomain: HOSTILE_DOMAIN });

// Runs before the shared check and close (after-hooks run last-registered first).
afterEach(async () => {
  expect(await inbox.page.evaluate<boolean>('window.__pwned === true')).toBe(false);
});

// Ids are per portal (both start at 1), so cards are told apart by their text.
const card = (text: string) => inbox.page.locator('.notification', { hasText: text });

describe('inbox with several portals', () => {
  test('the selector switches portals; each shows its own notifications, live', async () => {
    await inbox.a.notify.personal({ userId: 5, message: 'Only on portal a' });
    await inbox.b.notify.personal({ userId: 5, message: 'Only on portal b' });

    await openInbox(inbox.page, inbox.emu.portalNamed('a').url, '#/inbox/5');
    await inbox.page.waitForSelector('body[data-portal="a"]');
    await card('Only on portal a').waitFor();
    expect(await card('Only on portal b').count()).toBe(0);
    const options = inbox.page.locator('#portal option');
    expect(await options.allTextContents()).toEqual(['a (a.localhost)', `b (${HOSTILE_DOMAIN})`]);
    // The hostile domain stayed text: no element was made from it.
    expect(await inbox.page.locator('#portal img').count()).toBe(0);

    await inbox.page.selectOption('#portal', 'b');
    await inbox.page.waitForSelector('body[data-portal="b"][data-ready="true"][data-live="true"]');
    expect(new URL(inbox.page.url()).searchParams.get('portal')).toBe('b');
    expect(new URL(inbox.page.url()).hash).toBe('#/inbox/5');
    await card('Only on portal b').waitFor();
    expect(await card('Only on portal a').count()).toBe(0);

    // Live on b: b's new notification appears, a's does not (it is sent first, so once b's
    // has arrived, a's would have too).
    await inbox.a.notify.personal({ userId: 5, message: 'Later on a' });
    await inbox.b.notify.personal({ userId: 5, message: 'Later on b' });
    await card('Later on b').waitFor();
    expect(await card('Later on a').count()).toBe(0);
    await expect
      .poll(() => inbox.page.locator('.user[data-user-id="5"] .unread-count').textContent())
      .toBe('2');
    await screenshot(inbox.page, 'inbox-portals');

    // The Controls view acts on the portal shown.
    await inbox.page.goto(`${inbox.emu.portalNamed('a').url}/?portal=b#/controls`);
    await inbox.page.waitForSelector('body[data-ready="true"][data-portal="b"]');
    await inbox.page.locator('#portal').waitFor();
    expect(await inbox.page.locator('#portal').inputValue()).toBe('b');
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
      await openInbox(inbox.page, b.url, '#/inbox/5');
      await inbox.page.waitForSelector('body[data-portal="b"]');
      await card('Stored on b').waitFor();
      expect(await inbox.page.locator('#portal').inputValue()).toBe('b');
    } finally {
      await hosted.close();
    }
  });

  test('one portal: no selector', async () => {
    const single = await startEmulator({ portal: { plan: 'off' } });
    try {
      await openInbox(inbox.page, single.url);
      await inbox.page.waitForSelector('body[data-portals="1"]');
      expect(await inbox.page.locator('#portal-picker').isHidden()).toBe(true);
    } finally {
      await single.close();
    }
  });
});
