/**
 * In-process fixtures for the queue's tests: emulated portals, a queue and workers on a real
 * redis-server, and waiting for state (never for time).
 */
import { randomBytes } from 'node:crypto';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '@b24notify/emulator';
import {
  createQueue,
  startWorker,
  type NotificationQueue,
  type OAuthPortal,
  type QueueOptions,
  type QueueWorker,
  type WorkerOptions,
} from '@b24notify/queue';

/** A fresh 32-byte key, hex. */
export function newKey(): string {
  return randomBytes(32).toString('hex');
}

/** An emulator on plain http, limits off unless the options set them. */
export function emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ ...options, portal: { plan: 'off', ...options.portal } });
}

/** The emulator's users: a notification to anyone else is answered `false` (none created). */
export const USERS = [1, 2, 3, 5, 10];

/** `n` keyed notifications to the emulator's users in turn, alternately personal and system. */
export function notifications(
  n: number,
  prefix = 'n',
): { key: string; userId: number; message: string; kind: 'personal' | 'system' }[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `${prefix}-${i}`,
    userId: USERS[i % USERS.length] ?? 1,
    message: `${prefix} #${i}`,
    kind: i % 2 === 0 ? 'personal' : ('system' as const),
  }));
}

/** Every notification on the emulator, by tag: a tag seen twice is a duplicate. */
export function tagCounts(emu: RunningEmulator): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const n of emu.portal.store.all()) counts.set(n.tag, (counts.get(n.tag) ?? 0) + 1);
  return counts;
}

/** An access and refresh token pair, as the emulator's app issues them. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

/**
 * A new pair from the emulator's app (control API `POST /tokens`); with `expired`, its access
 * token is already past its end, so the first use meets a refresh.
 */
export async function issueTokens(emu: RunningEmulator, expired = false): Promise<TokenPair> {
  const res = await fetch(`${emu.url}/_emulator/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ expired }),
  });
  const t = (await res.json()) as TokenPair;
  return { accessToken: t.accessToken, refreshToken: t.refreshToken };
}

/**
 * A pair whose access token has expired and whose refresh token the emulator's app has already
 * spent (refresh tokens are single-use), so the next refresh is refused with invalid_grant.
 */
export async function spentTokens(emu: RunningEmulator): Promise<TokenPair> {
  const spent = await issueTokens(emu, true);
  await fetch(`${emu.url}/oauth/token/`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      client_id: emu.tokens.clientId,
      client_secret: emu.tokens.clientSecret,
      refresh_token: spent.refreshToken,
    }),
  });
  return spent;
}

/**
 * The pair the emulator's app started with, its expiry in ms as the queue takes it (the
 * emulator gives seconds).
 */
export function startupPair(emu: RunningEmulator): TokenPair & { expiresAt: number } {
  const t = emu.tokens;
  return { accessToken: t.accessToken, refreshToken: t.refreshToken, expiresAt: t.expiresAt * 1000 };
}

/** The emulator's OAuth app holding `pair` (every field of it), as a portal to register or resolve. */
export function oauthPortal(emu: RunningEmulator, pair: TokenPair & { expiresAt?: number }): OAuthPortal {
  return {
    portal: emu.url,
    oauth: {
      clientId: emu.tokens.clientId,
      clientSecret: emu.tokens.clientSecret,
      ...pair,
      tokenUrl: `${emu.url}/oauth/token/`,
    },
  };
}

/** The emulator's request log through its control API, oldest first. */
export async function requests(
  emu: RunningEmulator,
  method?: string,
): Promise<{ method: string; status: number; params: unknown; error?: string }[]> {
  const q = new URLSearchParams({ limit: '1000', ...(method ? { method } : {}) });
  const res = await fetch(`${emu.url}/_emulator/api/requests?${q}`);
  const body = (await res.json()) as { requests: { method: string; status: number; params: unknown }[] };
  return body.requests.reverse();
}

/** The number of commands in each `batch` request the emulator received, in order. */
export async function batchSizes(emu: RunningEmulator): Promise<number[]> {
  return (await requests(emu, 'batch')).map((r) => {
    const cmd = (r.params as { cmd?: Record<string, unknown> | unknown[] }).cmd;
    return Array.isArray(cmd) ? cmd.length : Object.keys(cmd ?? {}).length;
  });
}

/**
 * Wait until `check` holds (polled; each look is cheap). Bounded so that a broken test fails with
 * `what` instead of hanging: the bound is generous, it is not a timing assertion. Below the
 * test timeout (60 s, vitest.config.ts), so a wait that never ends names itself rather than
 * leave only "Test timed out".
 */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 50_000,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`still waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Things to close after a test, last opened first. */
export class Closer {
  readonly #items: (() => Promise<unknown>)[] = [];
  add<T extends { close(): Promise<unknown> }>(thing: T): T {
    this.#items.push(() => thing.close());
    return thing;
  }
  async closeAll(): Promise<void> {
    while (this.#items.length > 0) await this.#items.pop()?.();
  }
}

/** A queue on `redis` with `key`, closed by `closer`. */
export function queueOn(
  closer: Closer,
  redisUrl: string,
  key: string,
  options: Partial<QueueOptions> = {},
): NotificationQueue {
  return closer.add(createQueue({ connection: redisUrl, secretKey: key, ...options }));
}

/** A worker on `redis` with short locks and sweeps (tests), closed by `closer`. */
export async function workerOn(
  closer: Closer,
  redisUrl: string,
  key: string,
  options: Partial<WorkerOptions> = {},
): Promise<QueueWorker> {
  return closer.add(
    await startWorker({
      connection: redisUrl,
      secretKey: key,
      lockDuration: 5000,
      stalledInterval: 2000,
      sweepInterval: 500,
      ...options,
    }),
  );
}
