/**
 * The inbox page treats every field of every request as hostile: a corpus of XSS payloads in
 * the message, MESSAGE_OUT, tags, every ATTACH field, user names and the request log must show
 * as text and execute nothing, and so must values in the portal settings and payloads typed into
 * every input of the Controls view. Payloads reach the page three ways: through the library (what
 * the portal accepts), as raw requests the portal refuses (they still reach the request log),
 * and stored directly, bypassing validation (the page must not rely on it).
 */
import { writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  attach,
  createClient,
  file,
  grid,
  image,
  link,
  message,
  user,
  type Client,
} from '../../b24notify/src/index.js';
import type { Attach } from '../src/attach.js';
import { startEmulator, type RunningEmulator } from '../src/index.js';
import {
  ARTIFACTS,
  launchChromium,
  openInbox,
  screenshot,
  waitForStatesUnderLoad,
  watchedPage,
  type PageWatch,
} from './support/browser.js';

waitForStatesUnderLoad();

/** Each sets `window.__pwned` or opens a dialog if it ever runs. */
const PAYLOADS = [
  '<img src=x onerror="window.__pwned=true;alert(1)">',
  '<script>window.__pwned=true;alert(2)</script>',
  '"><svg onload="window.__pwned=true">',
  '\'><iframe src="javascript:parent.__pwned=true"></iframe>',
  '<a href="javascript:window.__pwned=true" id="pwn">click</a>',
  'javascript:window.__pwned=true',
  '[URL=javascript:window.__pwned=true]bb url[/URL]',
  '[URL]javascript:alert(3)[/URL]',
  '[URL=" onmouseover="window.__pwned=true"]quoted[/URL]',
  '[URL=data:text/html,<script>alert(4)</script>]data url[/URL]',
  '[USER=1 onmouseover=window.__pwned=true]mention[/USER]',
  '[B]<img src=x onerror=alert(5)>[/B]',
  '<style>*{background:url("javascript:alert(6)")}</style>',
  '{{constructor.constructor("window.__pwned=true")()}}',
  '${alert(7)}',
  '&lt;img src=x onerror=alert(8)&gt;',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(9)>',
  '<details open ontoggle="window.__pwned=true">',
];
/** Shown verbatim somewhere on the page: proof that a payload became text, not that it vanished. */
const MARKER = PAYLOADS[0] as string;
const CSS_ATTACK = 'red;background:url(javascript:window.__pwned=true)';

let browser: Browser;
let emu: RunningEmulator;
let b24: Client;
let watch: PageWatch;
let page: Page;

beforeAll(async () => {
  const evil = PAYLOADS;
  [browser, emu] = await Promise.all([
    launchChromium(),
    startEmulator({
      portal: {
        plan: 'off',
        // User names are data too: the side list, authors and mentions show them.
        users: [
          { ID: 1, NAME: evil[0] as string, LAST_NAME: evil[2], WORK_POSITION: evil[1], EMAIL: evil[17] },
          { ID: 2, NAME: evil[3] as string, LAST_NAME: evil[12], WORK_POSITION: evil[16] },
        ],
      },
    }),
  ]);
  b24 = createClient({ webhookUrl: emu.webhookUrl, pacing: false, retry: false, clientId: evil[2] });
  watch = await watchedPage(browser);
  page = watch.page;
});

afterAll(async () => {
  await browser?.close();
  await emu?.close();
});

/** Everything the library lets through, every field a payload. */
async function sendThroughLibrary(): Promise<number[]> {
  const ids: number[] = [];
  for (const [i, p] of PAYLOADS.entries()) {
    const url = `https://example.test/${i}/"><img src=x onerror=alert(${i})>?q=${p}`;
    const { result } = await b24.notify.personal({
      userId: 1,
      message: `${p} [USER=1][/USER] [URL=${url}]${p}[/URL]`,
      messageOut: p,
      tag: `${i}${p}`,
      subTag: p,
      attach: attach(
        [
          message(p),
          link({ link: url, name: p, desc: p, preview: `http://127.0.0.1:9/${i}.png?${p}`, networkId: p }),
          link({ link: `/crm/${i}/"><script>alert(1)</script>`, name: p, html: p }),
          user({
            name: p,
            avatar: `http://127.0.0.1:9/a.png?${p}`,
            link: url,
            networkId: p,
            avatarType: 'CHAT',
          }),
          grid('BLOCK', [{ name: p, value: p, link: url }]),
          grid('LINE', [{ name: p, value: p, colorToken: 'alert' }]),
          grid('ROW', [{ name: p, value: `[B]${p}[/B]`, userId: 1 }]),
          grid('TABLE', [{ name: p, value: p, color: '#123456' }]),
          image({
            link: `http://127.0.0.1:9/${i}.png?${p}`,
            name: p,
            preview: `http://127.0.0.1:9/p.png?${p}`,
          }),
          file({ link: url, name: p, size: 1 }),
        ],
        { colorToken: 'secondary' },
      ),
    });
    if (typeof result === 'number') ids.push(result);
    // A system notification too: the other author shape.
    await b24.notify.system({ userId: 2, message: p, tag: `s${i}${p}`, subTag: p });
  }
  return ids;
}

