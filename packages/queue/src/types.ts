import type { Clock, NotificationKind, OAuthTokens, SendParams } from 'b24notify';
import type { RedisOptions } from 'ioredis';

/** Where Redis is: a URL (`redis://host:6379/0`, `rediss://` for TLS) or ioredis options. */
export type RedisConnection = string | RedisOptions;

/** A notification to queue: the library's send parameters, and which send method to use. */
export interface QueueNotification extends SendParams {
  /** From the calling user (`im.notify.personal.add`) or with no author (`im.notify.system.add`). @default 'personal' */
  kind?: NotificationKind;
}

/** A notification with the key that deduplicates it, for {@link NotificationQueue.sendMany}. */
export interface KeyedNotification extends QueueNotification {
  /** See {@link SendOptions.key}. */
  key?: string;
}

/**
 * The portal's limits as the shared pacer in Redis keeps them (spec §4). Every worker that sends
 * to the portal draws from the same bucket and ledger.
 */
export interface PortalLimits {
  /**
   * The request bucket: `capacity` requests, draining `drainPerSecond`. A batch is one request.
   * @default { capacity: 50, drainPerSecond: 2 } (the standard plan)
   */
  bucket?: {
    /** Requests the bucket holds (50 on the standard plan, 250 on enterprise). */
    capacity: number;
    /** Requests it drains per second (2 on the standard plan, 5 on enterprise). */
    drainPerSecond: number;
  };
  /**
   * The operating-time budget per method: `budgetSeconds` of processing in `windowSeconds`.
   * @default { budgetSeconds: 480, windowSeconds: 600 }
   */
  operating?: {
    /** Seconds of processing a method may use in the window (480 in the docs' example). */
    budgetSeconds: number;
    /** The window in seconds (ten one-minute buckets: 600). */
    windowSeconds: number;
  };
  /**
   * The address group the workers reach this portal from. The portal's bucket is per source
   * address: workers behind one NAT share it (the default, one group); give each address its
   * own name if your workers leave from several. @default 'default'
   */
  egress?: string;
}

/** A portal reached through an inbound webhook. */
export interface WebhookPortal {
  /** `https://PORTAL/rest/USER_ID/CODE/`: a secret, stored encrypted. */
  webhookUrl: string;
  /**
   * CLIENT_ID sent with every notification. Through a webhook the portal honours TAG (which the
   * queue relies on to never show a notification twice) only with one. @default 'b24notify-queue'
   */
  clientId?: string;
  /** Limits for the shared pacer. */
  limits?: PortalLimits;
}

/** A portal reached with an OAuth application's tokens. */
export interface OAuthPortal {
  /** The portal's domain: `example.bitrix24.com`. */
  portal: string;
  /** The application's credentials and its current token pair; stored encrypted. */
  oauth: {
    /** The application's client id. */
    clientId: string;
    /** The application's client secret. */
    clientSecret: string;
    /** The current access token. */
    accessToken: string;
    /** The current refresh token (spent by each refresh: the queue stores the new one). */
    refreshToken: string;
    /** When the access token expires (ms since the epoch), if known. */
    expiresAt?: number;
    /** The authorization server's token endpoint. @default 'https://oauth.bitrix24.tech/oauth/token/' */
    tokenUrl?: string;
  };
  /** Limits for the shared pacer. */
  limits?: PortalLimits;
}

/** How to reach one portal. */
export type PortalConfig = WebhookPortal | OAuthPortal;

/** A registered portal as {@link PortalRegistry.list} shows it: no secrets. */
export interface PortalSummary {
  /** The id you gave it. */
  id: string;
  /** The portal's host. */
  host: string;
  /** How it authenticates. */
  auth: 'webhook' | 'oauth';
  /** True while its notifications wait for {@link PortalRegistry.reauthorize}, `set` or `resume`. */
  parked: boolean;
}

