/**
 * The emulator's public inspection API, as the page calls it: the same JSON under
 * `/_emulator/api` that tests and scripts use, plus the one event stream. Nothing here is
 * private to the page, so whatever it can do, a script can do too.
 */

import type { LimitSettings, LimitsRequest } from './limits-form.js';
import type { PortalChanges, PortalSettings } from './portal-form.js';

/** The reserved prefix of the control API (`CONTROL_PREFIX` on the server). */
export const API = '/_emulator/api';

/** A user in the side list, with counts. */
export interface UserSummary {
  id: number;
  name: string;
  email: string;
  workPosition: string;
  active: boolean;
  total: number;
  unread: number;
}

/** One request log entry (`RequestLogEntry` on the server). */
export interface RequestEntry {
  id: number;
  at: number;
  httpMethod: string;
  path: string;
  method: string;
  transport: string;
  params: unknown;
  status: number;
  response?: unknown;
  error?: string;
  fault?: string;
  durationMs: number;
  notificationIds: number[];
  /** Params or the answer were too large to keep whole: they hold a marked preview. */
  truncated?: true;
}

/** A stored notification (`StoredNotification` plus the author's name). */
export interface Notification {
  id: number;
  userId: number;
  authorId: number;
  type: 'personal' | 'system';
  message: string;
  messageOut: string;
  tag: string | null;
  subTag: string | null;
  appKey: string;
  clientId: string | null;
  /** The stored attachment; read as unknown, since the renderer checks every field itself. */
  attach: unknown;
  read: boolean;
  createdAt: number;
  requestId: number | null;
  answers: { kind: string; text: string; at: number }[];
  authorName: string | null;
}

/** A notification with the request that created it (secrets masked). */
export interface NotificationDetail extends Notification {
  request: RequestEntry | null;
}

/** The portal's clock. */
export interface ClockState {
  now: number;
  offsetMs: number;
}

/** One portal of the emulator (`GET /portals`). */
export interface PortalSummary {
  name: string;
  domain: string;
  url: string;
  notifications: number;
  current: boolean;
}

/**
 * The portal the page shows, from its own address (`/?portal=b`): every call and the event
 * stream carry it, so one page, served by any portal, shows any of them. Absent: the portal
 * that served the page.
 */
export const PORTAL = new URLSearchParams(location.search).get('portal') ?? undefined;

/** `path` with `?portal=` added when the page shows a chosen portal. */
function addressed(path: string): string {
  if (PORTAL === undefined) return path;
  return `${path}${path.includes('?') ? '&' : '?'}portal=${encodeURIComponent(PORTAL)}`;
}

/** A failed control call, with the API's own message. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${API}${addressed(path)}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    cache: 'no-store',
  });
  const data: unknown = await res.json().catch(() => ({}));
  if (!res.ok) {
    // Control-API errors are `{error: CODE, error_description: message}`; the message is for people.
    const err =
      data && typeof data === 'object' && 'error_description' in data
        ? String(data.error_description)
        : res.statusText;
    throw new ApiError(`${method} ${path}: ${err}`, res.status);
  }
  return data as T;
}

/** Filters of the notification list, as `GET /notifications` takes them. */
export interface NotificationQuery {
  user: number;
  /** The search box's query in the filter language (`src/search.ts`). */
  q?: string;
  unread?: boolean;
  before?: number;
  limit?: number;
}

function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === '' || value === false) continue;
    q.set(key, value === true ? '1' : String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** The calls the page makes. */
export const api = {
  portals: () => call<{ addressing: string; portals: PortalSummary[] }>('GET', '/portals'),
  users: () => call<{ users: UserSummary[] }>('GET', '/users'),
  notifications: (q: NotificationQuery) =>
    call<{ total: number; notifications: Notification[] }>(
      'GET',
      `/notifications${query({ user: q.user, q: q.q, unread: q.unread, before: q.before, limit: q.limit })}`,
    ),
  notification: (id: number) => call<NotificationDetail>('GET', `/notifications/${id}`),
  setRead: (id: number, read: boolean) => call<Notification>('PATCH', `/notifications/${id}`, { read }),
  remove: (id: number) => call<{ deleted: number }>('DELETE', `/notifications/${id}`),
  requests: (q: { method?: string; errors?: boolean; limit?: number }) =>
    call<{ requests: RequestEntry[] }>('GET', `/requests${query(q)}`),
  chaos: () => call<unknown>('GET', '/chaos'),
  setChaos: (settings: unknown) => call<unknown>('PUT', '/chaos', settings),
  clock: () => call<ClockState>('GET', '/clock'),
  advanceClock: (advanceMs: number) => call<ClockState>('PUT', '/clock', { advanceMs }),
  setClockOffset: (offsetMs: number) => call<ClockState>('PUT', '/clock', { offsetMs }),
  reset: () => call<{ reset: boolean }>('POST', '/reset'),
  limits: () => call<LimitSettings>('GET', '/limits'),
  setLimits: (body: LimitsRequest) => call<LimitSettings>('PUT', '/limits', body),
  portal: () => call<PortalSettings>('GET', '/portal'),
  setPortal: (changes: PortalChanges) => call<PortalSettings>('PUT', '/portal', changes),
};

/** What the event stream delivers, by event name. */
export interface StreamEvents {
  notification: Notification;
  'notification-updated': Notification;
  'notification-deleted': { id: number; userId: number };
  request: RequestEntry;
  reset: Record<string, never>;
}

/** Handlers for the event stream: one per event, and the connection's ups and downs. */
export interface StreamHandlers {
  events: { [K in keyof StreamEvents]: (data: StreamEvents[K]) => void };
  /** On every (re)connect; `first` is false after a reconnect. */
  connected(first: boolean): void;
  disconnected(): void;
}

/**
 * Listen to `GET /events`. EventSource reconnects by itself; after a reconnect the page
 * reloads what it shows, since events sent while it was away are lost.
 */
export function listen(handlers: StreamHandlers): EventSource {
  const source = new EventSource(`${API}${addressed('/events')}`);
  let first = true;
  source.addEventListener('open', () => {
    handlers.connected(first);
    first = false;
  });
  source.addEventListener('error', () => handlers.disconnected());
  for (const name of Object.keys(handlers.events) as (keyof StreamEvents)[]) {
    // The server is the page's own, so its payloads have these shapes; the renderers still
    // check every field they show.
    const handle = handlers.events[name] as (data: unknown) => void;
    source.addEventListener(name, (event) => {
      let data: unknown;
      try {
        data = JSON.parse((event as MessageEvent<string>).data);
      } catch {
        return;
      }
      if (data !== null && typeof data === 'object') handle(data);
    });
  }
  return source;
}
