import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Dialog, type Locator, type Page } from 'playwright-core';
import { vi } from 'vitest';

/**
 * How long a browser test waits for the page to reach a state before it fails. The waits are
 * for states (a card attached, a text shown, a count reached), so this bound only decides how
 * soon a broken page is reported: it is generous because the machine may be busy with other
 * work (seven engineers, two cores), where Chromium can take seconds to paint.
 */
export const STATE_WAIT_MS = 60_000;

/**
 * Call at the top of a browser test file: `expect.poll` waits up to {@link STATE_WAIT_MS} for
 * its state (vitest's default, one second, is a timed assertion that a busy machine fails), as
 * Playwright's own waits do (set on each page by {@link watchedPage}), and tests and hooks get
 * room for several such waits.
 */
export function waitForStatesUnderLoad(): void {
  vi.setConfig({
    testTimeout: 4 * STATE_WAIT_MS,
    hookTimeout: 2 * STATE_WAIT_MS,
    expect: { poll: { timeout: STATE_WAIT_MS, interval: 50 } },
  });
}

/** Debian's Chromium: Playwright cannot download its own browser here, CI installs this one. */
export const CHROMIUM = '/usr/bin/chromium';

/** Screenshots and other artifacts of the browser tests (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/inbox/', import.meta.url));

/** The built inbox page the emulator serves; the e2e tests need `npm run build` first. */
const BUILT_UI = fileURLToPath(new URL('../../dist/ui/app.js', import.meta.url));

/**
 * Launch headless Chromium, or fail saying how to get it: a missing browser must not turn the
 * browser tests into a silent skip. `extraArgs` are added to the command line.
 */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run \`bash scripts/system-deps.sh\` (CI installs it) to get Chromium`,
    );
  }
  if (!existsSync(BUILT_UI)) {
    throw new Error('the inbox page is not built: run `npm run build` (npm test does it first)');
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** What a watched page reports: anything that would mean script ran or the page broke. */
export interface PageWatch {
  page: Page;
  /** alert/confirm/prompt dialogs: the page opens none, so any is an injected script's. */
  dialogs: string[];
  /** Uncaught exceptions in the page. */
  errors: string[];
  /** Console errors (a CSP report shows here too). */
  consoleErrors: string[];
}

/**
 * Runs before any script of the page, in every frame: records CSP violations (allowed: they
 * mean the policy blocked something) and defines the flag that XSS payloads set.
 */
const INIT_SCRIPT = `
  window.__pwned = false;
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
  });
`;

/** A new page that records dialogs, errors and CSP violations. Dialogs are dismissed. */
export async function watchedPage(browser: Browser): Promise<PageWatch> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(STATE_WAIT_MS);
  page.setDefaultNavigationTimeout(STATE_WAIT_MS);
  const watch: PageWatch = { page, dialogs: [], errors: [], consoleErrors: [] };
  page.on('dialog', (dialog: Dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => undefined);
  });
  page.on('pageerror', (err) => watch.errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') watch.consoleErrors.push(msg.text());
  });
  await page.addInitScript(INIT_SCRIPT);
  return watch;
}

/**
 * Open the inbox at `hash` and wait until its view has loaded and its event stream is
 * connected. Always a fresh document: from another hash of the same page, `goto` is only a hash
 * change, after which `data-ready` and `data-live` are still true from before while the new view
 * is still loading, and what arrives live meanwhile can be overwritten by that load.
 */
export async function openInbox(page: Page, baseUrl: string, hash = '#/inbox'): Promise<void> {
  if (page.url() !== 'about:blank') await page.goto('about:blank');
  await page.goto(`${baseUrl}/${hash}`);
  await page.waitForSelector('body[data-ready="true"][data-live="true"]');
}

/** Save a full-page screenshot under test-artifacts/inbox/. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** The part of `window` that `css` uses; the test tsconfig has no DOM types. */
interface StyleWindow {
  getComputedStyle(element: unknown): { getPropertyValue(property: string): string };
}

/** A computed style of the first element a locator finds, e.g. `css(hr, 'width')` → `'300px'`. */
export function css(locator: Locator, property: string): Promise<string> {
  return locator.evaluate(
    (element, name) =>
      (globalThis as unknown as StyleWindow).getComputedStyle(element).getPropertyValue(name),
    property,
  );
}