/** The registry of portals, kept in Redis encrypted with AES-256-GCM. */
export interface PortalRegistry {
  /**
   * Register or replace a portal; checks the config first (a clear error names the field). A
   * parked portal goes again (a `resumed` event).
   */
  set(portalId: string, config: PortalConfig): Promise<void>;
  /** A portal's config (decrypted), or undefined. OAuth tokens are the newest stored. */
  get(portalId: string): Promise<PortalConfig | undefined>;
  /** Forget a portal. Its queued notifications stay until it is set again. */
  remove(portalId: string): Promise<boolean>;
  /** Every registered portal, without secrets. */
  list(): Promise<PortalSummary[]>;
  /**
   * Store a new token pair for an OAuth portal (after the user authorised the app again) and
   * resume its parked notifications (a `resumed` event).
   */
  reauthorize(
    portalId: string,
    tokens: { accessToken: string; refreshToken: string; expiresAt?: number },
  ): Promise<void>;
}

/** Options of {@link NotificationQueue.send}. */
export interface SendOptions {
  /**
   * Deduplicates the add (a second add of the same key is a `duplicate`, also after delivery,
   * for `resultTtlSeconds`) and becomes the notification's TAG, so that a re-send replaces the
   * first copy. Up to 200 characters; one that is not a valid TAG is turned into one
   * (`b24q-` + a hash). A notification with its own `tag` keeps it. @default a random id
   */
  key?: string;
}

/** What {@link NotificationQueue.send} did. */
export interface SendResult {
  /** The queue's id of the notification: `portalId` and `key`. */
  id: string;
  /** The deduplication key. */
  key: string;
  /** True when this key was already queued (or delivered): nothing was added. */
  duplicate: boolean;
}

/** What {@link NotificationQueue.sendMany} did. */
export interface SendManyResult {
  /** Notifications added. */
  added: number;
  /** Keys already queued or delivered: not added again. */
  duplicates: number;
}

/**
 * Where a notification stands.
 * - `pending`: waiting for its portal's turn; `delayed`: waiting after a passing failure;
 * - `sending`: in a batch under way; `parked`: its portal's credentials were refused;
 * - `sent`: the portal created it; `failed`: refused for good (or attempts ran out).
 */
export type ResultState = 'pending' | 'delayed' | 'sending' | 'parked' | 'sent' | 'failed';

/** One notification's outcome, kept for `resultTtlSeconds`. */
export interface NotificationResult {
  /** Where it stands. */
  state: ResultState;
  /** The portal's notification id, once sent. */
  notificationId?: number;
  /** Sends attempted so far. */
  attempts: number;
  /** Why it failed (or why it waits). */
  error?: {
    /** The portal's error code, or ours. */
    code: string;
    /** What it means. */
    message: string;
    /** Whether the failed send may have shown it (`unknown`) or certainly did not. */
    delivery: 'not-delivered' | 'unknown';
  };
}

/** How many notifications of a portal (or all portals) are in each state. */
export interface QueueStats {
  /** Waiting for their portal's turn. */
  pending: number;
  /** Waiting after a passing failure. */
  delayed: number;
  /** In a batch under way. */
  sending: number;
  /** Created by the portal (counted since the portal was first used). */
  sent: number;
  /** Refused for good; {@link NotificationQueue.requeueFailed} puts them back. */
  failed: number;
  /** Requests the portal refused for its limits (503 / 429): should stay 0. */
  refused: number;
  /** Waiting for re-authorisation. */
  parked: number;
  /** Batches sent. */
  batches: number;
}

/**
 * This process's connection to Redis was lost or came back. While it is lost, commands wait for
 * Redis (a `send` resolves once it is stored, a worker's batches pause); nothing is dropped.
 */
export interface ConnectionEvent {
  /** `lost`: Redis stopped answering. `restored`: it answers again after a loss. */
  state: 'lost' | 'restored';
  /** Where the connection points, the password masked: `redis://:***@10.0.0.5:6379`. */
  address: string;
  /** Why it was lost: an error code such as `ECONNREFUSED`, or what ioredis said; only when `lost`. */
  reason?: string;
}

