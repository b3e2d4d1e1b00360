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
  /** Masked parameters as the portal parsed them. */
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

/** A bounded log of recent requests: the oldest entry drops out when the log is full. */
export class RequestLog {
  readonly #entries: RequestLogEntry[] = [];
  #nextId = 1;

  constructor(private capacity: number) {}

  /** Reserve the id of the next entry, so a notification can point at its request before it is logged. */
  nextId(): number {
    return this.#nextId++;
  }

  add(entry: RequestLogEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length > this.capacity) this.#entries.splice(0, this.#entries.length - this.capacity);
  }

  get(id: number): RequestLogEntry | undefined {
    // Ids grow with position, so a binary search finds one in a full log quickly.
    let lo = 0;
    let hi = this.#entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.#entries[mid] as RequestLogEntry;
      if (e.id === id) return e;
      if (e.id < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** Newest first, optionally only entries older than `beforeId`. */
  list(limit: number, beforeId?: number): RequestLogEntry[] {
    const out: RequestLogEntry[] = [];
    for (let i = this.#entries.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.#entries[i] as RequestLogEntry;
      if (beforeId === undefined || e.id < beforeId) out.push(e);
    }
    return out;
  }

  clear(): void {
    this.#entries.length = 0;
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
