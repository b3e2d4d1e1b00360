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
}

/**
 * An entry as it may be shown. Entries keep their params as parsed and are masked when read:
 * the log is written on every request and read rarely, so the copy is made on the rare side.
 */
function masked(e: RequestLogEntry): RequestLogEntry {
  return { ...e, params: maskSecrets(e.params) };
}

/**
 * A bounded log of recent requests: a ring, so a full log drops its oldest entry in constant
 * time (this sits on every request's path). Entries are kept in the order requests finished,
 * which is not id order when requests overlap; lookups by id go through a map.
 */
export class RequestLog {
  #ring: (RequestLogEntry | undefined)[];
  /** Index of the oldest entry. */
  #head = 0;
  #size = 0;
  readonly #byId = new Map<number, RequestLogEntry>();
  #nextId = 1;

  constructor(private capacity: number) {
    this.#ring = new Array<RequestLogEntry | undefined>(Math.max(1, capacity));
  }

  /** Reserve the id of the next entry, so a notification can point at its request before it is logged. */
  nextId(): number {
    return this.#nextId++;
  }

  add(entry: RequestLogEntry): void {
    const cap = this.#ring.length;
    if (this.#size === cap) {
      const oldest = this.#ring[this.#head];
      if (oldest) this.#byId.delete(oldest.id);
      this.#ring[this.#head] = entry;
      this.#head = (this.#head + 1) % cap;
    } else {
      this.#ring[(this.#head + this.#size) % cap] = entry;
      this.#size++;
    }
    this.#byId.set(entry.id, entry);
  }

  get(id: number): RequestLogEntry | undefined {
    const e = this.#byId.get(id);
    return e && masked(e);
  }

  /** Newest first, optionally only entries older than `beforeId`. */
  list(limit: number, beforeId?: number): RequestLogEntry[] {
    const out: RequestLogEntry[] = [];
    const cap = this.#ring.length;
    for (let i = this.#size - 1; i >= 0 && out.length < limit; i--) {
      const e = this.#ring[(this.#head + i) % cap] as RequestLogEntry;
      if (beforeId === undefined || e.id < beforeId) out.push(masked(e));
    }
    return out;
  }

  clear(): void {
    this.#ring = new Array<RequestLogEntry | undefined>(this.#ring.length);
    this.#head = 0;
    this.#size = 0;
    this.#byId.clear();
  }
}

const SECRET_KEYS = new Set(['auth', 'access_token', 'refresh_token', 'client_secret', 'password', 'code']);
const SECRET_IN_QUERY = /\b(auth|access_token|refresh_token|client_secret)=([^&\s]*)/gi;

/** Mask secrets found in a query string or URL: `auth=abc` → `auth=***`. */
export function maskQuery(text: string): string {
  return text.replace(SECRET_IN_QUERY, '$1=***');
}

/**
 * A copy of `value` with every secret masked: values under secret keys, and secrets inside
 * query strings (batch commands carry `auth=` in theirs).
 */
export function maskSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.includes('=') ? maskQuery(value) : value;
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) && v !== '' && v != null ? '***' : maskSecrets(v, depth + 1);
  }
  return out;
}
