/**
 * A fleet of emulated portals for the multi-process tests: each an emulator on its own port
 * (`startEmulator`, port 0, plain http on loopback), reached through its webhook or its OAuth
 * app, with its limits and faults set per portal. What each portal answered is counted from
 * the emulator's own request events (every request, the OAuth token endpoint included); what it
 * stores is read through its control API, so "each exactly once" is checked on what a user
 * would see.
 */
import { randomBytes } from 'node:crypto';
import {
  startEmulator,
  type ChaosSettings,
  type RequestLogEntry,
  type RunningEmulator,
} from '@b24notify/emulator';
import {
  createQueue,
  type KeyedNotification,
  type NotificationQueue,
  type PortalConfig,
  type PortalLimits,
} from '@b24notify/queue';
import { afterAll, beforeAll } from 'vitest';
import { startWorkerProcesses, stopAll, type WorkerProcess } from './processes.js';
import { oauthPortal, startupPair } from './queue.js';
import { startRedis, type RedisOptions, type RunningRedis } from './redis.js';

/** One portal of the fleet. */
export interface PortalSpec {
  /** The queue's id for it. */
  id: string;
  auth: 'webhook' | 'oauth';
  /** The request bucket, in the emulator and in the queue's shared pacer. */
  bucket: { capacity: number; drainPerSecond: number };
  /**
   * The operating budget, in the emulator and the queue's pacer; the emulator's window is in
   * whole minutes. @default { budgetSeconds: 480, windowSeconds: 600 } (a cloud portal's)
   */
  operating?: { budgetSeconds: number; windowSeconds: number };
  /** Modelled processing seconds per notification. @default 0.01 */
  processingSeconds?: number;
  /** Access token lifetime, seconds (OAuth). @default 3600 */
  accessTokenTtl?: number;
  /** The emulator's fault injection (`chaos` setting). */
  chaos?: ChaosSettings;
}

/** What a portal answered, from its emulator's request events. */
export interface PortalCounts {
  /** Requests answered, by HTTP status (0: the connection was dropped). */
  byStatus: Record<string, number>;
  /** Error answers by code (whole requests). */
  byError: Record<string, number>;
  /** Commands refused inside a batch's 200 answer, by code. */
  bySubError: Record<string, number>;
  /** Batch requests, and the commands they carried. */
  batches: number;
  commands: number;
  /** Notifications created (replacements by TAG included). */
  created: number;
  /** Token refreshes granted, and refused with invalid_grant. */
  refreshes: number;
  /** When each refresh was granted, ms on the portal's clock, in order. */
  refreshedAt: number[];
  invalidGrant: number;
  /** Requests answered with a fault the emulator injected. */
  faults: number;
}

/** A running portal of the fleet. */
export interface FleetPortal {
  readonly spec: PortalSpec;
  readonly id: string;
  readonly emu: RunningEmulator;
  /** What to register with `queue.portals.set`. */
  readonly config: PortalConfig;
  readonly counts: PortalCounts;
}

/** A stored notification as the control API lists it (the fields the checks use). */
export interface StoredNotification {
  id: number;
  message: string;
  tag: string | null;
}

/** Answers the portal refused for its limits: 503 QUERY_LIMIT_EXCEEDED, 429 OPERATION_TIME_LIMIT. */
export function refusedAnswers(c: PortalCounts): number {
  // A refused request answers 503 or 429; a refused command inside a batch answers 200 with
  // the code in result_error.
  return (
    (c.byStatus['503'] ?? 0) +
    (c.byStatus['429'] ?? 0) +
    (c.bySubError.QUERY_LIMIT_EXCEEDED ?? 0) +
    (c.bySubError.OPERATION_TIME_LIMIT ?? 0)
  );
}

function freshCounts(): PortalCounts {
  return {
    byStatus: {},
    byError: {},
    bySubError: {},
    batches: 0,
    commands: 0,
    created: 0,
    refreshes: 0,
    refreshedAt: [],
    invalidGrant: 0,
    faults: 0,
  };
}

