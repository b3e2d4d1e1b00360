/**
 * The inbox page's search box speaks the filter language (`src/search.ts`), in headless
 * Chromium: terms combine, a bad term is named next to the box, `user:` and `portal:` navigate,
 * live arrivals honour the query, and an arrival during a reload is not lost to the reload.
 */
import type { Route } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { openInbox, waitForStatesUnderLoad } from './support/browser.js';
import { useTwoPortalInbox } from './support/two-portals.js';

waitForStatesUnderLoad();

const inbox = useTwoPortalInbox({ clientId: 'inbox-search' });

const messages = () => inbox.page.locator('.notification .notification-message').allTextContents();
const search = () => inbox.page.locator('.filter-search');

describe('the search box', () => {
  test('terms of the filter language combine; live arrivals honour them', async () => {
    await inbox.a.notify.personal({ userId: 2, message: 'Invoice 1 paid', tag: 'invoice-1' });
    await inbox.a.notify.personal({ userId: 2, message: 'Invoice 2 overdue', tag: 'invoice-2' });
    await inbox.a.notify.personal({ userId: 2, message: 'Meeting at noon', tag: 'meeting' });
    await openInbox(inbox.page, inbox.emu.portalNamed('a').url, '#/inbox/2');
    await expect.poll(messages).toHaveLength(3);

    await search().fill('tag:invoice-*');
    await expect.poll(messages).toEqual(['Invoice 2 overdue', 'Invoice 1 paid']);
    await search().fill('tag:invoice-* paid');
    await expect.poll(messages).toEqual(['Invoice 1 paid']);
    await expect.poll(() => inbox.page.locator('.feed-count').textContent()).toBe('1 notification match');

    // Live: a match shows, the rest stays out.
    await inbox.a.notify.personal({ userId: 2, message: 'Invoice 3 unpaid', tag: 'other' });
    await inbox.a.notify.personal({ userId: 2, message: 'Invoice 3 paid', tag: 'invoice-3' });
    await expect.poll(messages).toEqual(['Invoice 3 paid', 'Invoice 1 paid']);

    await search().fill('is:unread has:attach');
    await expect.poll(messages).toEqual([]);
    await expect
      .poll(() => inbox.page.locator('.empty').textContent())
      .toBe('Nothing matches these filters.');
  });

  test('a term that does not parse is named next to the box; the list stays', async () => {
    await inbox.a.notify.personal({ userId: 2, message: 'Still here' });
    await openInbox(inbox.page, inbox.emu.portalNamed('a').url, '#/inbox/2');
    await expect.poll(messages).toEqual(['Still here']);
    await search().fill('colour:red');
    await expect
      .poll(() => inbox.page.locator('.filter-error').textContent())
      .toMatch(/^colour:red: unknown term "colour:"; the terms are user: from: tag:/);
    expect(await search().getAttribute('aria-invalid')).toBe('true');
    expect(await messages()).toEqual(['Still here']);
    await search().fill('still');
    await expect.poll(() => inbox.page.locator('.filter-error').isHidden()).toBe(true);
    expect(await search().getAttribute('aria-invalid')).toBe('false');
  });

  test('user: shows that user; portal: that portal, keeping the query', async () => {
    await inbox.a.notify.personal({ userId: 10, message: 'For ten on a' });
    await inbox.b.notify.personal({ userId: 10, message: 'For ten on b', tag: 'b-tag' });
    await inbox.b.notify.personal({ userId: 10, message: 'Other on b' });
    await openInbox(inbox.page, inbox.emu.portalNamed('a').url, '#/inbox/2');
    await inbox.page.waitForSelector('body[data-portal="a"]');

    await search().fill('user:10');
    await expect.poll(() => inbox.page.evaluate<string>('location.hash')).toBe('#/inbox/10');
    await expect.poll(messages).toEqual(['For ten on a']);

    await search().fill('portal:nowhere');
    await expect
      .poll(() => inbox.page.locator('.filter-error').textContent())
      .toBe('portal:nowhere: no portal named "nowhere" (there are "a", "b")');

    await search().fill('portal:b tag:b-*');
    await inbox.page.waitForSelector('body[data-portal="b"][data-ready="true"]');
    await expect.poll(messages).toEqual(['For ten on b']);
    expect(await search().inputValue()).toBe('portal:b tag:b-*');
  });
});

describe('a reload after a hash change', () => {
  test('does not overwrite a notification that arrived live while it was fetching', async () => {
    await inbox.a.notify.personal({ userId: 5, message: 'Five one' });
    await inbox.a.notify.personal({ userId: 5, message: 'Five two' });
    await openInbox(inbox.page, inbox.emu.portalNamed('a').url, '#/inbox/5');
    await expect.poll(messages).toHaveLength(2);

    // Hold user 3's list answer after the server has made it, so the event arrives in between.
    let fetched!: () => void;
    const answerMade = new Promise<void>((resolve) => (fetched = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    await inbox.page.route(/\/_emulator\/api\/notifications\?.*user=3/, async (route: Route) => {
      const response = await route.fetch();
      fetched();
      await released;
      await route.fulfill({ response });
    });
    await inbox.page.evaluate('location.hash = "#/inbox/3"');
    await answerMade;
    await inbox.a.notify.personal({ userId: 3, message: 'Three arrived live' });
    // Shown at once, in the list the reload is about to replace.
    await inbox.page.locator('.notification', { hasText: 'Three arrived live' }).waitFor();
    release();
    await expect.poll(() => inbox.page.locator('.feed-count').textContent()).toBe('1 notification');
    expect(await messages()).toEqual(['Three arrived live']);
  });
});
