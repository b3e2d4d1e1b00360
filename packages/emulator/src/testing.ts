/**
 * Assertions over a running emulator for vitest and jest, with no dependency on either: both
 * take `expect.extend(b24Matchers)`. They read the emulator through its control API only (the
 * routes of `openapi.json`), so they work as well against an emulator in another process
 * (`npx b24notify-emulator`) as against `startEmulator()`'s. Every matcher is async: `await`
 * it. Failure messages show the closest candidates, so a wrong expectation says what arrived
 * instead.
 *
 * ```ts
 * import { b24Matchers } from '@b24notify/emulator/testing';
 * expect.extend(b24Matchers);
 * await expect(emu).toHaveNotified({ user: 5, tag: 'invoice-*', text: 'paid' });
 * await expect('http://127.0.0.1:24024').toHaveReceived('im.notify.personal.add', 1);
 * ```
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  describeCandidates,
  describeNotification,
  formatFilter,
  parseFilter,
  type FilterSubject,
  type NotificationFilter,
} from './search.js';
import { DEFAULT_WAIT_MS } from './wait.js';

export { FilterError, parseFilter, type NotificationFilter } from './search.js';
export { WaitTimeoutError } from './wait.js';

/** What a matcher returns, in the shape vitest and jest both read. */
export interface MatcherResult {
  pass: boolean;
  message: () => string;
}

/** The part of vitest's and jest's matcher context the matchers read. */
export interface MatcherContext {
  isNot?: boolean;
}

/**
 * What the matchers accept as `expect(…)`: a running emulator (`startEmulator`), one of its
 * `portals`, or the base URL of an emulator in any process (`'http://127.0.0.1:24024'`, with or
 * without `/_emulator/api`). Objects are read by shape (their `url`, and `caCertPath` for
 * HTTPS), so a copy of the package loaded twice still works.
 */
export type Inspectable = string | { readonly url: string; readonly caCertPath?: string };

/** What `toHaveNotified` looks for: the filter language, or its fields. */
export type NotificationExpectation =
  | string
  | {
      /** The recipient. */
      user?: number;
      /** In MESSAGE or MESSAGE_OUT: a case-insensitive substring, or a RegExp over MESSAGE. */
      text?: string | RegExp;
      /** Tag or sub-tag; `*` matches any run of characters. */
      tag?: string;
      /** Read state. */
      read?: boolean;
      /** Has an ATTACH. */
      attach?: boolean;
      /** On this portal of a many-portal emulator. */
      portal?: string;
    };

/** Options of the waiting matcher. */
export interface WaitMatcherOptions {
  /** Milliseconds to wait for a match; 5000 when absent. */
  timeout?: number;
}

/** The control API's longest wait (`GET /notifications/wait`'s `timeout`, see openapi.json). */
const MAX_WAIT_CHUNK_MS = 120_000;
/** The control API's largest page (`limit` of `GET /notifications` and `GET /requests`). */
const PAGE = 1000;

/** Where the control API of `received` answers, and the CA to trust for HTTPS. */
interface Api {
  base: string;
  ca?: Buffer;
}

/** A notification as the control API answers it (openapi.json `Notification`). */
type ApiNotification = FilterSubject;

interface Candidate {
  notification: ApiNotification;
  missed: string[];
}

function apiOf(received: unknown): Api {
  let url: unknown = received;
  let ca: Buffer | undefined;
  if (typeof received === 'object' && received !== null && 'url' in received) {
    url = received.url;
    // The emulator's own CA signs its HTTPS certificate; Node trusts it only when told to.
    if ('caCertPath' in received && typeof received.caCertPath === 'string' && received.caCertPath) {
      if (String(url).startsWith('https:')) ca = readFileSync(received.caCertPath);
    }
  }
  if (typeof url !== 'string' || !/^https?:\/\/[^/]/.test(url)) {
    throw new TypeError(
      "expect(…): expected a running emulator (startEmulator), one of its portals, or an emulator's base URL ('http://127.0.0.1:24024')",
    );
  }
  const trimmed = url.replace(/\/+$/, '').replace(/\/_emulator\/api$/, '');
  return ca ? { base: `${trimmed}/_emulator/api`, ca } : { base: `${trimmed}/_emulator/api` };
}

