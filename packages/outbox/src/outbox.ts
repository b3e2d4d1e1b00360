import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { B24ValidationError, BATCH_LIMIT, notificationCommand, type Client } from 'b24notify';
import { deliver } from './deliver.js';
import { OutboxError } from './errors.js';
import { Store, type DeliveryLock, type MessageRow } from './store.js';
import type {
  DeliverOptions,
  DeliveryReport,
  EntryState,
  OutboxEntry,
  OutboxNotification,
  OutboxOptions,
  OutboxStats,
} from './types.js';

/** A lock whose holder has not beaten its heart for this long is dead, wherever it ran. */
const LOCK_STALE_MS = 30_000;
/** How often a delivery renews its lock. */
const HEARTBEAT_MS = 5_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function toEntry(row: MessageRow): OutboxEntry {
  return {
    id: row.id,
    method: row.method,
    params: JSON.parse(row.params) as Record<string, unknown>,
    state: row.state,
    attempts: row.attempts,
    ...(row.notification_id === null ? {} : { notificationId: row.notification_id }),
    ...(row.error_code === null
      ? {}
      : { error: { code: row.error_code, description: row.error_description ?? '' } }),
    notBefore: row.not_before,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const STATES: readonly EntryState[] = ['pending', 'sending', 'sent', 'failed', 'unknown'];

/**
 * A durable queue of notifications in one SQLite file. {@link Outbox.add} returns once the
 * messages are on disk; {@link Outbox.deliver} sends them through `batch`, 50 to a request, as
 * fast as the client's pacing allows, and records each outcome as it comes. A delivery killed at
 * any point resumes where it stopped with the next `deliver()`: nothing queued is lost, and a
 * message caught mid-send is sent again under the same TAG, which replaces the first copy
 * instead of showing it twice.
 */
export class Outbox {
  readonly #store: Store;
  readonly #options: Required<Omit<OutboxOptions, 'now'>>;
  readonly #now: () => number;
  #closed = false;
  #delivering = false;

  /** @internal Use {@link openOutbox}. */
  constructor(path: string, options: OutboxOptions = {}) {
    this.#store = new Store(path);
    this.#now = options.now ?? Date.now;
    this.#options = {
      autoTag: options.autoTag ?? true,
      clientId: options.clientId ?? 'b24notify-outbox',
      attachMaxLength: options.attachMaxLength ?? 60_000,
    };
  }

  /** The file's own id, part of the automatic tags (`b24o-<id>-<message id>`). */
  get id(): string {
    return this.#store.uid;
  }

  /** The automatic TAG of message `id`. */
  tagOf(id: number): string {
    return `b24o-${this.#store.uid}-${id}`;
  }

  #open(): Store {
    if (this.#closed)
      throw new OutboxError('CLOSED', 'the outbox is closed: open it again with openOutbox()');
    return this.#store;
  }

  /**
   * Queue notifications; returns their ids once they are on disk. All or nothing: every message
   * is checked first, and a bad one throws a `B24ValidationError` naming it
   * (`notifications[3].userId: …`) with nothing queued.
   */
  add(notifications: OutboxNotification | readonly OutboxNotification[]): number[] {
    const store = this.#open();
    const list: readonly OutboxNotification[] = Array.isArray(notifications)
      ? notifications
      : [notifications as OutboxNotification];
    const items = list.map((n, i) => {
      const field = Array.isArray(notifications) ? `notifications[${i}]` : 'notification';
      if (n === null || typeof n !== 'object') {
        throw new B24ValidationError(field, 'expected { userId, message, ... }');
      }
      try {
        const [method, params] = notificationCommand(n.kind ?? 'personal', n, {
          clientId: this.#options.clientId,
          attachMaxLength: this.#options.attachMaxLength,
        });
        return { method, params: params ?? {}, autoTag: this.#options.autoTag && params?.TAG === undefined };
      } catch (err) {
        if (!(err instanceof B24ValidationError)) throw err;
        throw new B24ValidationError(
          `${field}.${err.field}`,
          err.message.slice(err.field.length + 2),
          err.method,
        );
      }
    });
    return store.insert(items, (id) => this.tagOf(id), this.#now());
  }

  /** How many messages are in each state. */
  stats(): OutboxStats {
    return this.#open().counts();
  }

  /**
   * Messages in id order, `limit` at a time (at most 1000); pass the last id seen as `afterId`
   * for the next page.
   */
  entries(filter: { state?: EntryState; afterId?: number; limit?: number } = {}): OutboxEntry[] {
    if (filter.state !== undefined && !STATES.includes(filter.state)) {
      throw new B24ValidationError('state', `expected one of ${STATES.join(', ')}`);
    }
    const limit = Math.min(1000, Math.max(1, Math.floor(filter.limit ?? 100)));
    return this.#open()
      .list(filter.state, filter.afterId ?? 0, limit)
      .map(toEntry);
  }

  /**
   * Put failed or unknown messages back in line (all of that state, or the listed ids), with
   * their attempts reset. Requeueing an `unknown` untagged message may show it twice: that is
   * the choice this call makes. Returns how many were requeued.
   */
  requeue(state: 'failed' | 'unknown', ids?: readonly number[]): number {
    if (state !== 'failed' && state !== 'unknown') {
      throw new B24ValidationError('state', 'expected "failed" or "unknown"');
    }
    return this.#open().requeue(state, ids, this.#now());
  }

  /** Delete messages of a finished state last changed before `before` (ms since the epoch; default now). */
  purge(state: 'sent' | 'failed' | 'unknown', before: number = this.#now()): number {
    return this.#open().purge(state, before);
  }

  /**
   * Send every pending message through `client.batch`, and resolve with what happened once none
   * is left (or, with `waitForDue: false`, none is due now), or the signal stops it. One
   * delivery per file at a time, across processes: a second one throws an `OutboxError` `BUSY`.
   * Refused credentials, a portal that cannot be reached (and other errors no wait can fix) stop
   * the delivery with that error, after putting the messages in hand back in line, their
   * attempts untouched.
   */
  async deliver(client: Client, options: DeliverOptions = {}): Promise<DeliveryReport> {
    const store = this.#open();
    const batchSize = options.batchSize ?? BATCH_LIMIT;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > BATCH_LIMIT) {
      throw new B24ValidationError('batchSize', `expected an integer from 1 to ${BATCH_LIMIT}`);
    }
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new B24ValidationError('concurrency', 'expected an integer of at least 1');
    }
    const maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new B24ValidationError('maxAttempts', 'expected an integer of at least 1');
    }
    if (this.#delivering) {
      throw new OutboxError('BUSY', 'this outbox is already delivering: await the delivery under way');
    }
    const mine: DeliveryLock = {
      owner: randomUUID(),
      pid: process.pid,
      host: hostname(),
      heartbeat: this.#now(),
    };
    // A holder that stopped beating is gone, wherever it ran (its pid may since belong to another
    // program); on this host, one whose process has ended is gone at once.
    const held = store.takeLock(
      mine,
      (lock) =>
        this.#now() - lock.heartbeat < LOCK_STALE_MS && (lock.host !== mine.host || isAlive(lock.pid)),
    );
    if (held) {
      throw new OutboxError(
        'BUSY',
        `process ${held.pid} on ${held.host} is delivering from this outbox; wait for it to finish`,
      );
    }
    this.#delivering = true;
    const heartbeat = setInterval(() => {
      try {
        store.beat(mine.owner, this.#now());
      } catch {
        // The file is busy for a moment (another process adding): the next beat will do.
      }
    }, HEARTBEAT_MS);
    heartbeat.unref();
    try {
      return await deliver(store, client, {
        batchSize,
        concurrency,
        maxAttempts,
        waitForDue: options.waitForDue ?? true,
        now: this.#now,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } finally {
      clearInterval(heartbeat);
      store.releaseLock(mine.owner);
      this.#delivering = false;
    }
  }

  /** Close the file. A delivery under way must be stopped (its signal) and awaited first. */
  close(): void {
    if (this.#closed) return;
    if (this.#delivering) {
      throw new OutboxError('BUSY', 'a delivery is under way: abort it with its signal and await it first');
    }
    this.#closed = true;
    this.#store.close();
  }
}

/**
 * Open (or create) the outbox in a SQLite file.
 *
 * @example
 * const outbox = openOutbox('notifications.db');
 * outbox.add(users.map((userId) => ({ userId, message: 'Maintenance tonight at 22:00', kind: 'system' })));
 * const report = await outbox.deliver(createClient({ webhookUrl: process.env.B24_WEBHOOK_URL }));
 * console.log(report.sent, 'sent,', report.failed, 'failed');
 */
export function openOutbox(path: string, options: OutboxOptions = {}): Outbox {
  if (typeof path !== 'string' || path === '') {
    throw new B24ValidationError('path', 'expected the path of the outbox file (created if missing)');
  }
  return new Outbox(path, options);
}
