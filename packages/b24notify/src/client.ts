import { oauthAuth, type OAuthOptions } from './auth/oauth.js';
import { tokenAuth } from './auth/token.js';
import type { Auth } from './auth/types.js';
import { webhookAuth } from './auth/webhook.js';
import {
  batchMethods,
  buildBatch,
  parseBatch,
  subCallOutcomes,
  type BatchCommands,
  type BatchResult,
} from './batch.js';
import { systemClock, type Clock } from './clock.js';
import { B24AuthError } from './errors/auth-error.js';
import { B24Error } from './errors/b24-error.js';
import { B24RateLimitError } from './errors/rate-limit-error.js';
import { B24ValidationError } from './errors/validation-error.js';
import { createNotify, type Notify } from './notify/index.js';
import { Pacer, type PacingOptions } from './pacing.js';
import { isIdempotent } from './idempotency.js';
import { nodeFetch } from './node-fetch.js';
import { DEFAULT_RETRY, retryDelay, type RetryPolicy } from './retry.js';
import type { Answer } from './time.js';
import { send } from './transport.js';

/** How to reach and authenticate with a portal, and how to behave on the way. */
export interface ClientOptions {
  /** An inbound webhook URL: `https://PORTAL/rest/USER_ID/CODE/`. */
  webhookUrl?: string;
  /** The portal's domain (or URL) for token auth: `example.bitrix24.com`. */
  portal?: string;
  /** A fixed access token, with `portal` (OPI's form). It is not refreshed. */
  accessToken?: string;
  /** Application credentials, with `portal`: the access token is refreshed when it expires. */
  oauth?: OAuthOptions;
  /**
   * Allow plain `http://` to hosts other than loopback. Credentials then cross the network
   * readable by anyone on the way. @default false
   */
  allowHttp?: boolean;
  /** Milliseconds to wait for each answer; the portal itself gives up after 60 s. @default 60000 */
  timeout?: number;
  /** Retry policy (numbers override the defaults), or false for none. */
  retry?: Partial<RetryPolicy> | false;
  /** Client-side pacing, or false to send as fast as called. @default { plan: 'standard' } */
  pacing?: PacingOptions | false;
  /**
   * The fetch to use (a proxy, a mock). @default {@link nodeFetch}, a fetch over `node:http(s)`
   * that starts far faster than Node 20's own.
   */
  fetch?: typeof fetch;
  /**
   * Your application's id, sent as CLIENT_ID with notifications: through a webhook, the portal
   * needs it to own TAG and SUB_TAG.
   */
  clientId?: string;
  /** The portal's ATTACH size limit in characters, checked before sending. @default 60000 */
  attachMaxLength?: number;
  /** Time source for pacing and back-off; tests pass one that moves an emulator's clock. */
  clock?: Clock;
}

/** Options for one call. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Milliseconds for this call, instead of the client's timeout. */
  timeout?: number;
  /**
   * Whether repeating the call cannot duplicate its effect. Decides whether a call that may
   * have been applied (timeout, reset, 500) is retried. b24notify knows it for the notification
   * methods; for others it defaults to false.
   */
  idempotent?: boolean;
}

/** A Bitrix24 client for one portal and one set of credentials. */
export interface Client {
  /** The portal's host (no secrets). */
  readonly host: string;
  /** The notification methods (`im.notify.*`). */
  readonly notify: Notify;
  /** Call any REST method with Bitrix24's own parameter names. */
  call<T = unknown>(
    method: string,
    params?: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<Answer<T>>;
  /**
   * Run up to 50 calls in one request (spec §7). Paced as one request in the bucket, while
   * each command counts against its own method's operating time, as the portal counts it: the
   * batch waits until every method it holds has room for its commands. Commands the portal
   * refused with `OPERATION_TIME_LIMIT` come back in `errors` (the batch itself succeeded) and
   * park their method until its window can have moved on. Retried like {@link Client.call}.
   */
  batch(commands: BatchCommands, options?: CallOptions & { halt?: boolean }): Promise<BatchResult>;
}

/** One attempt's place in the pacer: taken before sending, ended exactly once after. */
interface Turn {
  /** The attempt was answered: learn from it. */
  answered(answer: Answer<unknown>): void;
  /** The attempt failed with `err` (thrown by the transport, or an abort). */
  failed(err: unknown): void;
}

/** The portal refused a request because its bucket is full. */
function bucketFull(err: unknown): boolean {
  return err instanceof B24RateLimitError && err.code === 'QUERY_LIMIT_EXCEEDED';
}

/**
 * How an attempt at `method` takes its turn in `pacer`. A batch (however it was built) reserves
 * operating time for each command under the command's own method; any other call, for itself.
 */
function pacedTurn(
  pacer: Pacer,
  method: string,
  params: Record<string, unknown>,
): (signal: AbortSignal | undefined) => Promise<Turn> {
  const commands = method.toLowerCase() === 'batch' ? batchMethods(params.cmd) : undefined;
  if (!commands) {
    return async (signal) => {
      await pacer.acquire(method, signal);
      return {
        answered: (answer) => pacer.observe(method, answer.time),
        // A refused-for-limits call tells the pacer the portal's bucket is full; any other
        // failure lets its slot start draining.
        failed: (err) => (bucketFull(err) ? pacer.saturate(method) : pacer.settle(method)),
      };
    };
  }
  const counts = new Map<string, number>();
  for (const m of commands.values()) counts.set(m, (counts.get(m) ?? 0) + 1);
  return async (signal) => {
    const ticket = await pacer.acquireBatch(counts, signal);
    return {
      answered(answer) {
        const { ran, refused } = subCallOutcomes(answer, commands);
        for (const m of refused) pacer.exhaust(m);
        ticket.observe(ran);
      },
      failed(err) {
        if (bucketFull(err)) ticket.saturate();
        // Unless the batch certainly never ran, the portal may have charged its commands.
        else ticket.settle(!(err instanceof B24Error && err.delivery === 'not-delivered'));
      },
    };
  };
}

/**
 * The longest timeout a timer holds (2^31 − 1 ms, about 24.8 days). A longer one does not wait
 * forever: Node fires it after 1 ms, so every call would time out at once.
 */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** A timeout as AbortSignal.timeout takes it (whole milliseconds), or a validation error. */
function checkTimeout(value: unknown, method?: string): number {
  if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMEOUT_MS) {
    throw new B24ValidationError(
      'timeout',
      `expected a number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${String(value)}`,
      method,
    );
  }
  return Math.ceil(value);
}

