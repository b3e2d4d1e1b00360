import type { Portal } from './portal/portal.js';
import type { StoredNotification } from './portal/records.js';
import {
  closestCandidates,
  describeCandidates,
  formatFilter,
  matchesFilter,
  type NotificationFilter,
} from './search.js';

/** How long a wait lasts when the caller names no timeout, in milliseconds. */
export const DEFAULT_WAIT_MS = 5_000;

/** A notification that came close to a filter, and the terms it misses. */
export interface Candidate {
  notification: StoredNotification;
  missed: string[];
}

/**
 * No notification matched within the timeout. The message lists the closest candidates, so a
 * failing test says what did arrive instead of only "timed out".
 */
export class WaitTimeoutError extends Error {
  constructor(
    readonly filter: NotificationFilter,
    readonly timeoutMs: number,
    /** How many notifications arrived while waiting. */
    readonly arrived: number,
    /** The portal's closest notifications, fewest missed terms first. */
    readonly candidates: Candidate[],
  ) {
    const query = formatFilter(filter) || '(any notification)';
    const lines = candidates.length
      ? `; ${arrived} arrived while waiting; the closest the portal holds:\n${describeCandidates(candidates)}`
      : `; ${arrived} arrived while waiting and the portal holds none`;
    super(`no notification matched ${query} within ${timeoutMs} ms${lines}`);
    this.name = 'WaitTimeoutError';
  }
}

/** The newest stored notification matching `f`, if any. */
export function findMatch(portal: Portal, f: NotificationFilter): StoredNotification | undefined {
  const source = f.user === undefined ? portal.store.all() : portal.store.forUser(f.user);
  return source.find((n) => matchesFilter(n, f));
}

/** The notifications a miss is explained with: the recipient's when the filter names one. */
export function candidatesFor(portal: Portal, f: NotificationFilter, limit = 5): Candidate[] {
  // Another user's notification is a candidate only when the recipient has none: a wrong
  // USER_ID is a common mistake, and worth showing.
  const own = f.user === undefined ? [] : portal.store.forUser(f.user);
  return closestCandidates(own.length ? own : portal.store.all(), f, limit);
}

/**
 * Resolve with a notification matching `f` as soon as one exists: at once when one is stored,
 * otherwise on the portal's `notification` / `notification-updated` event (no polling).
 * Rejects with WaitTimeoutError after `timeoutMs`, or with the signal's reason on abort.
 */
export function waitForNotification(
  portal: Portal,
  f: NotificationFilter,
  timeoutMs: number = DEFAULT_WAIT_MS,
  signal?: AbortSignal,
): Promise<StoredNotification> {
  const found = findMatch(portal, f);
  if (found) return Promise.resolve(found);
  return new Promise<StoredNotification>((resolve, reject) => {
    let arrived = 0;
    const done = (): void => {
      clearTimeout(timer);
      portal.off('notification', onNew);
      portal.off('notification-updated', onChange);
      signal?.removeEventListener('abort', onAbort);
    };
    const onChange = (n: StoredNotification): void => {
      if (!matchesFilter(n, f)) return;
      done();
      resolve(n);
    };
    const onNew = (n: StoredNotification): void => {
      arrived++;
      onChange(n);
    };
    const onAbort = (): void => {
      done();
      reject(signal?.reason instanceof Error ? signal.reason : new Error('wait aborted'));
    };
    const timer = setTimeout(() => {
      done();
      reject(new WaitTimeoutError(f, timeoutMs, arrived, candidatesFor(portal, f)));
    }, timeoutMs);
    portal.on('notification', onNew);
    portal.on('notification-updated', onChange);
    signal?.addEventListener('abort', onAbort);
  });
}
