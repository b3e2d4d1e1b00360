/** One request as the inspection API shows it. Secrets are masked before an entry is made. */
export interface RequestLogEntry {
  id: number;
  /** Milliseconds since the epoch (portal clock). */
  at: number;
  httpMethod: string;
  /** The path with any webhook code masked. */
  path: string;
  /** The REST method, or `oauth.token` for the OAuth server. */
  method: string;
  transport: 'webhook' | 'oauth' | 'session' | 'none';
  /** Parameters as the portal parsed them; the log masks secrets in them whenever it is read. */
  params: unknown;
  status: number;
  /** The answer body as sent (masked); absent for dropped connections. */
  response?: unknown;
  error?: string;
  /** A fault injected by the chaos setting. */
  fault?: string;
  durationMs: number;
  /** Notifications this request created. */
  notificationIds: number[];
  /** Set when params or the answer were too large to keep whole: they hold a marked preview. */
  truncated?: true;
}

/** Sizes of a request and its answer on the wire, which is what the log's byte bound counts. */
export interface WireSizes {
  /** Bytes of the request body plus the request target. */
  requestBytes: number;
  /** Bytes of the answer body. */
  responseBytes: number;
}

/** How much a request log keeps. */
export interface RequestLogLimits {
  /** Entries kept at most. */
  maxEntries: number;
  /**
   * Bytes kept at most, counted as the requests' and answers' sizes on the wire (as stored:
   * a truncated part counts its preview). The newest entry is always kept.
   */
  maxBytes: number;
  /** Secrets to mask wherever they appear in an entry (the portal's webhook codes, tokens). */
  secrets?: () => KnownSecrets;
}

/** The portal's own secrets, masked wherever they appear in text. */
export interface KnownSecrets {
  /** Fixed secrets: webhook codes, client secrets. */
  texts: readonly string[];
  /** Whether a run of 32 or more hex digits is a token the portal issued. */
  isToken?: (candidate: string) => boolean;
}

const NO_SECRETS: KnownSecrets = { texts: [] };

/** Params or an answer larger than this on the wire are stored as a preview. */
export const LOG_ENTRY_FULL_BYTES = 64 * 1024;

/** Characters (of strings, keys and scalars) a preview keeps. */
const PREVIEW_CHARS = 16 * 1024;

/** What an entry costs beyond its params and answer: ids, path, timing, the objects themselves. */
const ENTRY_OVERHEAD_BYTES = 1024;

/**
 * A bounded copy of a large value: the same shape, strings cut and containers shortened once
 * `budget` characters are spent, each cut marked in place (`… [N more characters not logged]`).
 * Keys are kept as they are, so masking by key still works on the copy.
 */
function preview(value: unknown, budget: { left: number }, secrets: KnownSecrets, depth = 0): unknown {
  if (typeof value === 'string') {
    if (value.length <= budget.left) {
      budget.left -= value.length;
      return value;
    }
    const keep = Math.max(0, budget.left);
    budget.left = 0;
    // Masked before the cut, which could otherwise leave half a secret that no mask recognises.
    return `${maskText(value, secrets).slice(0, keep)}… [${value.length - keep} more characters not logged]`;
  }
  if (value === null || typeof value !== 'object') {
    budget.left -= 8;
    return value;
  }
  if (depth > 64) return '… [nested deeper than the log keeps]';
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      if (budget.left <= 0) {
        out.push(`… [${value.length - i} more items not logged]`);
        break;
      }
      budget.left -= 2;
      out.push(preview(value[i], budget, secrets, depth + 1));
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (budget.left <= 0) {
      out['…'] = `[${keys.length - i} more keys not logged]`;
      break;
    }
    budget.left -= key.length + 4;
    out[key] = preview((value as Record<string, unknown>)[key], budget, secrets, depth + 1);
  }
  return out;
}

/**
 * A bounded log of recent requests: a ring, so a full log drops its oldest entry in constant
 * time (this sits on every request's path). Bounded by count and by bytes: params or an answer
 * over {@link LOG_ENTRY_FULL_BYTES} are stored as a preview (marked `truncated`), and the oldest
 * entries go once the total is over `maxBytes`.
 *
 * Entries are kept in the order they were added, which is id order: the REST pipeline takes an
 * entry's id after its last `await`, so no other entry can be added between the id and the
 * entry. Paging by `before=<id>` relies on it: entries added while a client pages all have
 * higher ids, so pages never skip or repeat one.
 *
 * Entries keep their params as parsed and are masked when read ({@link RequestLog.show}): the log
 * is written on every request and read rarely, so the copy is made on the rare side.
 */
