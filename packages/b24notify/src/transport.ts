import type { Delivery } from './errors/b24-error.js';
import { errorFromAnswer } from './errors/from-answer.js';
import { B24NetworkError } from './errors/network-error.js';
import { B24TimeoutError } from './errors/timeout-error.js';
import type { Answer, TimeBlock } from './time.js';

/**
 * System error codes of a connection that never carried the request: the portal cannot have
 * applied anything, so a retry is always safe.
 */
const NEVER_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Find the system error code under fetch's generic "fetch failed". */
function systemCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** One request as the transport sends it. */
export interface TransportRequest {
  url: string;
  method: string;
  host: string;
  body: Record<string, unknown>;
  timeout: number;
  signal?: AbortSignal;
  fetch: typeof fetch;
}

interface RawAnswer {
  result?: unknown;
  time?: TimeBlock;
  total?: unknown;
  next?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/**
 * POST one call as JSON and parse the answer. The only place b24notify touches the network for
 * REST calls: every failure leaves here as a B24Error that says whether the call may have
 * been applied.
 */
export async function send<T>(req: TransportRequest): Promise<Answer<T>> {
  const ctx = { method: req.method, host: req.host };
  const timeout = AbortSignal.timeout(req.timeout);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const failed = (err: unknown, fallback: string, delivery?: Delivery): never => {
    if (req.signal?.aborted) throw req.signal.reason;
    if (timeout.aborted) throw new B24TimeoutError(req.timeout, { ...ctx, cause: err });
    const code = systemCode(err);
    throw new B24NetworkError(code ? `${fallback} (${code})` : fallback, {
      ...ctx,
      ...(code ? { code } : {}),
      delivery: delivery ?? (code && NEVER_SENT.has(code) ? 'not-delivered' : 'unknown'),
      cause: err,
    });
  };

  let res: Response;
  try {
    res = await req.fetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(req.body),
      signal,
    });
  } catch (err) {
    return failed(err, 'The request failed');
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    // The portal started answering: it had the request, so it may have acted on it.
    return failed(err, `The answer (HTTP ${res.status}) was cut off`, 'unknown');
  }
  let json: RawAnswer;
  try {
    json = JSON.parse(text) as RawAnswer;
  } catch {
    throw new B24NetworkError(`The portal answered HTTP ${res.status} with something other than JSON`, {
      ...ctx,
      delivery: res.status >= 500 || res.ok ? 'unknown' : 'not-delivered',
    });
  }
  if (json === null || typeof json !== 'object') {
    throw new B24NetworkError(`The portal answered HTTP ${res.status} with unexpected JSON`, {
      ...ctx,
      delivery: 'unknown',
    });
  }
  if (json.error !== undefined && json.error !== null) {
    const operating = json.time?.operating_reset_at;
    throw errorFromAnswer(
      res.status,
      String(json.error),
      typeof json.error_description === 'string' ? json.error_description : '',
      {
        ...ctx,
        ...(typeof operating === 'number' ? { retryAt: operating * 1000 } : {}),
      },
    );
  }
  if (!res.ok || !('result' in json)) {
    throw new B24NetworkError(`The portal answered HTTP ${res.status} without a result`, {
      ...ctx,
      delivery: 'unknown',
    });
  }
  const answer: Answer<T> = { result: json.result as T };
  if (json.time && typeof json.time === 'object') answer.time = json.time;
  if (typeof json.total === 'number') answer.total = json.total;
  if (typeof json.next === 'number') answer.next = json.next;
  return answer;
}