/** What the portal refuses (links, colours, displays it validates) still lands in the request log. */
async function sendRefused(): Promise<void> {
  const blocks = [
    { LINK: { LINK: 'javascript:window.__pwned=true', NAME: PAYLOADS[0] } },
    { GRID: [{ DISPLAY: 'ROW', NAME: 'c', VALUE: 'v', COLOR: CSS_ATTACK }] },
    { DELIMITER: { COLOR: CSS_ATTACK } },
    { IMAGE: { LINK: 'data:image/svg+xml,<svg onload=alert(10)>' } },
  ];
  for (const block of blocks) {
    const res = await fetch(`${emu.webhookUrl}im.notify.personal.add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ USER_ID: 1, MESSAGE: PAYLOADS[1], ATTACH: [block] }),
    });
    expect(res.status).toBe(400);
  }
}

/** Stored as is, bypassing validation: every check the page makes itself is exercised. */
function storeUnvalidated(): number {
  const hostile: unknown = {
    colorToken: 'base" onmouseover="window.__pwned=true',
    color: CSS_ATTACK,
    blocks: [
      { MESSAGE: '[URL=javascript:window.__pwned=true]js[/URL] [URL=vbscript:msgbox(1)]vb[/URL]' },
      { LINK: { LINK: 'javascript:window.__pwned=true', NAME: 'js link', PREVIEW: 'javascript:alert(11)' } },
      {
        LINK: {
          LINK: 'data:text/html,<script>alert(12)</script>',
          NAME: 'data link',
          WIDTH: `100px;${CSS_ATTACK}`,
        },
      },
      { LINK: { LINK: '//evil.test/x', NAME: 'protocol-relative', USER_ID: '1 onmouseover=alert(13)' } },
      { LINK: { LINK: '/\\evil.test/x', NAME: 'backslash host' } },
      { LINK: { LINK: ' javascript:alert(14)', NAME: 'leading space' } },
      { LINK: { LINK: 'java\tscript:alert(15)', NAME: 'tab' } },
      { LINK: { LINK: 'JaVaScRiPt:alert(16)', NAME: ['array', 'name'] } },
      { USER: { NAME: PAYLOADS[2], AVATAR: 'javascript:alert(17)', AVATAR_TYPE: 'BOT" onclick="alert(18)' } },
      { USER: { NAME: { toString: 'x' }, LINK: 'vbscript:msgbox(2)' } },
      {
        GRID: [
          {
            DISPLAY: 'TABLE" onmouseover="alert(19)',
            NAME: PAYLOADS[4],
            VALUE: PAYLOADS[0],
            COLOR: CSS_ATTACK,
            COLOR_TOKEN: 'alert onmouseover=alert(20)',
            LINK: 'javascript:alert(21)',
            WIDTH: '1e9',
            HEIGHT: {},
          },
          'not an item',
        ],
      },
      { GRID: { DISPLAY: 'LINE', NAME: 'one object', VALUE: 'not a list', COLOR: '#ff0000;x:y' } },
      {
        IMAGE: [
          { LINK: 'javascript:alert(22)', PREVIEW: 'data:image/svg+xml,<svg onload=alert(23)>', NAME: 'img' },
          { LINK: 'http://127.0.0.1:9/x.png', WIDTH: `1px;${CSS_ATTACK}`, NAME: PAYLOADS[5] },
        ],
      },
      { FILE: [{ LINK: 'javascript:alert(24)', NAME: 'evil.pdf', SIZE: 'big' }] },
      { DELIMITER: { SIZE: `100px;${CSS_ATTACK}`, COLOR: CSS_ATTACK } },
      { [PAYLOADS[0] as string]: 'an unknown block type' },
      JSON.parse('{"__proto__": {"MESSAGE": "polluted"}}') as unknown,
      'a string block',
      null,
      ['an', 'array'],
    ],
  };
  const stored = emu.portal.store.addNotification({
    userId: 1,
    authorId: 999,
    type: 'personal',
    message: `${PAYLOADS[6]} ${PAYLOADS[10]}`,
    messageOut: PAYLOADS[1] as string,
    tag: PAYLOADS[3] as string,
    subTag: PAYLOADS[4] as string,
    appKey: 'x',
    clientId: null,
    attach: hostile as Attach,
    read: false,
    createdAt: emu.portal.clock.now(),
    requestId: null,
    answers: [{ kind: 'answer', text: PAYLOADS[0] as string, at: 0 }],
  });
  emu.portal.emit('notification', stored);
  return stored.id;
}

/** Scans the page for anything a payload could have turned into markup, script or style. */
const SCAN = `(() => {
  const app = document.querySelector('#app');
  const all = [document.documentElement, ...document.querySelectorAll('*')];
  const attrs = (e) => Array.from(e.attributes);
  return {
    handlers: all.flatMap((e) => attrs(e).filter((a) => /^on/i.test(a.name)).map((a) => e.tagName + ' ' + a.name)),
    scripts: Array.from(document.scripts, (s) => s.getAttribute('src')),
    dangerous: Array.from(app.querySelectorAll('script,iframe,frame,object,embed,svg,math,style,link,meta,base,form,template,details,input:not(.filter-tag):not(.filter-text):not(.filter-unread):not(.filter-method):not(.filter-errors):not(.clock-advance):not(.setting-input),textarea:not(.chaos-editor)'), (e) => e.tagName),
    hrefs: Array.from(app.querySelectorAll('[href]'), (e) => e.getAttribute('href')),
    srcs: Array.from(app.querySelectorAll('[src]'), (e) => [e.getAttribute('src'), e.getAttribute('referrerpolicy')]),
    styles: Array.from(app.querySelectorAll('[style]'), (e) => [e.getAttribute('style'), e.tagName + '.' + e.className]),
    classes: Array.from(app.querySelectorAll('[class]'), (e) => e.getAttribute('class')),
    text: app.textContent,
  };
})()`;

interface Scan {
  handlers: string[];
  scripts: (string | null)[];
  dangerous: string[];
  hrefs: (string | null)[];
  srcs: [string | null, string | null][];
  styles: [string | null, string][];
  classes: (string | null)[];
  text: string;
}

/** Fire the events inline handlers would listen to on every element (links are not followed). */
const PROVOKE = `(() => {
  for (const e of document.querySelectorAll('#app *')) {
    for (const type of ['mouseover', 'mouseenter', 'focus', 'load', 'error', 'toggle', 'animationstart']) {
      e.dispatchEvent(new Event(type));
    }
  }
})()`;

async function assertNothingRan(where: string): Promise<Scan> {
  await page.evaluate(PROVOKE);
  // Let whatever the events scheduled run first: every eager image loaded or failed (an onerror
  // payload fires then; a lazy one off screen is never fetched), then two frames and a timer
  // turn, rather than a fixed pause.
  await page.waitForFunction("[...document.images].every((i) => i.complete || i.loading === 'lazy')");
  await page.evaluate(
    'new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0))))',
  );
  const scan = await page.evaluate<Scan>(SCAN);
  expect(await page.evaluate<boolean>('window.__pwned === true'), where).toBe(false);
  expect(watch.dialogs, where).toEqual([]);
  expect(watch.errors, where).toEqual([]);
  expect(scan.handlers, where).toEqual([]);
  expect(scan.scripts, where).toEqual(['/ui/app.js']);
  expect(scan.dangerous, where).toEqual([]);
  for (const href of scan.hrefs)
    expect(href, where).toMatch(/^(https?:\/\/|#\/inbox(\/\d+)?$|#\/(requests|controls)$)/);
  for (const [src, policy] of scan.srcs) {
    expect(src, where).toMatch(/^https?:\/\//);
    expect(policy, where).toBe('no-referrer');
  }
  for (const [style, element] of scan.styles) {
    expect(style, `${where}: ${element}`).toMatch(
      /^((width|height|color|background-color|border-left-color): [^;:()]*(\([\d, ]+\))?;\s*)*$/,
    );
  }
  for (const cls of scan.classes) expect(cls, where).toMatch(/^[\w -]*$/);
  return scan;
}

describe('inbox page under hostile input', () => {
  test('the CSP is in force: an injected inline script is blocked and reported', async () => {
    // A page of its own: the script element injected here must not linger for the scans.
    const probe = await watchedPage(browser);
    const res = await probe.page.goto(`${emu.url}/`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await probe.page.waitForSelector('body[data-ready="true"]');
    await probe.page.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__pwned = true';
      document.body.appendChild(s);
    })()`);
    await expect.poll(() => probe.page.evaluate<number>('window.__csp.length')).toBeGreaterThan(0);
    expect(await probe.page.evaluate<boolean>('window.__pwned === true')).toBe(false);
    await probe.page.close();
  });

  test('payloads in every field, through the library, arrive live and stay text', async () => {
    await openInbox(page, emu.url, '#/inbox/1');
    const ids = await sendThroughLibrary();
    expect(ids).toHaveLength(PAYLOADS.length);
    for (const id of ids) await page.locator(`.notification[data-id="${id}"]`).waitFor();

    // Open every card's request: the masked parameters hold the payloads too.
    for (const button of await page.locator('.action-request').all()) await button.click();
    await expect.poll(() => page.locator('.request-params').count()).toBe(ids.length);

    const scan = await assertNothingRan('library');
    expect(scan.text).toContain(MARKER);
    expect(scan.text).toContain('<script>window.__pwned=true;alert(2)</script>');
    // The user list and mentions show hostile user names as text.
    expect(await page.locator('.user[data-user-id="1"] .user-name').textContent()).toBe(
      `${PAYLOADS[0]} ${PAYLOADS[2]}`,
    );
    expect(await page.locator('a.bb-user').first().textContent()).toBe(`${PAYLOADS[0]} ${PAYLOADS[2]}`);
    // Links that only looked like BB code values are refused, never made into anchors.
    expect(await page.locator('.bb-url-refused').count()).toBeGreaterThan(0);
    await screenshot(page, 'xss-library');

    await openInbox(page, emu.url, '#/inbox/2');
    await expect.poll(() => page.locator('.notification.system').count()).toBe(PAYLOADS.length);
    await assertNothingRan('system notifications');
  });

  test('values the portal refuses, stored anyway, are checked again by the page', async () => {
    await openInbox(page, emu.url, '#/inbox/1');
    const id = storeUnvalidated();
    const card = page.locator(`.notification[data-id="${id}"]`);
    await card.waitFor();
    const scan = await assertNothingRan('unvalidated store');
    // Nothing but http(s) became a link; refused links are shown as text.
    const refused = await card.locator('.refused-link').allTextContents();
    expect(refused).toEqual(
      expect.arrayContaining([
        'javascript:window.__pwned=true',
        'data:text/html,<script>alert(12)</script>',
        '//evil.test/x',
        '/\\evil.test/x',
        ' javascript:alert(14)',
        'java\tscript:alert(15)',
        'JaVaScRiPt:alert(16)',
        'vbscript:msgbox(2)',
        'javascript:alert(21)',
        'javascript:alert(22)',
        'javascript:alert(24)',
      ]),
    );
    expect(await card.locator('.bb-url-refused').allTextContents()).toEqual(['bb url', 'js', 'vb']);
    // Hostile enum values fall back to the defaults rather than becoming class names.
    expect(await card.locator('.attach').getAttribute('class')).toBe('attach attach-base');
    expect(await card.locator('.attach-user').first().getAttribute('class')).toBe(
      'attach-block attach-user avatar-user',
    );
    expect(await card.locator('.attach-grid').first().getAttribute('class')).toBe(
      'attach-block attach-grid grid-block',
    );
    // A DELIMITER with a hostile SIZE gets the documented default width, and no colour.
    expect(await card.locator('hr.attach-delimiter').getAttribute('style')).toBe('width: 200px;');
    expect(await card.locator('.attach-unknown').allTextContents()).toEqual([
      `Unknown block ${MARKER.slice(0, 40)}`,
      'Unknown block __proto__',
      'Unreadable block',
      'Unreadable block',
      'Unreadable block',
    ]);
    expect(scan.text).toContain(PAYLOADS[6]);
    await screenshot(page, 'xss-unvalidated');
  });

  test('the request log, refused requests and the chaos editor show payloads as text', async () => {
    await sendRefused();
    emu.portal.chaos.configure({
      rules: [{ method: PAYLOADS[0] as string, faults: [{ type: 'reset' }] }],
    });
    // Anyone on the machine may name a method in the portal settings, which the controls show.
    emu.portal.config.processingSeconds = { ...emu.portal.config.processingSeconds, [MARKER]: 1 };
    await openInbox(page, emu.url, '#/requests');
    const rows = page.locator('tr.request-row');
    await expect.poll(() => rows.count()).toBeGreaterThan(PAYLOADS.length);
    // Open the refused ones (newest first) to show their parameters.
    for (let i = 0; i < 4; i++) await rows.nth(i).click();
    await expect.poll(() => page.locator('.request-detail-row').count()).toBe(4);
    const details = (await page.locator('.request-detail-row').allTextContents()).join('\n');
    expect(details).toContain('ATTACH_ERROR');
    expect(details).toContain(CSS_ATTACK);
    expect(details).toContain('javascript:window.__pwned=true');
    await assertNothingRan('request log');

    await openInbox(page, emu.url, '#/controls');
    await expect
      .poll(() => page.locator('.chaos-editor').inputValue())
      .toContain(JSON.stringify(MARKER).slice(1, -1));
    await expect.poll(() => page.locator('.portal-now').textContent()).toContain(`${MARKER} 1 s`);
    await assertNothingRan('controls');
  });

  test('the portal settings: hostile values stored in them and payloads typed into every input stay text', async () => {
    // Stored past the API's checks, as anyone on the machine could: the page must not rely on them.
    const config = emu.portal.config;
    const saved = { authServer: config.authServer, schemaKeys: config.schemaKeys };
    Object.assign(config, { authServer: MARKER, schemaKeys: PAYLOADS[2] });
    try {
      await openInbox(page, emu.url, '#/controls');
      await expect.poll(() => page.getByLabel('Authorization server').inputValue()).toBe(MARKER);
      await expect.poll(() => page.locator('.portal-now').textContent()).toContain(`auth server ${MARKER}`);
      expect(await page.locator('.portal-now').textContent()).toContain(`schema keys ${PAYLOADS[2]}`);
      await assertNothingRan('portal settings stored');
    } finally {
      Object.assign(config, saved);
    }

    // Every input of the limits and portal panels, a payload each: refused, shown as text.
    await openInbox(page, emu.url, '#/controls');
    await expect.poll(() => page.getByLabel('Authorization server').inputValue()).toBe(saved.authServer);
    const inputs = page.locator(
      '.limits input.setting-input, .portal-settings input.setting-input:not([type=checkbox])',
    );
    const count = await inputs.count();
    expect(count).toBe(5 + 5);
    for (let i = 0; i < count; i++) await inputs.nth(i).fill(PAYLOADS[i % PAYLOADS.length] as string);
    await page.locator('.limits-apply').click();
    await expect
      .poll(() => page.locator('.limits-status').textContent())
      .toBe(`Capacity (X): "${MARKER}" is not a number`);
    await page.locator('.portal-apply').click();
    await expect
      .poll(() => page.locator('.portal-status').textContent())
      .toBe(`ATTACH max length, characters: "${PAYLOADS[5] as string}" is not a number`);
    await assertNothingRan('portal inputs, not numbers');
    // Numbers the API refuses next to a hostile host: the API's message, with the host, as text.
    for (const label of [
      'ATTACH max length, characters',
      'Request time limit, s',
      'Request log size, bytes',
      'Processing time per call, s (*)',
    ]) {
      await page.getByLabel(label).fill('');
    }
    await page.getByLabel('Authorization server').fill(MARKER);
    await page.locator('.portal-apply').click();
    await expect
      .poll(() => page.locator('.portal-status').textContent())
      .toContain(`PUT /portal: authServer: expected a host name`);
    expect(await page.locator('.portal-status').textContent()).toContain(JSON.stringify(MARKER));
    expect(emu.portal.config.authServer).toBe(saved.authServer);
    await assertNothingRan('portal inputs, refused host');
    await screenshot(page, 'xss-settings');

    const csp = await page.evaluate<string[]>('window.__csp');
    writeFileSync(
      `${ARTIFACTS}xss-report.json`,
      JSON.stringify(
        { payloads: PAYLOADS, cspViolations: csp, dialogs: watch.dialogs, errors: watch.errors },
        null,
        2,
      ),
    );
  });
});