export class RequestLog {
  #ring: (RequestLogEntry | undefined)[];
  /** What each ring slot counts against `maxBytes`. */
  #costs: number[];
  /** Index of the oldest entry. */
  #head = 0;
  #size = 0;
  #bytes = 0;
  #nextId = 1;
  #maxBytes: number;
  readonly #secrets: () => KnownSecrets;

  constructor(limits: RequestLogLimits) {
    const capacity = Math.max(1, limits.maxEntries);
    this.#ring = new Array<RequestLogEntry | undefined>(capacity);
    this.#costs = new Array<number>(capacity).fill(0);
    this.#maxBytes = limits.maxBytes;
    this.#secrets = limits.secrets ?? (() => NO_SECRETS);
  }

  /** Reserve the id of the next entry, so a notification can point at its request before it is logged. */
  nextId(): number {
    return this.#nextId++;
  }

  /**
   * Number new entries after `id`: a store kept on disk (`--data`) outlives the log, and its
   * notifications link to the requests that created them, so a new request must not take an id
   * an old notification already links to.
   */
  continueAfter(id: number): void {
    if (id >= this.#nextId) this.#nextId = id + 1;
  }

  /** The byte bound (`requestLogBytes`). */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /**
   * Change the byte bound at run time (`PUT /portal {requestLogBytes}`): a lower bound drops the
   * oldest entries now rather than at the next request, so the log reads as the bound says.
   */
  setMaxBytes(maxBytes: number): void {
    this.#maxBytes = maxBytes;
    while (this.#size > 1 && this.#bytes > this.#maxBytes) this.#dropOldest();
  }

  /** Bytes the kept entries count against the bound. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Keep an entry, dropping the oldest ones past either bound. Returns the entry as stored
   * (large params or answer replaced by a preview); show it with {@link RequestLog.show}.
   */
  add(entry: RequestLogEntry, wire: WireSizes = { requestBytes: 0, responseBytes: 0 }): RequestLogEntry {
    let stored = entry;
    let cost = ENTRY_OVERHEAD_BYTES + wire.requestBytes + wire.responseBytes;
    if (wire.requestBytes > LOG_ENTRY_FULL_BYTES || wire.responseBytes > LOG_ENTRY_FULL_BYTES) {
      const cutParams = wire.requestBytes > LOG_ENTRY_FULL_BYTES;
      const cutResponse = wire.responseBytes > LOG_ENTRY_FULL_BYTES && entry.response !== undefined;
      stored = {
        ...entry,
        params: cutParams ? preview(entry.params, { left: PREVIEW_CHARS }, this.#secrets()) : entry.params,
        ...(cutResponse
          ? { response: preview(entry.response, { left: PREVIEW_CHARS }, this.#secrets()) }
          : {}),
        truncated: true,
      };
      cost =
        ENTRY_OVERHEAD_BYTES +
        (cutParams ? PREVIEW_CHARS : wire.requestBytes) +
        (cutResponse ? PREVIEW_CHARS : wire.responseBytes);
    }
    const cap = this.#ring.length;
    if (this.#size === cap) this.#dropOldest();
    const slot = (this.#head + this.#size) % cap;
    this.#ring[slot] = stored;
    this.#costs[slot] = cost;
    this.#size++;
    this.#bytes += cost;
    while (this.#size > 1 && this.#bytes > this.#maxBytes) this.#dropOldest();
    return stored;
  }

  #dropOldest(): void {
    this.#ring[this.#head] = undefined;
    this.#bytes -= this.#costs[this.#head] ?? 0;
    this.#costs[this.#head] = 0;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#size--;
  }

  get(id: number): RequestLogEntry | undefined {
    // The ring is in id order (see the class comment): a binary search, not a map kept up to
    // date on every request.
    const cap = this.#ring.length;
    let lo = 0;
    let hi = this.#size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#ring[(this.#head + mid) % cap] as RequestLogEntry).id < id) lo = mid + 1;
      else hi = mid;
    }
    const e = lo < this.#size ? this.#ring[(this.#head + lo) % cap] : undefined;
    return e?.id === id ? this.show(e) : undefined;
  }

  /** Newest first, optionally only entries older than `beforeId`. */
  list(limit: number, beforeId?: number): RequestLogEntry[] {
    const out: RequestLogEntry[] = [];
    const cap = this.#ring.length;
    for (let i = this.#size - 1; i >= 0 && out.length < limit; i--) {
      const e = this.#ring[(this.#head + i) % cap] as RequestLogEntry;
      if (beforeId === undefined || e.id < beforeId) out.push(this.show(e));
    }
    return out;
  }

  /**
   * An entry as it may be shown (the inspection API, the inbox, the event stream): secrets
   * masked in its path, method, params and answer, keys included.
   */
  show(e: RequestLogEntry): RequestLogEntry {
    const secrets = this.#secrets();
    return {
      ...e,
      path: maskText(e.path, secrets),
      method: maskText(e.method, secrets),
      params: maskSecrets(e.params, 0, secrets),
      ...(e.response !== undefined ? { response: maskSecrets(e.response, 0, secrets) } : {}),
    };
  }

  clear(): void {
    this.#ring = new Array<RequestLogEntry | undefined>(this.#ring.length);
    this.#costs.fill(0);
    this.#head = 0;
    this.#size = 0;
    this.#bytes = 0;
  }
}

const SECRET_KEYS = new Set(['auth', 'access_token', 'refresh_token', 'client_secret', 'password', 'code']);
const SECRET_IN_QUERY = /\b(auth|access_token|refresh_token|client_secret)=([^&\s]*)/gi;
/** The same secrets in JSON text, as a body with the wrong content type leaves them in a form key. */
const SECRET_IN_JSON_TEXT =
  /("(?:auth|access_token|refresh_token|client_secret|password)"\s*:\s*")((?:[^"\\]|\\.)*)/gi;

/**
 * A webhook URL's code, the segment after `rest/<user>/`, with `/` written plainly or
 * percent-encoded (once or twice): `/rest/1/CODE/`, `rest%2F1%2FCODE`. Matches unknown codes
 * too, since a code for some other portal must not show either.
 */
const WEBHOOK_CODE_IN_TEXT =
  /(rest(?:\/|%2f|%252f)+(?:(?!\/|%2f|%252f)[^\s?#&])*?(?:\/|%2f|%252f)+)(?:(?!\/|%2f|%252f)[^\s?#&"'<>])+/gi;

/** Known codes shorter than this are not searched for in free text, where they would hit words. */
const MIN_CODE_LENGTH = 8;

/** Mask secrets found in a query string or URL: `auth=abc` → `auth=***`. */
export function maskQuery(text: string): string {
  return text.replace(SECRET_IN_QUERY, '$1=***');
}

/**
 * Mask every secret a text may carry: query secrets (`auth=…`, and `"auth":"…"` in JSON text),
 * the code in anything shaped like a webhook URL, and the portal's own secrets wherever they
 * appear, in any letter case: its webhook codes and client secrets, and any hex run that is a
 * token it issued (a parameter name can get lost, as PHP drops the tail of `a[b]auth=…`).
 */
export function maskText(text: string, secrets: KnownSecrets = NO_SECRETS): string {
  let out = text;
  if (out.includes('=')) out = maskQuery(out);
  if (out.includes('"')) out = out.replace(SECRET_IN_JSON_TEXT, '$1***');
  if (/rest/i.test(out)) out = out.replace(WEBHOOK_CODE_IN_TEXT, '$1***');
  const isToken = secrets.isToken;
  if (isToken) out = out.replace(/[0-9a-f]{32,}/gi, (run) => (isToken(run.toLowerCase()) ? '***' : run));
  for (const secret of secrets.texts) {
    if (secret.length < MIN_CODE_LENGTH) continue;
    if (out.toLowerCase().includes(secret.toLowerCase())) {
      out = out.replace(new RegExp(secret.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), '***');
    }
  }
  return out;
}

/**
 * A copy of `value` with every secret masked: values under secret keys, and in every string
 * and key what {@link maskText} masks (batch commands carry `auth=` and webhook URLs in theirs).
 */
export function maskSecrets(value: unknown, depth = 0, secrets: KnownSecrets = NO_SECRETS): unknown {
  if (typeof value === 'string') return maskText(value, secrets);
  if (value === null || typeof value !== 'object') return value;
  // Deeper than any parsed request nests (wire/body.ts MAX_NESTING); never shown unmasked.
  if (depth > 80) return '… [nested deeper than the log shows]';
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1, secrets));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // `?auth`, `profile?auth` and the like count too: a URL or query string sent as a form body
    // makes such keys.
    const secretKey = k
      .toLowerCase()
      .split(/[^a-z0-9_]+/)
      .some((word) => SECRET_KEYS.has(word));
    out[maskText(k, secrets)] =
      secretKey && v !== '' && v != null ? '***' : maskSecrets(v, depth + 1, secrets);
  }
  return out;
}
