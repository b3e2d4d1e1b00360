import type { NotificationKind, SendParams } from 'b24notify';

/**
 * Where a message stands.
 * - `pending`: waiting to be sent (possibly not before a time, after a limit or a failure).
 * - `sending`: in a batch under way. Left behind only by a delivery that died; the next one
 *   sends it again if it has a tag, else marks it `unknown`.
 * - `sent`: the portal created it; its notification id is kept.
 * - `failed`: the portal refused it for good (bad user, bad ATTACH, …) or attempts ran out.
 * - `unknown`: an untagged message whose send may or may not have arrived; never re-sent
 *   unless you {@link Outbox.requeue} it, since that could show it twice.
 */
export type EntryState = 'pending' | 'sending' | 'sent' | 'failed' | 'unknown';

/** A notification to queue: the library's send parameters, and which send method to use. */
export interface OutboxNotification extends SendParams {
  /** From the calling user (`im.notify.personal.add`) or with no author (`im.notify.system.add`). @default 'personal' */
  kind?: NotificationKind;
}

/** A queued message as {@link Outbox.entries} lists it. */
export interface OutboxEntry {
  /** The outbox's own id, in the order of adding. */
  id: number;
  /** The send method. */
  method: string;
  /** The parameters as they go on the wire (Bitrix24's names), TAG included. */
  params: Record<string, unknown>;
  /** Where it stands. */
  state: EntryState;
  /** Sends attempted so far. */
  attempts: number;
  /** The portal's notification id, once sent. */
  notificationId?: number;
  /** Why it failed, or why it waits. */
  error?: {
    /** The portal's error code (`USER_ID_EMPTY`), or ours (`NOT_CREATED`, `DELIVERY_UNKNOWN`). */
    code: string;
    /** What it means. */
    description: string;
  };
  /** Not sent before this time (ms since the epoch); 0 when due now. */
  notBefore: number;
  /** When it was added (ms since the epoch). */
  createdAt: number;
  /** When it last changed (ms since the epoch). */
  updatedAt: number;
}

/** How many messages are in each state. */
export type OutboxStats = Record<EntryState, number>;

/** Options of {@link openOutbox}. */
export interface OutboxOptions {
  /**
   * Give every message without a TAG one of the outbox's own (`b24o-<file id>-<message id>`), so
   * that sending it again after a crash or a lost answer replaces the first copy instead of
   * showing it twice. Turn off only if your notifications must stay untagged: a message caught
   * mid-send then ends `unknown` instead of being re-sent. @default true
   */
  autoTag?: boolean;
  /**
   * CLIENT_ID for messages that name none. Through a webhook the portal needs one with a TAG.
   * @default 'b24notify-outbox'
   */
  clientId?: string;
  /** The portal's ATTACH size limit in characters, checked when adding. @default 60000 */
  attachMaxLength?: number;
  /** The clock, in ms since the epoch; for tests. @default Date.now */
  now?: () => number;
}

/** Progress of a delivery, after each batch. */
export interface DeliveryProgress {
  /** Messages this delivery has seen created, so far. */
  sent: number;
  /** Messages this delivery has seen refused for good, so far. */
  failed: number;
  /** Untagged messages this delivery could not tell about, so far. */
  unknown: number;
  /** Messages put back in line (limits, transient failures), counted each time. */
  requeued: number;
  /** Batches sent so far. */
  batches: number;
  /** The whole outbox, by state. */
  stats: OutboxStats;
}

/** Options of {@link Outbox.deliver}. */
export interface DeliverOptions {
  /** Messages per batch, 1 to 50. @default 50 */
  batchSize?: number;
  /**
   * Batches under way at once. The client's pacing keeps the rate within the portal's limits
   * however many there are; more than one hides the network's round trip. @default 4
   */
  concurrency?: number;
  /** Attempts before a message that keeps failing for a passing reason counts as failed. @default 5 */
  maxAttempts?: number;
  /**
   * Wait for messages that are pending but not yet due (held back by a limit or a back-off).
   * When false, the delivery ends once nothing is due now. @default true
   */
  waitForDue?: boolean;
  /** Stops the delivery: batches under way finish and are recorded, no new one starts. */
  signal?: AbortSignal;
  /** Called after each batch is recorded. */
  onProgress?: (progress: DeliveryProgress) => void;
}

/** What one delivery did. */
export interface DeliveryReport extends DeliveryProgress {
  /** Messages a previous, dead delivery left mid-send. */
  recovered: {
    /** Tagged ones, put back in line (sending them again replaces any copy that arrived). */
    requeued: number;
    /** Untagged ones, marked unknown. */
    unknown: number;
  };
  /** True when the signal stopped it before the outbox was empty. */
  aborted: boolean;
  /** Wall time of the delivery, ms. */
  durationMs: number;
}