/**
 * `GET` a control API route. Node's http module rather than fetch: it takes the emulator's CA
 * for HTTPS, and a long-poll is not cut short by fetch's default timeouts.
 */
function get(api: Api, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(api.base + path);
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', ...(api.ca ? { ca: api.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
        } catch {
          reject(
            new Error(
              `${url.origin}${url.pathname}: answered ${res.statusCode ?? '?'} with no JSON; is this a b24notify emulator?`,
            ),
          );
        }
      });
    });
    req.on('error', (err) =>
      reject(
        new Error(
          `could not reach the emulator's control API at ${api.base} (${err.message}); is the emulator running there?`,
        ),
      ),
    );
    req.end();
  });
}

/** `get`, with any answer but `ok` turned into the control API's own error description. */
async function getOk(api: Api, path: string, ok: number[] = [200]): Promise<Record<string, unknown>> {
  const { status, body } = await get(api, path);
  if (!ok.includes(status)) {
    const description = typeof body.error_description === 'string' ? body.error_description : '';
    throw new Error(description || `GET ${api.base}${path.replace(/\?.*/, '')}: answered ${status}`);
  }
  return body;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  return `?${q.toString()}`;
}

/** The filter, and a RegExp over MESSAGE when `text` was one. */
function toFilter(expected: NotificationExpectation): { filter: NotificationFilter; pattern?: RegExp } {
  if (typeof expected === 'string') return { filter: parseFilter(expected) };
  if (typeof expected !== 'object' || expected === null) {
    throw new TypeError(
      'toHaveNotified: expected a filter string or { user, text, tag, read, attach, portal }',
    );
  }
  const filter: NotificationFilter = {};
  if (expected.user !== undefined) filter.user = expected.user;
  if (expected.tag !== undefined) filter.tag = expected.tag;
  if (expected.read !== undefined) filter.read = expected.read;
  if (expected.attach) filter.attach = true;
  if (expected.portal !== undefined) filter.portal = expected.portal;
  if (typeof expected.text === 'string') filter.text = [expected.text.toLocaleLowerCase()];
  return expected.text instanceof RegExp ? { filter, pattern: expected.text } : { filter };
}

function describeExpectation(filter: NotificationFilter, pattern?: RegExp): string {
  const q = formatFilter(filter);
  const parts = [q, pattern ? `text ${String(pattern)}` : ''].filter(Boolean);
  return parts.length ? parts.join(' ') : 'any notification';
}

/** The portal's term alone: what counts the portal's whole store. */
function portalOnly(filter: NotificationFilter): string {
  return filter.portal === undefined ? '' : formatFilter({ portal: filter.portal });
}

/** How many notifications the portal holds. */
async function storeSize(api: Api, filter: NotificationFilter): Promise<number> {
  const body = await getOk(api, `/notifications${query({ q: portalOnly(filter), limit: 0 })}`);
  return Number(body.total);
}

/** Every notification matching `q`, newest first, a page at a time. */
async function allMatching(api: Api, q: string): Promise<ApiNotification[]> {
  const all: ApiNotification[] = [];
  let before: number | undefined;
  for (;;) {
    const body = await getOk(api, `/notifications${query({ q, limit: PAGE, before })}`);
    const page = body.notifications as ApiNotification[];
    all.push(...page);
    if (page.length < PAGE) return all;
    before = (page[page.length - 1] as ApiNotification).id;
  }
}

/**
 * The closest candidates to `filter`, from the wait route's timeout answer (asked with
 * `timeout=0`): the portal explains a miss the same way for every client.
 */
async function candidates(api: Api, filter: NotificationFilter): Promise<Candidate[] | undefined> {
  const q = formatFilter(filter);
  const body = await getOk(api, `/notifications/wait${query({ q, timeout: 0 })}`, [200, 408]);
  return Array.isArray(body.candidates) ? (body.candidates as Candidate[]) : undefined;
}

function closestMessage(size: number, found: Candidate[]): string {
  if (size === 0) return 'the portal holds no notifications';
  return `it holds ${size}; the closest:\n${describeCandidates(found)}`;
}

