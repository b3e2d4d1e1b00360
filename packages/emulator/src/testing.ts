/**
 * Assertions over a running emulator for vitest and jest, with no dependency on either: both
 * take `expect.extend(b24Matchers)`. Failure messages show the closest candidates, so a wrong
 * expectation says what arrived instead.
 *
 * ```ts
 * import { b24Matchers } from '@b24notify/emulator/testing';
 * expect.extend(b24Matchers);
 * expect(emu).toHaveNotified({ user: 5, tag: 'invoice-*', text: 'paid' });
 * ```
 */
import type { Portal } from './portal/portal.js';
import type { StoredNotification } from './portal/records.js';
import {
  closestCandidates,
  describeCandidates,
  describeNotification,
  formatFilter,
  matchesFilter,
  parseFilter,
  type NotificationFilter,
} from './search.js';
import { WaitTimeoutError, candidatesFor, waitForNotification } from './wait.js';

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
 * `portals`, or a `Portal`. Read by shape, so a copy of the package loaded twice still works.
 */
export type Inspectable =
  | { readonly portals: readonly { readonly name: string; readonly portal: Portal }[] }
  | { readonly name: string; readonly portal: Portal }
  | Portal;

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

function isPortal(value: unknown): value is Portal {
  return (
    typeof value === 'object' && value !== null && 'store' in value && 'log' in value && 'config' in value
  );
}

/** The portal `received` stands for; a `portal` name picks one of an emulator's. */
function portalOf(received: unknown, name?: string): Portal {
  if (isPortal(received)) return received;
  if (typeof received === 'object' && received !== null) {
    if ('portals' in received && Array.isArray(received.portals)) {
      const portals = received.portals as { name: string; portal: Portal }[];
      const found = name === undefined ? portals[0] : portals.find((p) => p.name === name);
      if (!found) {
        throw new TypeError(
          `portal: no portal named "${String(name)}" (there are ${portals.map((p) => `"${p.name}"`).join(', ')})`,
        );
      }
      return found.portal;
    }
    if ('portal' in received && isPortal(received.portal)) return received.portal;
  }
  throw new TypeError(
    'expect(…): expected a running emulator (startEmulator), one of its portals, or a Portal',
  );
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
  const query = formatFilter(filter);
  const parts = [query, pattern ? `text ${String(pattern)}` : ''].filter(Boolean);
  return parts.length ? parts.join(' ') : 'any notification';
}

function findAll(portal: Portal, filter: NotificationFilter, pattern?: RegExp): StoredNotification[] {
  const source = filter.user === undefined ? portal.store.all() : portal.store.forUser(filter.user);
  return source.filter((n) => matchesFilter(n, filter) && (!pattern || pattern.test(n.message)));
}

function closest(portal: Portal, filter: NotificationFilter, pattern?: RegExp): string {
  if (portal.store.size === 0) return 'the portal holds no notifications';
  const candidates = pattern
    ? closestCandidates(portal.store.all(), filter).map((c) =>
        pattern.test(c.notification.message) ? c : { ...c, missed: [...c.missed, `text ${String(pattern)}`] },
      )
    : candidatesFor(portal, filter);
  return `it holds ${portal.store.size}; the closest:\n${describeCandidates(candidates)}`;
}

/**
 * `expect(emu).toHaveNotified({ user, text, tag })` — some stored notification matches. The
 * expectation is the filter language (`'user:5 tag:invoice-* is:unread'`) or its fields.
 */
function toHaveNotified(
  this: MatcherContext | undefined,
  received: unknown,
  expected: NotificationExpectation,
): MatcherResult {
  const { filter, pattern } = toFilter(expected);
  const portal = portalOf(received, filter.portal);
  const found = findAll(portal, filter, pattern);
  const what = describeExpectation(filter, pattern);
  return {
    pass: found.length > 0,
    message: () =>
      found.length > 0
        ? `expected no notification matching ${what}, but found ${found.length}:\n${found
            .slice(0, 5)
            .map((n) => `  ${describeNotification(n)}`)
            .join('\n')}`
        : `expected a notification matching ${what}, but none matched; ${closest(portal, filter, pattern)}`,
  };
}