/** Events of the queue, with what each carries. */
export interface QueueEventMap {
  /**
   * This producer's own connection to Redis was lost or restored: not read from Redis (it may be
   * down), so each producer reports its own. Workers report theirs to `onConnection`.
   */
  connection: ConnectionEvent;
  /** A notification was created. */
  sent: {
    /** The portal. */
    portalId: string;
    /** The notification's key. */
    key: string;
    /** The portal's id of the notification. */
    notificationId: number;
  };
  /** A notification failed for good. */
  failed: {
    /** The portal. */
    portalId: string;
    /** The notification's key. */
    key: string;
    /** Why, and whether it may have been shown. */
    error: NonNullable<NotificationResult['error']>;
  };
  /**
   * A portal's credentials were refused: its notifications wait for `portals.reauthorize`,
   * `portals.set` or {@link NotificationQueue.resume}.
   */
  parked: {
    /** The portal. */
    portalId: string;
    /** The refusal, e.g. `invalid_grant: …`. */
    reason: string;
  };
  /**
   * A parked portal's notifications go again: {@link NotificationQueue.resume}, `portals.set` or
   * `portals.reauthorize` took it out of the parked state.
   */
  resumed: {
    /** The portal. */
    portalId: string;
    /** Why it had been parked, as its `parked` event said. */
    reason: string;
    /** Which call resumed it. */
    by: 'resume' | 'set' | 'reauthorize';
  };
  /** The portal refused a request for its limits (503 / 429): the pacer's figures were off. */
  refused: {
    /** The portal. */
    portalId: string;
    /** `QUERY_LIMIT_EXCEEDED`, `OPERATION_TIME_LIMIT` or `OVERLOAD_LIMIT`. */
    code: string;
  };
}

/** What {@link NotificationQueue.resume} did. */
export interface ResumeResult {
  /** True when the portal was parked and now is not; false when it was not parked (nothing done). */
  resumed: boolean;
  /** Why it had been parked (`WRONG_AUTH: …`, `invalid_grant: …`), when it was. */
  reason?: string;
  /** Its notifications waiting to be sent (pending and delayed), as it was resumed. */
  waiting: number;
}

/** Options of {@link createQueue}. */
export interface QueueOptions {
  /** Redis. Use `maxmemory-policy noeviction` and AOF with `appendfsync always` (see the README). */
  connection: RedisConnection;
  /** Prefix of every Redis key, for several independent queues on one Redis. @default 'b24q' */
  prefix?: string;
  /**
   * 32 bytes as 64 hex digits or base64, for the portal registry's encryption.
   * @default process.env.B24NOTIFY_QUEUE_KEY
   */
  secretKey?: string;
  /** How long results (and so deduplication of keys) are kept after the last change. @default 604800 (7 days) */
  resultTtlSeconds?: number;
  /** The portal's ATTACH size limit in characters, checked when adding. @default 60000 */
  attachMaxLength?: number;
  /**
   * How long the first command waits for Redis to answer, in milliseconds, before it rejects with
   * a `QueueError` `REDIS` (nothing answers, or not Redis) naming the address (password
   * masked) and what to do; refused credentials reject at once with `REDIS_AUTH`. 0 waits as long
   * as it takes. Once Redis has answered, commands wait out a Redis restart instead.
   * @default 20000
   */
  connectTimeoutMs?: number;
}

