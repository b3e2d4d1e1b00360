import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createClient, type Client } from '../../../b24notify/src/index.js';
import { startEmulator, type RunningEmulator } from '../../src/index.js';
import { launchChromium, watchedPage, type PageWatch } from './browser.js';

/** What a two-portal inbox test uses; read it inside tests and hooks, once the setup has run. */
export interface TwoPortalInbox {
  readonly emu: RunningEmulator;
  /** A client of portal `a`. */
  readonly a: Client;
  /** A client of portal `b`. */
  readonly b: Client;
  /** This test's page: no script error and no dialog may happen on it. */
  readonly page: Page;
}

/**
 * Register the hooks of an inbox test over one emulator serving portals `a` and `b`: Chromium and
 * the emulator for the file, both portals emptied and a fresh watched page for each test, and
 * after each test a check that the page raised no error and opened no dialog.
 */
export function useTwoPortalInbox(options: { clientId: string; bDomain?: string }): TwoPortalInbox {
  let browser: Browser | undefined;
  let emu: RunningEmulator | undefined;
  let a: Client | undefined;
  let b: Client | undefined;
  let watch: PageWatch | undefined;

  beforeAll(async () => {
    [browser, emu] = await Promise.all([
      launchChromium(),
      startEmulator({
        portal: { plan: 'off' },
        portals: [{ name: 'a' }, { name: 'b', ...(options.bDomain ? { domain: options.bDomain } : {}) }],
      }),
    ]);
    const client = (webhookUrl: string) =>
      createClient({ webhookUrl, pacing: false, retry: false, clientId: options.clientId });
    a = client(emu.portalNamed('a').webhookUrl);
    b = client(emu.portalNamed('b').webhookUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await emu?.close();
  });
  beforeEach(async () => {
    for (const p of ready(emu).portals) p.portal.reset();
    watch = await watchedPage(ready(browser));
  });
  afterEach(async () => {
    expect(ready(watch).errors).toEqual([]);
    expect(ready(watch).dialogs).toEqual([]);
    await ready(watch).page.close();
  });

  return {
    get emu() {
      return ready(emu);
    },
    get a() {
      return ready(a);
    },
    get b() {
      return ready(b);
    },
    get page() {
      return ready(watch).page;
    },
  };
}

function ready<T>(value: T | undefined): T {
  if (value === undefined)
    throw new Error('useTwoPortalInbox: read inside a test or hook, after its setup ran');
  return value;
}