/**
 * `await expect(emu).toHaveNotified({ user, text, tag })` — some stored notification matches.
 * The expectation is the filter language (`'user:5 tag:invoice-* is:unread'`) or its fields.
 */
async function toHaveNotified(
  this: MatcherContext | undefined,
  received: unknown,
  expected: NotificationExpectation,
): Promise<MatcherResult> {
  const { filter, pattern } = toFilter(expected);
  const api = apiOf(received);
  const q = formatFilter(filter);
  const what = describeExpectation(filter, pattern);
  let found: ApiNotification[];
  let total: number;
  if (pattern) {
    const near = await allMatching(api, q);
    found = near.filter((n) => pattern.test(n.message));
    total = found.length;
    if (total === 0) {
      const size = await storeSize(api, filter);
      // Those that match the rest miss only the RegExp; otherwise the portal's closest.
      const missing = `text ${String(pattern)}`;
      const close: Candidate[] = near.length
        ? near.slice(0, 5).map((n) => ({ notification: n, missed: [missing] }))
        : ((await candidates(api, filter)) ?? []).map((c) =>
            pattern.test(c.notification.message) ? c : { ...c, missed: [...c.missed, missing] },
          );
      return failed(what, closestMessage(size, close));
    }
  } else {
    const body = await getOk(api, `/notifications${query({ q, limit: 5 })}`);
    found = body.notifications as ApiNotification[];
    total = Number(body.total);
    if (total === 0) {
      const close = await candidates(api, filter);
      // No candidates: one matched between the two reads, so it is there now.
      if (close !== undefined) return failed(what, closestMessage(await storeSize(api, filter), close));
      return toHaveNotified.call(this, received, expected);
    }
  }
  return {
    pass: true,
    message: () =>
      `expected no notification matching ${what}, but found ${total}:\n${found
        .slice(0, 5)
        .map((n) => `  ${describeNotification(n)}`)
        .join('\n')}`,
  };
}

function failed(what: string, closest: string): MatcherResult {
  return {
    pass: false,
    message: () => `expected a notification matching ${what}, but none matched; ${closest}`,
  };
}

/** `await expect(emu).toHaveNoNotificationsFor(5)` — user 5 has no stored notifications. */
async function toHaveNoNotificationsFor(
  this: MatcherContext | undefined,
  received: unknown,
  user: number,
): Promise<MatcherResult> {
  if (!Number.isInteger(user) || user < 0) {
    throw new TypeError('toHaveNoNotificationsFor: expected a user id (a non-negative integer)');
  }
  const api = apiOf(received);
  const body = await getOk(api, `/notifications${query({ user, limit: 5 })}`);
  const held = body.notifications as ApiNotification[];
  const count = Number(body.total);
  const size = count === 0 ? await storeSize(api, {}) : 0;
  return {
    pass: count === 0,
    message: () =>
      count === 0
        ? `expected user ${user} to have notifications, but they have none (the portal holds ${size})`
        : `expected no notifications for user ${user}, but they have ${count}:\n${held
            .map((n) => `  ${describeNotification(n)}`)
            .join('\n')}`,
  };
}

/** The request log's entries (those with `method`), newest first, a page at a time. */
async function requests(api: Api, method?: string): Promise<{ id: number; method: string }[]> {
  const all: { id: number; method: string }[] = [];
  let before: number | undefined;
  for (;;) {
    const body = await getOk(api, `/requests${query({ method, limit: PAGE, before })}`);
    const page = body.requests as { id: number; method: string }[];
    all.push(...page);
    if (page.length < PAGE) return all;
    before = (page[page.length - 1] as { id: number }).id;
  }
}

/**
 * `await expect(emu).toHaveReceived('im.notify.personal.add', 2)` — the request log holds that
 * many calls of the method (any number above zero when `times` is absent). Counts what the log
 * still keeps (see `requestLogSize`).
 */
