import type { Delivery } from './errors/b24-error.js';
import { errorFromAnswer } from './errors/from-answer.js';
import { B24NetworkError } from './errors/network-error.js';
import { explainNetworkCode } from './errors/network-reasons.js';
import { B24TimeoutError } from './errors/timeout-error.js';
import { B24ValidationError } from './errors/validation-error.js';
import { liveSecrets, maskSecrets } from './secrets.js';
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
  // https:// to a server that speaks plain http: the handshake failed before the request.
  'ERR_SSL_WRONG_VERSION_NUMBER',
  // node:https's name for a failed TLS handshake: no HTTP byte is sent before it completes.
  'EPROTO',
]);

/** Find the system error code under fetch's generic "fetch failed". */
export function systemCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** How deep {@link scrubSecrets} looks into a cause; fetch errors nest three or four levels. */
const SCRUB_DEPTH = 6;

/** `read()`, or undefined when it throws (a getter or a `toString` of someone else's object). */
function attempt(read: () => unknown): unknown {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Whether `value` or anything it holds (messages, stacks, URLs, own fields) quotes a secret. */
function mentions(value: unknown, secrets: readonly string[], depth: number, seen: Set<object>): boolean {
  if (typeof value === 'string') return secrets.some((s) => value.includes(s));
  if (value === null || typeof value !== 'object' || depth > SCRUB_DEPTH || seen.has(value)) return false;
  seen.add(value);
  // URL and Request objects keep their address behind getters that an own-key walk misses.
  const text = attempt(() => String(value));
  if (typeof text === 'string' && !text.startsWith('[object ') && mentions(text, secrets, depth, seen)) {
    return true;
  }
  if (
    mentions(
      attempt(() => Reflect.get(value, 'url')),
      secrets,
      depth,
      seen,
    )
  )
    return true;
  return Reflect.ownKeys(value).some((key) =>
    mentions(
      attempt(() => Reflect.get(value, key)),
      secrets,
      depth + 1,
      seen,
    ),
  );
}

/**
 * `cause` with every secret masked, for errors that quote a request: node-fetch, for one, puts
 * the whole URL (a webhook's code) in its message, and `util.inspect` prints every cause. A
 * cause that quotes nothing is kept as it is; one that does is replaced by a plain copy with
 * its name, code, message and stack masked (other fields dropped: they could hold more).
 */
export function scrubSecrets(cause: unknown, secrets: readonly string[], depth = 0): unknown {
  const live = liveSecrets(secrets);
  if (live.length === 0 || !mentions(cause, live, 0, new Set())) return cause;
  const mask = (text: string): string => maskSecrets(text, live);
  if (typeof cause === 'string') return mask(cause);
  if (!(cause instanceof Error) || depth >= SCRUB_DEPTH) return '[a cause that quoted a secret]';
  const inner: unknown = cause.cause;
  const copy = new Error(
    mask(cause.message),
    inner === undefined ? undefined : { cause: scrubSecrets(inner, live, depth + 1) },
  );
  copy.name = cause.name;
  copy.stack = mask(cause.stack ?? '');
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') {
    Object.assign(copy, { code: typeof code === 'string' ? mask(code) : code });
  }
  return copy;
}

/**
 * Where a redirect points, as scheme and host only: the path of a webhook URL holds its code.
 * Phrased as advice, since the portal's address in the client's options is what must change.
 */
function redirectTarget(res: Response, from: string): string {
  const location = res.headers.get('location');
  if (!location) return '';
  try {
    return ` to ${new URL(location, from).origin}: use that address in the client's options`;
  } catch {
    return '';
  }
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
  /** The credentials this request carries, masked in any cause an error keeps. */
  secrets?: readonly string[];
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
    const cause = scrubSecrets(err, req.secrets ?? []);
    if (timeout.aborted) throw new B24TimeoutError(req.timeout, { ...ctx, cause });
    const code = systemCode(cause);
    const explained =
      code && !delivery ? explainNetworkCode(code, new URL(req.url), 'the portal') : undefined;
    throw new B24NetworkError(explained?.reason ?? (code ? `${fallback} (${code})` : fallback), {
      ...ctx,
      ...(code ? { code } : {}),
      ...(explained ? { hint: explained.hint } : {}),
      delivery: delivery ?? (code && NEVER_SENT.has(code) ? 'not-delivered' : 'unknown'),
      cause,
    });
  };

  // Serialized before sending: a BigInt or a cycle is the caller's mistake and nothing left,
  // not a network failure of unknown delivery.
  let payload: string;
  try {
    payload = JSON.stringify(req.body);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new B24ValidationError('params', `cannot be sent as JSON: ${why}`, req.method);
  }

  let res: Response;
  try {
    res = await req.fetch(req.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: payload,
      // Following a redirect would re-send the credentials (the token in a 307/308 body, the
      // webhook code in the path) wherever it points, possibly over plain http.
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    return failed(err, 'The request failed');
  }
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel().catch(() => undefined);
    throw new B24NetworkError(`The portal redirected (HTTP ${res.status})${redirectTarget(res, req.url)}`, {
      ...ctx,
      // A web server's redirect comes before Bitrix24 runs anything.
      delivery: 'not-delivered',
    });
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
        secrets: req.secrets ?? [],
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