/** `expect(emu).toHaveNoNotificationsFor(5)` — user 5 has no stored notifications. */
function toHaveNoNotificationsFor(
  this: MatcherContext | undefined,
  received: unknown,
  user: number,
): MatcherResult {
  if (!Number.isInteger(user))
    throw new TypeError('toHaveNoNotificationsFor: expected a user id (an integer)');
  const portal = portalOf(received);
  const held = portal.store.userPage(user, undefined, 5);
  const count = portal.store.userCount(user);
  return {
    pass: count === 0,
    message: () =>
      count === 0
        ? `expected user ${user} to have notifications, but they have none (the portal holds ${portal.store.size})`
        : `expected no notifications for user ${user}, but they have ${count}:\n${held
            .map((n) => `  ${describeNotification(n)}`)
            .join('\n')}`,
  };
}

/**
 * `expect(emu).toHaveReceived('im.notify.personal.add', 2)` — the request log holds that many
 * calls of the method (any number above zero when `times` is absent). Counts what the log
 * still keeps (see `requestLogSize`).
 */
function toHaveReceived(
  this: MatcherContext | undefined,
  received: unknown,
  method: string,
  times?: number,
): MatcherResult {
  if (typeof method !== 'string' || method === '') {
    throw new TypeError("toHaveReceived: expected a method name, e.g. 'im.notify.personal.add'");
  }
  const portal = portalOf(received);
  const wanted = method.toLowerCase();
  const counts = new Map<string, number>();
  for (const e of portal.log.list(Number.MAX_SAFE_INTEGER))
    counts.set(e.method, (counts.get(e.method) ?? 0) + 1);
  const count = counts.get(wanted) ?? 0;
  const pass = times === undefined ? count > 0 : count === times;
  const seen = [...counts].map(([m, n]) => `${m} × ${n}`).join(', ') || 'no requests at all';
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
 * waits (on the portal's events, no polling) for a match; fails with the closest candidates.
 * Negated (`.not`), it checks the present only.
 */
async function toEventuallyHaveNotified(
  this: MatcherContext | undefined,
  received: unknown,
  expected: NotificationExpectation,
  options: WaitMatcherOptions = {},
): Promise<MatcherResult> {
  const { filter, pattern } = toFilter(expected);
  if (this?.isNot || pattern) return toHaveNotified.call(this, received, expected);
  const portal = portalOf(received, filter.portal);
  try {
    const n = await waitForNotification(portal, filter, options.timeout);
    return {
      pass: true,
      message: () =>
        `expected no notification matching ${describeExpectation(filter)}, but ${describeNotification(n)} arrived`,
    };
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    const held = err.candidates.length
      ? `the closest:\n${describeCandidates(err.candidates)}`
      : 'the portal holds no notifications';
    return {
      pass: false,
      message: () =>
        `expected a notification matching ${describeExpectation(filter)} within ${err.timeoutMs} ms, but none did (${err.arrived} arrived while waiting); ${held}`,
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
 * vitest `interface Assertion<T> extends B24Matchers<void, Promise<void>> {}`, jest
 * `interface Matchers<R> extends B24Matchers<R, Promise<R>> {}`.
 */
export interface B24Matchers<R = unknown, P = Promise<R>> {
  /** Some stored notification matches (filter language or fields). */
  toHaveNotified(expected: NotificationExpectation): R;
  /** The user has no stored notifications. */
  toHaveNoNotificationsFor(user: number): R;
  /** The request log holds calls of `method` (exactly `times` when given). */
  toHaveReceived(method: string, times?: number): R;
  /** Waits for a matching notification, up to `timeout` ms. */
  toEventuallyHaveNotified(expected: NotificationExpectation, options?: WaitMatcherOptions): P;
}