async function toHaveReceived(
  this: MatcherContext | undefined,
  received: unknown,
  method: string,
  times?: number,
): Promise<MatcherResult> {
  if (typeof method !== 'string' || method === '') {
    throw new TypeError("toHaveReceived: expected a method name, e.g. 'im.notify.personal.add'");
  }
  const api = apiOf(received);
  const count = (await requests(api, method.toLowerCase())).length;
  const pass = times === undefined ? count > 0 : count === times;
  let seen = '';
  if (!pass) {
    const counts = new Map<string, number>();
    for (const e of await requests(api)) counts.set(e.method, (counts.get(e.method) ?? 0) + 1);
    seen = [...counts].map(([m, n]) => `${m} × ${n}`).join(', ') || 'no requests at all';
  }
  const expectation = times === undefined ? 'at least once' : `${times} time${times === 1 ? '' : 's'}`;
  return {
    pass,
    message: () =>
      pass
        ? `expected ${method} not to be received ${expectation}, but it was received ${count} time${count === 1 ? '' : 's'}`
        : `expected ${method} to be received ${expectation}, but it was received ${count} time${count === 1 ? '' : 's'}; the log holds: ${seen}`,
  };
}

/**
 * `await expect(emu).toEventuallyHaveNotified('user:5 tag:deploy-*', { timeout: 10_000 })` —
 * waits for a match on the control API's long-poll (`GET /notifications/wait`, no polling);
 * fails with the closest candidates. Negated (`.not`), or with a RegExp `text`, it checks the
 * present only.
 */
async function toEventuallyHaveNotified(
  this: MatcherContext | undefined,
  received: unknown,
  expected: NotificationExpectation,
  options: WaitMatcherOptions = {},
): Promise<MatcherResult> {
  const { filter, pattern } = toFilter(expected);
  if (this?.isNot || pattern) return toHaveNotified.call(this, received, expected);
  const timeout = options.timeout ?? DEFAULT_WAIT_MS;
  if (!Number.isInteger(timeout) || timeout < 0) {
    throw new TypeError('toEventuallyHaveNotified: timeout: expected milliseconds (a non-negative integer)');
  }
  const api = apiOf(received);
  const q = formatFilter(filter);
  const what = describeExpectation(filter);
  // The route waits at most MAX_WAIT_CHUNK_MS, so a longer timeout is several waits in a row.
  const deadline = Date.now() + timeout;
  let arrived = 0;
  for (;;) {
    const chunk = Math.max(0, Math.min(MAX_WAIT_CHUNK_MS, deadline - Date.now()));
    const body = await getOk(api, `/notifications/wait${query({ q, timeout: chunk })}`, [200, 408]);
    if (body.notification) {
      const n = body.notification as ApiNotification;
      return {
        pass: true,
        message: () => `expected no notification matching ${what}, but ${describeNotification(n)} arrived`,
      };
    }
    arrived += Number(body.arrived ?? 0);
    if (Date.now() < deadline) continue;
    const close = (body.candidates ?? []) as Candidate[];
    const held = close.length
      ? `the closest:\n${describeCandidates(close)}`
      : 'the portal holds no notifications';
    return {
      pass: false,
      message: () =>
        `expected a notification matching ${what} within ${timeout} ms, but none did (${arrived} arrived while waiting); ${held}`,
    };
  }
}

/** The matchers, for `expect.extend(b24Matchers)` in vitest or jest. */
export const b24Matchers = {
  toHaveNotified,
  toHaveNoNotificationsFor,
  toHaveReceived,
  toEventuallyHaveNotified,
};

/**
 * The matchers' types, to merge into your runner's (see the README's "Use it in tests"):
 * vitest `interface Matchers<T = any> extends B24Matchers<T> {}`, jest
 * `interface Matchers<R> extends B24Matchers<R> {}`. Every matcher answers a promise: `await` it.
 */
export interface B24Matchers<R = unknown, P = Promise<R>> {
  /** Some stored notification matches (filter language or fields). */
  toHaveNotified(expected: NotificationExpectation): P;
  /** The user has no stored notifications. */
  toHaveNoNotificationsFor(user: number): P;
  /** The request log holds calls of `method` (exactly `times` when given). */
  toHaveReceived(method: string, times?: number): P;
  /** Waits for a matching notification, up to `timeout` ms. */
  toEventuallyHaveNotified(expected: NotificationExpectation, options?: WaitMatcherOptions): P;
}