function count(c: PortalCounts, e: RequestLogEntry): void {
  c.byStatus[String(e.status)] = (c.byStatus[String(e.status)] ?? 0) + 1;
  if (e.error) c.byError[e.error] = (c.byError[e.error] ?? 0) + 1;
  if (e.fault) c.faults += 1;
  c.created += e.notificationIds?.length ?? 0;
  if (e.method === 'oauth.token') {
    if (e.status === 200) {
      c.refreshes += 1;
      c.refreshedAt.push(e.at);
    }
    if (e.error === 'invalid_grant') c.invalidGrant += 1;
  }
  if (e.method === 'batch') {
    c.batches += 1;
    const cmd = (e.params as { cmd?: unknown } | undefined)?.cmd;
    if (cmd && typeof cmd === 'object') c.commands += Object.keys(cmd).length;
    const answer = e.response as { result?: { result_error?: unknown } } | undefined;
    const subErrors = answer?.result?.result_error;
    if (subErrors && typeof subErrors === 'object') {
      for (const sub of Object.values(subErrors) as { error?: string }[]) {
        const code = typeof sub?.error === 'string' ? sub.error : 'unknown';
        c.bySubError[code] = (c.bySubError[code] ?? 0) + 1;
      }
    }
  }
}

/** The queue's limits for a spec: the same numbers the emulator enforces. */
export function limitsOf(spec: PortalSpec): PortalLimits {
  return {
    bucket: spec.bucket,
    operating: spec.operating ?? { budgetSeconds: 480, windowSeconds: 600 },
  };
}

/** Start one portal. */
export async function startPortal(spec: PortalSpec): Promise<FleetPortal> {
  const operating = spec.operating ?? { budgetSeconds: 480, windowSeconds: 600 };
  if (operating.windowSeconds % 60 !== 0) {
    throw new Error(`${spec.id}: operating.windowSeconds must be whole minutes for the emulator`);
  }
  const emu = await startEmulator({
    portal: {
      plan: 'standard',
      limits: {
        intensity: spec.bucket,
        operating: { budgetSeconds: operating.budgetSeconds, windowMinutes: operating.windowSeconds / 60 },
      },
      processingSeconds: { '*': spec.processingSeconds ?? 0.01 },
      accessTokenTtl: spec.accessTokenTtl ?? 3600,
      // Big enough for every request of a run, so the log can be read back whole.
      requestLogSize: 50_000,
      ...(spec.chaos ? { chaos: spec.chaos } : {}),
    },
  });
  const counts = freshCounts();
  emu.portal.on('request', (entry: RequestLogEntry) => count(counts, entry));
  const limits = limitsOf(spec);
  const config: PortalConfig =
    spec.auth === 'webhook'
      ? { webhookUrl: emu.webhookUrl, clientId: `fleet-${spec.id}`, limits }
      : { ...oauthPortal(emu, startupPair(emu)), limits };
  return { spec, id: spec.id, emu, config, counts };
}

/** A set of portals. */
export interface Fleet {
  readonly portals: readonly FleetPortal[];
  portal(id: string): FleetPortal;
  close(): Promise<void>;
}

/** Start every portal of `specs`. */
export async function startFleet(specs: readonly PortalSpec[]): Promise<Fleet> {
  const started = await Promise.allSettled(specs.map((s) => startPortal(s)));
  const portals = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(portals.map((p) => p.emu.close()));
    throw failed.reason;
  }
  return {
    portals,
    portal(id) {
      const p = portals.find((x) => x.id === id);
      if (!p) throw new Error(`no portal ${id} in the fleet`);
      return p;
    },
    async close() {
      await Promise.allSettled(portals.map((p) => p.emu.close()));
    },
  };
}