function resolveAuth(options: ClientOptions, fetchImpl: typeof fetch): Auth {
  const allowHttp = options.allowHttp === true;
  const given = [
    options.webhookUrl !== undefined,
    options.accessToken !== undefined,
    options.oauth !== undefined,
  ];
  if (given.filter(Boolean).length !== 1) {
    throw new B24ValidationError(
      'options',
      'pass exactly one of webhookUrl, accessToken (with portal) or oauth (with portal)',
    );
  }
  if (options.webhookUrl !== undefined) return webhookAuth(options.webhookUrl, allowHttp);
  if (options.portal === undefined) {
    throw new B24ValidationError(
      'portal',
      'expected the portal domain, e.g. "example.bitrix24.com", with a token',
    );
  }
  if (options.oauth) return oauthAuth(options.portal, options.oauth, allowHttp, fetchImpl);
  if (!options.accessToken) throw new B24ValidationError('accessToken', 'expected a non-empty access token');
  return tokenAuth(options.portal, options.accessToken, allowHttp);
}

/**
 * Create a client from a webhook URL, a portal plus access token, or OAuth credentials.
 *
 * @example
 * const b24 = createClient({ webhookUrl: process.env.B24_WEBHOOK_URL });
 * const { result: id } = await b24.notify.personal({ userId: 5, message: 'Invoice paid' });
 */
export function createClient(options: ClientOptions): Client {
  const fetchImpl = options.fetch ?? nodeFetch;
  const auth = resolveAuth(options, fetchImpl);
  const clock = options.clock ?? systemClock;
  const timeout = checkTimeout(options.timeout ?? 60_000);
  const policy: RetryPolicy =
    options.retry === false ? { ...DEFAULT_RETRY, limit: 0 } : { ...DEFAULT_RETRY, ...options.retry };
  const pacer = options.pacing === false ? undefined : new Pacer(options.pacing ?? {}, clock);

  async function call<T>(
    method: string,
    params: Record<string, unknown> = {},
    callOptions: CallOptions = {},
  ): Promise<Answer<T>> {
    const callTimeout =
      callOptions.timeout === undefined ? timeout : checkTimeout(callOptions.timeout, method);
    const idempotent = callOptions.idempotent ?? isIdempotent(method, params);
    let refreshed = false;
    const takeTurn = pacer ? pacedTurn(pacer, method, params) : undefined;
    for (let attempt = 1; ; attempt++) {
      // Credentials first: a refresh that fails must not hold a slot in the bucket.
      const creds = await auth.credentials();
      const turn = await takeTurn?.(callOptions.signal);
      let answer: Answer<T>;
      try {
        answer = await send<T>({
          url: auth.url(method),
          method,
          host: auth.host,
          body: { ...params, ...creds.body },
          timeout: callTimeout,
          ...(callOptions.signal ? { signal: callOptions.signal } : {}),
          fetch: fetchImpl,
          secrets: auth.secrets(),
        });
      } catch (err) {
        // Every turn taken is ended once, whatever follows.
        turn?.failed(err);
        if (!(err instanceof B24Error)) throw err;
        // The portal says the method's budget is spent, whatever our figures say (another
        // client on the same webhook): park the method, so no other call is sent into it.
        if (err instanceof B24RateLimitError && err.code === 'OPERATION_TIME_LIMIT') pacer?.exhaust(method);
        // An expired token was refused before the method ran: renew once, then repeat.
        if (err instanceof B24AuthError && err.code === 'expired_token' && !refreshed) {
          refreshed = true;
          if (await auth.refresh(creds.used, callOptions.signal)) {
            attempt--;
            continue;
          }
        }
        const limitError =
          err instanceof B24RateLimitError && err.code === 'OPERATION_TIME_LIMIT' && err.retryAt === undefined
            ? new B24RateLimitError({
                code: err.code,
                description: err.description,
                status: err.status,
                method,
                host: auth.host,
                ...(pacer?.resetAt(method) ? { retryAt: pacer.resetAt(method) } : {}),
              })
            : err;
        const delay = retryDelay(limitError, policy, {
          attempt,
          idempotent,
          now: clock.now(),
          slotMs: pacer?.slotMs ?? 500,
          random: Math.random,
        });
        if (delay === undefined) throw limitError;
        await clock.sleep(delay, callOptions.signal);
        continue;
      }
      turn?.answered(answer);
      return answer;
    }
  }

  return {
    get host() {
      return auth.host;
    },
    notify: createNotify(call, {
      attachMaxLength: options.attachMaxLength ?? 60_000,
      ...(options.clientId ? { clientId: options.clientId } : {}),
    }),
    call,
    async batch(commands, batchOptions = {}) {
      const { halt, ...callOptions } = batchOptions;
      const { params, idempotent } = buildBatch(commands, halt ?? false);
      const answer = await call<unknown>('batch', params, {
        ...callOptions,
        idempotent: callOptions.idempotent ?? idempotent,
      });
      return parseBatch(answer, auth.host, auth.secrets());
    },
  };
}
