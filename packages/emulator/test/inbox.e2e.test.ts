/**
 * The inbox page in headless Chromium: notifications sent through the library show up live,
 * drawn as Bitrix24 draws them, and the page's controls act on the portal. Screenshots go to
 * test-artifacts/inbox/.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  attach,
  createClient,
  delimiter,
  file,
  grid,
  image,
  link,
  message,
  user,
  type Client,
} from '../../b24notify/src/index.js';
import { startEmulator, type RunningEmulator } from '../src/index.js';
import {
  css,
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
let b24: Client;
let watch: PageWatch;
let page: Page;

beforeAll(async () => {
  [browser, emu] = await Promise.all([launchChromium(), startEmulator({ portal: { plan: 'off' } })]);
  b24 = createClient({ webhookUrl: emu.webhookUrl, pacing: false, retry: false, clientId: 'inbox-e2e' });
});

afterAll(async () => {
  await browser?.close();
  await emu?.close();
});

beforeEach(async () => {
  emu.portal.reset();
  watch = await watchedPage(browser);
  page = watch.page;
});

afterEach(async () => {
  // Whatever a test did, the page must not have thrown or opened a dialog.
  expect(watch.errors).toEqual([]);
  expect(watch.dialogs).toEqual([]);
  await page.close();
});

const card = (id: number | false) => page.locator(`.notification[data-id="${String(id)}"]`);
const badge = (userId: number) => page.locator(`.user[data-user-id="${userId}"] .unread-count`);

describe('inbox page', () => {
  test('a notification sent through the library appears live, without a reload', async () => {
    await openInbox(page, emu.url, '#/inbox/5');
    await expect.poll(() => page.locator('.empty').textContent()).toContain('No notifications yet');
    await page.evaluate('window.__sameDocument = true');

    const { result: id } = await b24.notify.personal({ userId: 5, message: 'Deploy [B]finished[/B]' });
    await card(id).waitFor();
    expect(await card(id).locator('.notification-message strong').textContent()).toBe('finished');
    await expect.poll(() => badge(5).textContent()).toBe('1');

    // Newest first, still live.
    const { result: second } = await b24.notify.personal({ userId: 5, message: 'Second' });
    await card(second).waitFor();
    expect(await page.locator('.notification').first().getAttribute('data-id')).toBe(String(second));
    await expect.poll(() => badge(5).textContent()).toBe('2');
    // Someone else's notification changes their count, not this list.
    await b24.notify.personal({ userId: 2, message: 'For Boris' });
    await expect.poll(() => badge(2).textContent()).toBe('1');
    expect(await page.locator('.notification').count()).toBe(2);
    expect(await page.evaluate<boolean>('window.__sameDocument === true')).toBe(true);
  });

  test('BB codes render as Bitrix24 shows them, links only for http(s)', async () => {
    await openInbox(page, emu.url, '#/inbox/5');
    const text =
      '[B]bold[/B] [U]under[/U] [I]italic[/I] [S]struck[/S][BR]' +
      '[URL=https://example.test/deal/7]Deal 7[/URL] [URL]https://example.test/plain[/URL] ' +
      '[URL=/crm/deal/details/9/]root-relative[/URL] [URL=javascript:alert(1)]not a link[/URL]\n' +
      '[USER=2][/USER] [USER=3]Clara S.[/USER] [CHAT=12]Sales chat[/CHAT] ' +
      '[SEND=yes]Send yes[/SEND] [PUT=/deal 7]Put command[/PUT] [CALL=+15550100]Call us[/CALL] ' +
      '[b]lower[/b] [COLOR=#f00]unknown[/COLOR] [B]unclosed';
    const { result: id } = await b24.notify.personal({ userId: 5, message: text });
    const msg = card(id).locator('.notification-message');
    await msg.waitFor();

    expect(await msg.locator('strong').allTextContents()).toEqual(['bold', 'lower']);
    expect(await msg.locator('u').textContent()).toBe('under');
    expect(await msg.locator('em').textContent()).toBe('italic');
    expect(await msg.locator('s').textContent()).toBe('struck');
    expect(await msg.locator('br').count()).toBe(2);
    const links = msg.locator('a.bb-url');
    expect(await links.evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.textContent]))).toEqual([
      ['https://example.test/deal/7', 'Deal 7'],
      ['https://example.test/plain', 'https://example.test/plain'],
      [`${emu.url}/crm/deal/details/9/`, 'root-relative'],
    ]);
    expect(await links.first().getAttribute('rel')).toBe('noopener noreferrer nofollow');
    expect(await msg.locator('.bb-url-refused').textContent()).toBe('not a link');
    // Mentions: an empty [USER=2] shows the user's name and opens their inbox.
    expect(
      await msg
        .locator('a.bb-user')
        .evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.textContent])),
    ).toEqual([
      ['#/inbox/2', 'Boris Petrov'],
      ['#/inbox/3', 'Clara S.'],
    ]);
    expect(await msg.locator('.bb-chat').textContent()).toBe('Sales chat');
    expect(await msg.locator('.bb-send').getAttribute('title')).toBe('Sends to the chat: yes');
    expect(await msg.locator('.bb-put').getAttribute('title')).toBe('Puts in the message box: /deal 7');
    expect(await msg.locator('.bb-call').getAttribute('title')).toBe('Calls +15550100');
    const shown = await msg.textContent();
    expect(shown).toContain('[COLOR=#f00]unknown[/COLOR]');
    expect(shown).toContain('[B]unclosed');
    await screenshot(page, 'bbcodes');

    // A mention is a way to that user's notifications.
    await msg.locator('a.bb-user').first().click();
    await page.waitForFunction('location.hash === "#/inbox/2"');
    await expect.poll(() => page.locator('.feed-title h2').textContent()).toBe('Boris Petrov');
  });

  test('every ATTACH block type, every GRID display, colours and tokens', async () => {
    const pic = `${emu.url}/ui/favicon.svg`;
    const { result: id } = await b24.notify.personal({
      userId: 1,
      message: 'Invoice [B]#1042[/B] was paid',
      attach: attach(
        [
          message('Paid by [USER=5]Dmitry[/USER] [URL=https://example.test/i/1042]online[/URL]'),
          link({
            link: 'https://example.test/invoices/1042',
            name: 'Invoice #1042',
            desc: 'Paid in full',
            preview: pic,
            width: 64,
            height: 64,
            userId: 5,
          }),
          link({ link: '/crm/invoice/1043/', name: 'Invoice #1043', html: '<b>HTML</b> stays text' }),
          user({ name: 'Sales bot', avatar: pic, avatarType: 'BOT', botId: 7 }),
          user({ name: 'Dmitry Ivanov', userId: 5 }),
          grid('BLOCK', [
            { name: 'Amount', value: '1 200 EUR', width: 120 },
            { name: 'Status', value: 'Paid', colorToken: 'primary' },
          ]),
          grid('LINE', [
            { name: 'Priority', value: 'High', colorToken: 'alert', width: 150 },
            { name: 'Owner', value: 'Dmitry', userId: 5 },
          ]),
          grid('ROW', [
            { name: 'Customer', value: '[B]ACME[/B]', width: 100 },
            { name: 'Site', value: 'acme.test', link: 'https://acme.test/' },
          ]),
          grid('TABLE', [
            { name: 'Q1', value: '10', color: '#1a7f37' },
            { name: 'Q2', value: '12' },
          ]),
          image([
            { link: pic, name: 'Logo', width: 48, height: 48 },
            { link: 'http://127.0.0.1:9/missing.png', name: 'Unreachable' },
          ]),
          file([
            { link: 'https://example.test/files/invoice-1042.pdf', name: 'invoice-1042.pdf', size: 48213 },
            { link: 'https://example.test/files/data.csv' },
          ]),
          delimiter({ size: 300, color: '#ff0000' }),
          delimiter(),
        ],
        { colorToken: 'alert', color: '#00ff00' },
      ),
    });
    await openInbox(page, emu.url, '#/inbox/1');
    const box = card(id).locator('.attach');
    await box.waitFor();
    expect(await box.getAttribute('data-color-token')).toBe('alert');
    expect(await css(box, 'border-left-color')).toBe('rgb(0, 255, 0)');

    // MESSAGE
    const msg = box.locator('.attach-message');
    expect(await msg.textContent()).toBe('Paid by Dmitry online');
    expect(await msg.locator('a.bb-user').getAttribute('href')).toBe('#/inbox/5');

    // LINK
    const links = box.locator('.attach-link');
    expect(await links.count()).toBe(2);
    const first = links.nth(0);
    expect(await first.locator('a.attach-link-name').getAttribute('href')).toBe(
      'https://example.test/invoices/1042',
    );
    expect(await first.locator('a.attach-link-name').textContent()).toBe('Invoice #1042');
    expect(await first.locator('.attach-link-desc').textContent()).toBe('Paid in full');
    expect(await first.locator('.attach-meta').textContent()).toBe('user 5');
    const preview = first.locator('img.attach-link-preview');
    expect(await preview.getAttribute('src')).toBe(pic);
    expect(await preview.getAttribute('referrerpolicy')).toBe('no-referrer');
    expect(await css(preview, 'width')).toBe('64px');
    const second = links.nth(1);
    expect(await second.locator('a.attach-link-name').getAttribute('href')).toBe(
      `${emu.url}/crm/invoice/1043/`,
    );
    expect(await second.locator('.attach-link-html').textContent()).toBe('<b>HTML</b> stays text');
    expect(await second.locator('.attach-link-html b').count()).toBe(0);

    // USER
    const users = box.locator('.attach-user');
    expect(await users.count()).toBe(2);
    expect(await users.nth(0).getAttribute('class')).toContain('avatar-bot');
    expect(await users.nth(0).locator('img.avatar').getAttribute('referrerpolicy')).toBe('no-referrer');
    expect(await users.nth(0).locator('.attach-meta').textContent()).toBe('bot · bot 7');
    expect(await users.nth(1).locator('.initials').textContent()).toBe('DI');
    expect(await users.nth(1).locator('a.attach-user-name').getAttribute('href')).toBe('#/inbox/5');

    // GRID, four displays
    const block = box.locator('.grid-block');
    expect(await block.locator('.grid-item').count()).toBe(2);
    expect(await css(block.locator('.grid-item').first(), 'width')).toBe('120px');
    expect(await block.locator('.grid-name').allTextContents()).toEqual(['Amount', 'Status']);
    expect(await block.locator('.tone-primary').textContent()).toBe('Paid');
    // grid.md's pictures: BLOCK stacks its items, LINE sets them side by side.
    const amount = await boxOf(block.locator('.grid-item').nth(0));
    const status = await boxOf(block.locator('.grid-item').nth(1));
    expect(status.y).toBeGreaterThanOrEqual(amount.y + amount.height);
    const line = box.locator('.grid-line');
    expect(await line.locator('.grid-item').first().textContent()).toBe('PriorityHigh');
    expect(await css(line.locator('.grid-item').first(), 'width')).toBe('150px');
    const priority = await boxOf(line.locator('.grid-item').nth(0));
    const owner = await boxOf(line.locator('.grid-item').nth(1));
    expect(owner.y).toBe(priority.y);
    expect(owner.x).toBeGreaterThanOrEqual(priority.x + priority.width);
    const priorityName = await boxOf(line.locator('.grid-item').first().locator('.grid-name'));
    const priorityValue = await boxOf(line.locator('.grid-item').first().locator('.grid-value'));
    expect(priorityValue.y).toBeGreaterThanOrEqual(priorityName.y + priorityName.height);
    expect(await css(line.locator('.tone-alert'), 'color')).toBe('rgb(217, 54, 62)');
    expect(await line.locator('a.grid-user').getAttribute('href')).toBe('#/inbox/5');
    const row = box.locator('table.grid-row');
    expect(await row.locator('tr').count()).toBe(2);
    expect(await row.locator('td.grid-value strong').textContent()).toBe('ACME');
    expect(await row.locator('a.external').getAttribute('href')).toBe('https://acme.test/');
    const table = box.locator('table.grid-table');
    expect(await table.locator('th').allTextContents()).toEqual(['Q1', 'Q2']);
    expect(await table.locator('td').allTextContents()).toEqual(['10', '12']);
    expect(await css(table.locator('td .grid-value-text').first(), 'color')).toBe('rgb(26, 127, 55)');

    // IMAGE: the emulator's own picture loads; no referrer either way.
    const images = box.locator('img.attach-image-img');
    expect(await images.count()).toBe(2);
    await expect
      .poll(() => images.first().evaluate((e) => (e as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(0);
    expect(await images.evaluateAll((is) => is.map((i) => i.getAttribute('referrerpolicy')))).toEqual([
      'no-referrer',
      'no-referrer',
    ]);
    expect(await box.locator('.attach-image figcaption').allTextContents()).toEqual(['Logo', 'Unreachable']);

    // FILE
    const files = box.locator('.attach-file');
    expect(await files.locator('.file-icon').allTextContents()).toEqual(['PDF', 'CSV']);
    expect(await files.locator('.attach-file-name').allTextContents()).toEqual([
      'invoice-1042.pdf',
      'data.csv',
    ]);
    expect(await files.locator('.attach-file-size').allTextContents()).toEqual(['47 KB', '']);

    // DELIMITER
    const lines = box.locator('hr.attach-delimiter');
    expect([await css(lines.nth(0), 'width'), await css(lines.nth(0), 'background-color')]).toEqual([
      '300px',
      'rgb(255, 0, 0)',
    ]);
    expect([await css(lines.nth(1), 'width'), await css(lines.nth(1), 'background-color')]).toEqual([
      '200px',
      'rgb(198, 198, 198)',
    ]);
    await screenshot(page, 'attach-blocks');
  });

  test('a GRID mixing displays, as the docs’ constructor example sends it, draws each run in its own', async () => {
    const { result: id } = await b24.notify.personal({
      userId: 1,
      message: 'Mixed grid',
      attach: [
        {
          GRID: [
            { NAME: 'Priority', VALUE: 'High', DISPLAY: 'LINE' },
            { NAME: 'Category', VALUE: 'Requests', DISPLAY: 'LINE' },
            { NAME: 'Description', VALUE: 'Structured entities', DISPLAY: 'BLOCK', WIDTH: 200 },
          ],
        },
      ],
    });
    await openInbox(page, emu.url, '#/inbox/1');
    const mixed = card(id).locator('.attach .attach-grid-mixed');
    await mixed.waitFor();
    const runs = mixed.locator(':scope > .attach-grid');
    expect(await runs.count()).toBe(2);
    expect(await runs.nth(0).getAttribute('class')).toContain('grid-line');
    expect(await runs.nth(0).locator('.grid-name').allTextContents()).toEqual(['Priority', 'Category']);
    expect(await runs.nth(1).getAttribute('class')).toContain('grid-block');
    expect(await css(runs.nth(1).locator('.grid-item'), 'width')).toBe('200px');
  });

  test('personal and system notifications, tag and sub-tag, MESSAGE_OUT', async () => {
    const { result: personal } = await b24.notify.personal({
      userId: 3,
      message: 'Please review the report',
      messageOut: 'Please review the report (e-mail)',
      tag: 'REPORT_7',
      subTag: 'REPORTS',
    });
    const { result: system } = await b24.notify.system({ userId: 3, message: 'Backup completed' });
    await openInbox(page, emu.url, '#/inbox/3');
    await card(system).waitFor();
    expect(await card(personal).locator('.notification-author').textContent()).toBe('Anna Admin');
    expect(await card(personal).locator('.kind').textContent()).toBe('personal');
    expect(await card(personal).locator('.avatar').textContent()).toBe('AA');
    expect(await card(personal).locator('.chip-tag').textContent()).toBe('REPORT_7');
    expect(await card(personal).locator('.chip-sub-tag').textContent()).toBe('REPORTS');
    expect(await card(personal).locator('.notification-out').textContent()).toBe(
      'MESSAGE_OUT Please review the report (e-mail)',
    );
    expect(await card(system).getAttribute('class')).toContain('system');
    expect(await card(system).locator('.notification-author').textContent()).toBe('System');
    expect(await card(system).locator('.kind').textContent()).toBe('system');
    expect(await card(system).locator('.chip').count()).toBe(0);

    // Clicking a tag filters the list by it.
    await card(personal).locator('.chip-sub-tag').click();
    await card(system).waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('.filter-search').inputValue()).toBe('tag:REPORTS');
    await expect.poll(() => page.locator('.notification').count()).toBe(1);
  });

  test('read, unread and delete from the page, and read state changed elsewhere', async () => {
    const { result: a } = await b24.notify.personal({ userId: 10, message: 'First' });
    const { result: b } = await b24.notify.personal({ userId: 10, message: 'Second' });
    await openInbox(page, emu.url, '#/inbox/10');
    await card(b).waitFor();
    await expect.poll(() => badge(10).textContent()).toBe('2');

    await card(a).locator('.action-read').click();
    await expect.poll(() => card(a).getAttribute('class')).toBe('notification');
    await expect.poll(() => card(a).locator('.action-read').textContent()).toBe('Mark unread');
    await expect.poll(() => emu.portal.store.getNotification(Number(a))?.read).toBe(true);
    await expect.poll(() => badge(10).textContent()).toBe('1');

    await card(a).locator('.action-read').click();
    await expect.poll(() => card(a).getAttribute('class')).toBe('notification unread');
    await expect.poll(() => emu.portal.store.getNotification(Number(a))?.read).toBe(false);
    await expect.poll(() => badge(10).textContent()).toBe('2');

    await card(b).locator('.action-delete').click();
    await card(b).waitFor({ state: 'detached' });
    await expect.poll(() => emu.portal.store.getNotification(Number(b))).toBeUndefined();
    await expect.poll(() => badge(10).textContent()).toBe('1');
    await expect.poll(() => page.locator('.feed-count').textContent()).toBe('1 notification');

    // Marked read elsewhere (a script, through the control API): the page follows.
    await fetch(`${emu.url}/_emulator/api/notifications/${String(a)}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ read: true }),
    });
    await expect.poll(() => card(a).getAttribute('class')).toBe('notification');
    await expect.poll(() => badge(10).textContent()).toBe('0');

    // The webhook's own user reads and deletes through the library: the page follows too.
    const { result: own } = await b24.notify.personal({ userId: 1, message: 'Mine' });
    await openInbox(page, emu.url, '#/inbox/1');
    await card(own).waitFor();
    await b24.notify.read({ id: Number(own), onlyCurrent: true });
    await expect.poll(() => card(own).getAttribute('class')).toBe('notification');
    await b24.notify.delete({ id: Number(own) });
    await card(own).waitFor({ state: 'detached' });
    await expect.poll(() => badge(1).textContent()).toBe('0');
  });

  test('search by tag and by text, with live arrivals honouring the filters', async () => {
    await b24.notify.personal({ userId: 2, message: 'Invoice paid', tag: 'INV_1', subTag: 'BILLING' });
    await b24.notify.personal({ userId: 2, message: 'Invoice overdue', tag: 'INV_2', subTag: 'BILLING' });
    await b24.notify.personal({ userId: 2, message: 'Meeting at noon', messageOut: 'calendar invite' });
    await openInbox(page, emu.url, '#/inbox/2');
    await expect.poll(() => page.locator('.notification').count()).toBe(3);

    await page.locator('.filter-text').fill('invoice');
    await expect.poll(() => page.locator('.notification').count()).toBe(2);
    await page.locator('.filter-text').fill('CALENDAR');
    await expect
      .poll(() => page.locator('.notification .notification-message').allTextContents())
      .toEqual(['Meeting at noon']);
    await page.locator('.filter-text').fill('tag:BILLING');
    await expect.poll(() => page.locator('.notification').count()).toBe(2);
    await page.locator('.filter-text').fill('tag:INV_2');
    await expect
      .poll(() => page.locator('.notification .notification-message').allTextContents())
      .toEqual(['Invoice overdue']);
    await expect.poll(() => page.locator('.feed-count').textContent()).toBe('1 notification match');

    // Live: one that matches the filter shows, one that does not stays out.
    await b24.notify.personal({ userId: 2, message: 'Unrelated' });
    const { result: replaced } = await b24.notify.personal({
      userId: 2,
      message: 'Invoice 2 paid now',
      tag: 'INV_2',
    });
    await card(replaced).waitFor();
    // The same TAG replaced the older one (the portal deletes it), and the page followed.
    await expect
      .poll(() => page.locator('.notification .notification-message').allTextContents())
      .toEqual(['Invoice 2 paid now']);

    await page.locator('.clear-filters').click();
    await expect.poll(() => page.locator('.notification').count()).toBe(4);
    await page.locator('.filter-unread').check();
    await expect.poll(() => page.locator('.notification').count()).toBe(4);
    await page.locator('.notification').first().locator('.action-read').click();
    await expect.poll(() => page.locator('.notification').count()).toBe(3);
  });

  test('each notification shows the request that created it, secrets masked, and the answer', async () => {
    const { result: id } = await b24.notify.personal({
      userId: 5,
      message: 'With its request',
      tag: 'REQ_1',
    });
    await openInbox(page, emu.url, '#/inbox/5');
    await card(id).locator('.action-request').click();
    const panel = card(id).locator('.request-panel');
    await panel.locator('.request-params').waitFor();
    await expect.poll(() => panel.locator('.request-summary').textContent()).toMatch(/→ 200 in \d+\.\d ms/);
    const summary = await panel.locator('.request-summary').textContent();
    expect(summary).toContain('POST /rest/1/***/im.notify.personal.add');
    const params = JSON.parse((await panel.locator('.request-params').textContent()) ?? '') as Record<
      string,
      unknown
    >;
    expect(params).toMatchObject({
      USER_ID: 5,
      MESSAGE: 'With its request',
      TAG: 'REQ_1',
      CLIENT_ID: 'inbox-e2e',
    });
    const answer = JSON.parse((await panel.locator('.request-response').textContent()) ?? '') as {
      result: unknown;
    };
    expect(answer.result).toBe(id);
    // The webhook's code is a secret: it is nowhere on the page.
    const code = new URL(emu.webhookUrl).pathname.split('/')[3] as string;
    expect(await page.content()).not.toContain(code);
    await screenshot(page, 'request-panel');
  });

  test('the request log shows status, timing, errors, limit and chaos answers, live', async () => {
    await openInbox(page, emu.url, '#/requests');
    await page.locator('.request-log').waitFor();

    // Chaos from the page's editor: the next personal.add fails with an injected error.
    await openInbox(page, emu.url, '#/controls');
    await expect.poll(() => page.locator('.chaos-editor').inputValue()).toContain('"rules"');
    await page.locator('.chaos-editor').fill(
      JSON.stringify({
        rules: [
          {
            method: 'im.notify.personal.add',
            sequence: [{ type: 'error', code: 'INTERNAL_SERVER_ERROR' }],
          },
        ],
      }),
    );
    await page.locator('.chaos-apply').click();
    await expect.poll(() => page.locator('.chaos-status').textContent()).toBe('Applied.');
    await expect.poll(() => emu.portal.chaos.settings().rules).toHaveLength(1);
    // A mistake is answered with the API's own message.
    await page.locator('.chaos-editor').fill('{"rules": [{"method": "*", "probabilty": 1}]}');
    await page.locator('.chaos-apply').click();
    await expect.poll(() => page.locator('.chaos-status').textContent()).toContain('probabilty');

    // A fresh load of the log, finished before anything is sent: a hash change alone would leave
    // it loading while the requests below arrive, and the load could then overwrite them.
    await openInbox(page, emu.url, '#/requests');
    await expect(b24.notify.personal({ userId: 5, message: 'Fails once' })).rejects.toThrow();
    const { result: ok } = await b24.notify.personal({ userId: 5, message: 'Then works' });

    // Limits: a bucket of one, drained slowly; the second raw call is refused.
    emu.portal.applyLimits({ intensity: { drainPerSecond: 0.001, capacity: 1 }, operating: false });
    const call = () =>
      fetch(`${emu.webhookUrl}im.notify.personal.add`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ USER_ID: 5, MESSAGE: 'limited' }),
      });
    expect((await call()).status).toBe(200);
    expect((await call()).status).toBe(503);

    const rows = page.locator('tr.request-row');
    const table = () =>
      rows.evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      );
    // Newest first: id, time, method, transport, status, error, fault, ms, notifications. The
    // rows arrive live, one event each: wait for all four as they should read.
    await expect
      .poll(async () => (await table()).map((c) => [c[2], c[3], c[4], c[5], c[6]]))
      .toEqual([
        ['im.notify.personal.add', 'webhook', '503', 'QUERY_LIMIT_EXCEEDED', ''],
        ['im.notify.personal.add', 'webhook', '200', '', ''],
        ['im.notify.personal.add', 'webhook', '200', '', ''],
        ['im.notify.personal.add', 'webhook', '500', 'INTERNAL_SERVER_ERROR', 'error INTERNAL_SERVER_ERROR'],
      ]);
    const cells = await table();
    expect(cells[2]?.[8]).toBe(String(ok));
    for (const c of cells) expect(c[7]).toMatch(/^\d+\.\d$/);
    await expect.poll(() => rows.nth(0).getAttribute('class')).toContain('status-server');

    // A row opens to the request and its answer.
    await rows.nth(0).click();
    const detail = page.locator('.request-detail-row');
    await detail.waitFor();
    await expect
      .poll(() => detail.locator('.request-response').textContent())
      .toContain('QUERY_LIMIT_EXCEEDED');

    // Errors only, from the server.
    await page.locator('.filter-errors').check();
    await expect.poll(() => rows.count()).toBe(2);
    await screenshot(page, 'request-log');
  });

  test('the clock control moves the portal clock', async () => {
    await openInbox(page, emu.url, '#/controls');
    await page.locator('.clock-offset').waitFor();
    await expect.poll(() => page.locator('.clock-offset').textContent()).toBe('none');
    await page.locator('.step', { hasText: '+1 h' }).click();
    await expect.poll(() => page.locator('.clock-offset').textContent()).toBe('+1 h');
    await expect.poll(() => emu.portal.clock.offsetMs).toBe(3_600_000);
    await page.locator('.clock-advance').fill('90s');
    await page.locator('.clock-advance-button').click();
    await expect.poll(() => page.locator('.clock-offset').textContent()).toBe('+1 h 1 min 30 s');
    await page.locator('.clock-advance').fill('soon');
    await page.locator('.clock-advance-button').click();
    await expect.poll(() => page.locator('.clock-status').textContent()).toContain('Give a duration');
    await page.locator('.clock-zero').click();
    await expect.poll(() => page.locator('.clock-offset').textContent()).toBe('none');
    await expect.poll(() => emu.portal.clock.offsetMs).toBe(0);
    await screenshot(page, 'controls');
  });
});

/** Where an element is drawn; it must be drawn. */
async function boxOf(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('the element is not drawn');
  return box;
}