/** Resolves a portal's config from your own secret store instead of the encrypted registry. */
export type PortalResolver = (
  portalId: string,
) => PortalConfig | undefined | Promise<PortalConfig | undefined>;

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** Redis, as for {@link createQueue}. */
  connection: RedisConnection;
  /** As for {@link createQueue}. @default 'b24q' */
  prefix?: string;
  /** As for {@link createQueue}; not needed with `resolvePortal`. */
  secretKey?: string;
  /**
   * Portals from your own store; the registry is not read. Each config is reused for
   * `resolveCacheMs`, so your store is not asked on every batch.
   */
  resolvePortal?: PortalResolver;
  /**
   * How long this worker process reuses a config from `resolvePortal`, per portal id, in
   * milliseconds; 0 asks the resolver before every batch. Asked again sooner when the portal is
   * parked (the portal refused its credentials: the config may have changed), when the
   * portal's credentials change in the queue (`portals.set`, `portals.reauthorize`, a token
   * refresh by any worker: persist refreshed pairs in `onTokens`), and after a tick that failed
   * (`onError`). An unknown portal (`undefined`) and a resolver that threw are not kept.
   * @default 60000
   */
  resolveCacheMs?: number;
  /**
   * How long start-up waits for Redis to answer, in milliseconds, before `startWorker` rejects
   * with a `QueueError` `REDIS` (nothing answers, or not Redis) naming the address (password
   * masked) and what to do; refused credentials reject at once with `REDIS_AUTH`. 0 waits as long
   * as it takes. A running worker waits out a Redis restart instead.
   * @default 20000
   */
  connectTimeoutMs?: number;
  /** Batches this process sends at once (to different portals: one per portal at a time). @default 8 */
  concurrency?: number;
  /**
   * Called with every renewed OAuth pair, after it is stored in the registry (or, with
   * `resolvePortal`, instead: persist them in your store before returning).
   */
  onTokens?: (portalId: string, tokens: OAuthTokens) => void | Promise<void>;
  /**
   * Told of a tick that failed for a reason of the worker's own (Redis unreachable, a stored
   * portal this worker's key cannot decrypt, a resolver that threw); the portal's tick is tried
   * again after 5 s. Messages hold no secret.
   */
  onError?: (error: Error, portalId: string) => void;
  /**
   * Told when this worker's connection to Redis is lost (its batches pause; none is lost) and
   * when it is restored. The address has its password masked.
   */
  onConnection?: (event: ConnectionEvent) => void;
  /** BullMQ's lock on a tick, ms; renewed while the process lives. @default 10000 */
  lockDuration?: number;
  /** How often BullMQ looks for ticks of dead workers, ms. @default 5000 */
  stalledInterval?: number;
  /** Stalls before BullMQ fails a tick for good; a tick holds no item itself. @default 1000 */
  maxStalledCount?: number;
  /** How often this worker re-adds ticks for portals that have work and none. @default 5000 */
  sweepInterval?: number;
  /** How long results (and so deduplication of keys) are kept after the last change; as for {@link createQueue}. @default 604800 */
  resultTtlSeconds?: number;
  /** Attempts before a notification that keeps failing for a passing reason is failed. @default 5 */
  maxAttempts?: number;
  /** Milliseconds to wait for each batch's answer. @default 60000 */
  timeout?: number;
  /** Processing seconds per notification assumed until the portal's answers say. @default 0.03 */
  costPerNotification?: number;
  /** Allow plain http to hosts other than loopback. @default false */
  allowHttp?: boolean;
  /** The fetch the library uses (a proxy); for tests too. */
  fetch?: typeof fetch;
  /**
   * Time for the shared pacer and its waits, instead of Redis's own `TIME`. For tests against
   * an emulator whose clock moves (its `clientClock`); every worker of a portal must share it.
   */
  clock?: Clock;
  /**
   * Fraction of a method's operating budget the pacer lets the workers use, counting the batch it
   * is about to send, so the portal never blocks the method. @default 0.95
   */
  operatingThreshold?: number;
}

/** A running worker. */
export interface QueueWorker {
  /**
   * Stop gracefully: no new batch starts, batches under way finish and are recorded (or, if
   * they cannot, are handed back for another worker), then the connections close. With Redis
   * down it does not wait for Redis: batches under way are handed back as a killed worker's are.
   */
  close(): Promise<void>;
}
