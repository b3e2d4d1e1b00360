/**
 * One delivery: claim due messages in batches, send them through `client.batch`, and record
 * each message's outcome the moment its batch answers. Every decision about a message (sent,
 * failed for good, back in line, unknown) is made here, from the library's errors.
 */
import {
  errorCodeInfo,
  isB24ApiError,
  isB24AuthError,
  isB24Error,
  isB24NetworkError,
  isB24RateLimitError,
  isB24ValidationError,
  type B24RateLimitError,
  type BatchCommand,
  type BatchResult,
  type Client,
} from 'b24notify';
import type { MessageRow, Outcome, Store } from './store.js';
import type { DeliveryProgress, DeliveryReport } from './types.js';

/** What {@link deliver} needs, checked and defaulted by the outbox. */
export interface DeliverSettings {
  batchSize: number;
  concurrency: number;
  maxAttempts: number;
  waitForDue: boolean;
  now: () => number;
  signal?: AbortSignal;
  onProgress?: (progress: DeliveryProgress) => void;
}

/** Back-off after a passing failure: 1 s, doubling, at most a minute. */
function backoffMs(attempts: number): number {
  return Math.min(60_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

/** When the portal's answer names no time, wait this long after OPERATION_TIME_LIMIT. */
const OPERATING_WAIT_MS = 60_000;

/** Whether sending the message again replaces the first copy (it has a TAG) rather than adding one. */
function tagged(row: MessageRow): boolean {
  if (row.auto_tag === 1) return true;
  const tag = (JSON.parse(row.params) as { TAG?: unknown }).TAG;
  return (typeof tag === 'string' && tag.trim() !== '') || typeof tag === 'number';
}

function errorOf(err: unknown): { code: string; description: string } {
  if (isB24ApiError(err)) return { code: err.code, description: err.description || err.message };
  if (isB24Error(err)) return { code: err.name, description: err.message };
  return { code: 'ERROR', description: err instanceof Error ? err.message : String(err) };
}

/** Stop waiting early when the signal aborts; never rejects. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Errors after which no further batch can succeed: stop the delivery and report them. A portal
 * that cannot be reached (refused connection, unknown name, TLS failure, a redirect) is one:
 * the request never left, so nothing was tried, and burning every message's attempts against it
 * would only turn a wrong address or a stopped server into a file of `failed` messages. The
 * library has already retried such a request before it gave up.
 */
function isFatal(err: unknown): boolean {
  if (isB24AuthError(err)) return true;
  if (isB24NetworkError(err) && err.delivery === 'not-delivered') return true;
  if (isB24RateLimitError(err) && err.code === 'OVERLOAD_LIMIT') return true;
  return !isB24Error(err);
}

export async function deliver(store: Store, client: Client, s: DeliverSettings): Promise<DeliveryReport> {
  const startedAt = Date.now();
  const recovered = store.recover(s.now());
  const counts = { sent: 0, failed: 0, unknown: 0, requeued: 0, batches: 0 };
  // Kept up to date from what this delivery claims and records, rather than counting the whole
  // file after every batch, which would cost more the larger the file. Another process adding
  // messages meanwhile is seen only in the final report, which counts.
  const stats = store.counts();
  const inFlight = new Set<Promise<void>>();
  let fatal: { error: unknown } | undefined;
  const stopped = (): boolean => s.signal?.aborted === true || fatal !== undefined;

  /** A message that may have reached the portal: again if tagged, else unknown. */
  const maybeArrived = (row: MessageRow, err: unknown, retryAt?: number): Outcome => {
    if (!tagged(row)) return { id: row.id, state: 'unknown', error: errorOf(err) };
    if (row.attempts >= s.maxAttempts) return { id: row.id, state: 'failed', error: errorOf(err) };
    return {
      id: row.id,
      state: 'pending',
      notBefore: retryAt ?? s.now() + backoffMs(row.attempts),
      error: errorOf(err),
    };
  };

  /** A message the portal certainly did not create this time. */
  const notArrived = (row: MessageRow, err: unknown): Outcome =>
    row.attempts >= s.maxAttempts
      ? { id: row.id, state: 'failed', error: errorOf(err) }
      : { id: row.id, state: 'pending', notBefore: s.now() + backoffMs(row.attempts), error: errorOf(err) };

  /** A limit turned the message away: nothing was tried, it goes again when the limit lifts. */
  const heldBack = (row: MessageRow, err: B24RateLimitError): Outcome => ({
    id: row.id,
    state: 'pending',
    notBefore: err.retryAt ?? s.now() + (err.code === 'OPERATION_TIME_LIMIT' ? OPERATING_WAIT_MS : 1000),
    refund: true,
    error: errorOf(err),
  });

  /** The whole batch failed: no answer per message. */
  const batchFailed = (rows: readonly MessageRow[], err: unknown): Outcome[] => {
    if (s.signal?.aborted && !isB24Error(err)) {
      // Stopped on purpose: in line again (tagged), or unknown if the request may have left.
      return rows.map((row) =>
        tagged(row)
          ? { id: row.id, state: 'pending', refund: true }
          : {
              id: row.id,
              state: 'unknown',
              error: {
                code: 'ABORTED',
                description: 'the delivery was stopped while this message was being sent',
              },
            },
      );
    }
    if (isFatal(err)) {
      fatal ??= { error: err };
      return rows.map((row) => ({ id: row.id, state: 'pending', refund: true, error: errorOf(err) }));
    }
    if (isB24ValidationError(err))
      return rows.map((row) => ({ id: row.id, state: 'failed', error: errorOf(err) }));
    if (isB24RateLimitError(err)) return rows.map((row) => heldBack(row, err));
    if (isB24Error(err) && err.delivery === 'not-delivered') return rows.map((row) => notArrived(row, err));
    return rows.map((row) => maybeArrived(row, err));
  };

  /** One message's answer inside a batch that arrived. */
  const answered = (row: MessageRow, key: string, result: BatchResult): Outcome => {
    if (Object.prototype.hasOwnProperty.call(result.result, key)) {
      const value = result.result[key];
      if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
        return { id: row.id, state: 'sent', notificationId: value };
      }
      return {
        id: row.id,
        state: 'failed',
        error: {
          code: 'NOT_CREATED',
          description: `the portal answered ${JSON.stringify(value)}: it created no notification`,
        },
      };
    }
    const err = result.errors[key];
    if (err === undefined) {
      // Neither answered nor refused: the portal skipped it, or the answer lost it.
      return maybeArrived(row, new Error('the batch answer did not mention this message'));
    }
    if (isFatal(err)) {
      fatal ??= { error: err };
      return { id: row.id, state: 'pending', refund: true, error: errorOf(err) };
    }
    if (isB24RateLimitError(err)) return heldBack(row, err);
    const info = errorCodeInfo(err.code);
    if (info?.retryable) return info.applied ? maybeArrived(row, err) : notArrived(row, err);
    return { id: row.id, state: 'failed', error: errorOf(err) };
  };

  const record = (outcomes: readonly Outcome[]): void => {
    store.settle(outcomes, s.now());
    for (const o of outcomes) {
      stats.sending--;
      stats[o.state]++;
      if (o.state === 'sent') counts.sent++;
      else if (o.state === 'failed') counts.failed++;
      else if (o.state === 'unknown') counts.unknown++;
      else counts.requeued++;
    }
    s.onProgress?.({ ...counts, stats: { ...stats } });
  };

  const send = async (rows: readonly MessageRow[]): Promise<void> => {
    // Keys that are not 0…n-1, so the portal's PHP answers with a map, never a list.
    const commands: Record<string, BatchCommand> = {};
    for (const row of rows) {
      commands[`m${row.id}`] = [row.method, JSON.parse(row.params) as Record<string, unknown>];
    }
    let result: BatchResult;
    try {
      result = await client.batch(commands, s.signal ? { signal: s.signal } : {});
    } catch (err) {
      record(batchFailed(rows, err));
      return;
    }
    counts.batches++;
    record(rows.map((row) => answered(row, `m${row.id}`, result)));
  };

  while (!stopped()) {
    while (inFlight.size < s.concurrency && !stopped()) {
      const rows = store.claim(s.batchSize, s.now());
      if (rows.length === 0) break;
      stats.pending -= rows.length;
      stats.sending += rows.length;
      const job: Promise<void> = send(rows)
        .catch((err: unknown) => {
          // A failure of our own (the file, a callback): stop, and say so.
          fatal ??= { error: err };
        })
        .finally(() => inFlight.delete(job));
      inFlight.add(job);
    }
    if (stopped()) break;
    if (inFlight.size > 0) {
      await Promise.race(inFlight);
      continue;
    }
    const due = store.nextDue();
    if (due === undefined || !s.waitForDue) break;
    await sleep(Math.max(0, due - s.now()), s.signal);
  }
  await Promise.all(inFlight);
  if (fatal) throw fatal.error;
  const final = store.counts();
  return {
    ...counts,
    stats: final,
    recovered,
    aborted: s.signal?.aborted === true && final.pending > 0,
    durationMs: Date.now() - startedAt,
  };
}