/** GET a control API path of a portal. */
export async function control<T>(p: FleetPortal, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${p.emu.url}/_emulator/api${path}`, {
    method,
    ...(body !== undefined
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  if (!res.ok) throw new Error(`${p.id}: ${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

/** How many notifications the portal stores now (one request). */
export async function storedCount(p: FleetPortal): Promise<number> {
  return (await control<{ total: number }>(p, 'GET', '/notifications?limit=1')).total;
}

/** Every notification the portal stores, read page by page through the control API. */
export async function storedNotifications(p: FleetPortal): Promise<StoredNotification[]> {
  const all: StoredNotification[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await control<{ notifications: StoredNotification[] }>(
      p,
      'GET',
      `/notifications?limit=1000${before !== undefined ? `&before=${before}` : ''}`,
    );
    all.push(...page.notifications.map(({ id, message, tag }) => ({ id, message, tag })));
    if (page.notifications.length < 1000) return all;
    before = page.notifications[page.notifications.length - 1]?.id;
  }
}

/** What a portal holds against what was sent to it. */
export interface DeliveryCheck {
  expected: number;
  stored: number;
  /** Messages sent and not stored. */
  missing: string[];
  /** Messages stored more than once, with how many times. */
  twice: [string, number][];
  /** Stored messages that were never sent. */
  unexpected: string[];
}

/**
 * Compare the portal's store with the messages sent to it: each message is unique per
 * notification (it names its key), so a loss and a duplicate both show, even together.
 */
export async function checkDelivery(p: FleetPortal, sent: Iterable<string>): Promise<DeliveryCheck> {
  const expected = new Set(sent);
  const seen = new Map<string, number>();
  const stored = await storedNotifications(p);
  for (const n of stored) seen.set(n.message, (seen.get(n.message) ?? 0) + 1);
  return {
    expected: expected.size,
    stored: stored.length,
    missing: [...expected].filter((m) => !seen.has(m)).slice(0, 20),
    twice: [...seen].filter(([, k]) => k > 1).slice(0, 20),
    unexpected: [...seen.keys()].filter((m) => !expected.has(m)).slice(0, 20),
  };
}

/** "Each exactly once": nothing missing, nothing twice, nothing unexpected (the check in full). */
export function exactlyOnce(check: DeliveryCheck): Omit<DeliveryCheck, 'expected' | 'stored'> {
  return { missing: check.missing, twice: check.twice, unexpected: check.unexpected };
}

/**
 * Wait until `condition` holds, checking it again and again (a state, not a time), up to a
 * generous deadline; then fail with `what` and the last `describe()`.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  { deadlineMs = 150_000, describe }: { deadlineMs?: number; describe?: () => unknown } = {},
): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > until) {
      const state = describe ? await describe() : undefined;
      throw new Error(
        `not reached within ${deadlineMs / 1000} s: ${what}${state === undefined ? '' : `; state: ${JSON.stringify(state)}`}`,
      );
    }
    // Between checks only: a poll interval, not a synchronisation.
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The message of the i-th notification of a portal: unique across the fleet. */
export function messageOf(portalId: string, i: number): string {
  return `${portalId} #${i}`;
}

/** The key of the i-th notification of a portal. */
export function keyOf(portalId: string, i: number): string {
  return `${portalId}-n${i}`;
}

/** The emulator's users (its default portal): notifications go to them in turn. */
const USERS = [1, 2, 3, 5, 10];

/** The i-th notification of a portal: personal and system in turn, its message unique. */
export function notificationOf(portalId: string, i: number): KeyedNotification {
  return {
    kind: i % 2 === 0 ? 'personal' : 'system',
    userId: USERS[i % USERS.length] ?? 1,
    message: messageOf(portalId, i),
    key: keyOf(portalId, i),
  };
}

/**
 * Queue notifications `from`…`to − 1` of a portal: the first half one by one with `send`, the
 * rest with `sendMany` from an async generator (streamed). Resolves with the messages added.
 */
export async function addRange(
  queue: NotificationQueue,
  portalId: string,
  from: number,
  to: number,
): Promise<string[]> {
  const middle = from + Math.floor((to - from) / 2);
  const messages: string[] = [];
  for (let i = from; i < middle; i++) {
    const { key, ...notification } = notificationOf(portalId, i);
    const r = await queue.send(portalId, notification, { key });
    if (r.duplicate) throw new Error(`${portalId}: key ${key} was taken for a duplicate`);
    messages.push(notification.message);
  }
  async function* rest(): AsyncGenerator<KeyedNotification> {
    for (let i = middle; i < to; i++) yield notificationOf(portalId, i);
  }
  const many = await queue.sendMany(portalId, rest());
  if (many.added !== to - middle) {
    throw new Error(
      `${portalId}: sendMany added ${many.added} of ${to - middle} (${many.duplicates} duplicates)`,
    );
  }
  for (let i = middle; i < to; i++) messages.push(messageOf(portalId, i));
  return messages;
}

/**
 * The portals' bucket in the tests: small, so runs take seconds and the shared pacer is what keeps
 * them unrefused. It drains 2 a second, as a real portal's: the queue keeps a second of drain in
 * hand and tops its bucket up by how late each request really arrived (`src/pace.ts`), so a
 * loaded machine, a stalled worker or an emulator in the busy test process is no reason to slow it.
 */
export const TEST_BUCKET = { capacity: 10, drainPerSecond: 2 } as const;

/** Worker settings for the tests: quick stall recovery after a SIGKILL, a quick sweeper. */
export const TEST_WORKER_OPTIONS = {
  concurrency: 4,
  lockDuration: 3000,
  stalledInterval: 1000,
  maxStalledCount: 1000,
  sweepInterval: 1000,
  costPerNotification: 0.01,
} as const;

/** Redis, portals, a producer and worker processes: a whole deployment on one machine. */
export interface Scenario {
  readonly redis: RunningRedis;
  readonly fleet: Fleet;
  readonly queue: NotificationQueue;
  readonly workers: WorkerProcess[];
  readonly prefix: string;
  readonly secretKey: string;
  /** Stop everything, whatever state it is in; never throws. */
  close(): Promise<void>;
}

/** What a scenario runs. */
export interface ScenarioOptions {
  portals: readonly PortalSpec[];
  /** How many worker processes. */
  workers: number;
  /** How its redis-server keeps its data. @default { appendfsync: 'everysec' } */
  redis?: RedisOptions;
  /** Over {@link TEST_WORKER_OPTIONS}, for every worker process. */
  workerOptions?: Record<string, unknown>;
}

/** Start Redis, the portals (registered with the queue) and `workers` worker processes. */
export async function startScenario(options: ScenarioOptions): Promise<Scenario> {
  const secretKey = randomBytes(32).toString('hex');
  const prefix = `fleet${randomBytes(3).toString('hex')}`;
  const redis = await startRedis(options.redis ?? { appendfsync: 'everysec' });
  let fleet: Fleet | undefined;
  let queue: NotificationQueue | undefined;
  const workers: WorkerProcess[] = [];
  const close = async (): Promise<void> => {
    await stopAll(workers, 'SIGKILL');
    await queue?.close().catch(() => undefined);
    await fleet?.close();
    await redis.stop().catch(() => undefined);
  };
  try {
    fleet = await startFleet(options.portals);
    queue = createQueue({ connection: redis.url, prefix, secretKey });
    for (const p of fleet.portals) await queue.portals.set(p.id, p.config);
    workers.push(
      ...(await startWorkerProcesses(options.workers, {
        redisUrl: redis.url,
        prefix,
        secretKey,
        options: { ...TEST_WORKER_OPTIONS, ...options.workerOptions },
      })),
    );
  } catch (err) {
    await close();
    throw err;
  }
  return { redis, fleet, queue, workers, prefix, secretKey, close };
}

/**
 * One scenario for the whole test file: started by `beforeAll`, closed by `afterAll` (both
 * bounded at two minutes, as starting and stopping processes on a busy machine is slow). The
 * returned scenario reads through to the running one, so a file writes `s.queue` in its tests
 * as it would with its own; read before `beforeAll` has run, it throws.
 */
export function useScenario(options: ScenarioOptions): Scenario {
  let running: Scenario | undefined;
  beforeAll(async () => {
    running = await startScenario(options);
  }, 120_000);
  afterAll(() => running?.close(), 120_000);
  const started = (): Scenario => {
    if (!running) throw new Error('the scenario is not started: read it inside a test or hook');
    return running;
  };
  return {
    get redis() {
      return started().redis;
    },
    get fleet() {
      return started().fleet;
    },
    get queue() {
      return started().queue;
    },
    get workers() {
      return started().workers;
    },
    get prefix() {
      return started().prefix;
    },
    get secretKey() {
      return started().secretKey;
    },
    close: () => running?.close() ?? Promise.resolve(),
  };
}

/** Stored notifications of every portal of the fleet, by portal id (one request each). */
export async function storedCounts(fleet: Fleet): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const p of fleet.portals) out[p.id] = await storedCount(p);
  return out;
}
