import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Fault } from './chaos.js';
import { isSystemErrorCode, RestError } from './errors.js';
import { METHODS } from './methods/index.js';
import { Paged, type MethodContext } from './methods/types.js';
import { str } from './methods/params.js';
import type { Caller, Portal } from './portal/portal.js';
import { parseBody, parseQuery, type Params } from './wire/body.js';
import { errorBody, jsonHeaders, readBody, sendJson } from './wire/http.js';
import type { Reply } from './wire/fast-lane.js';
import type { RequestTarget } from './wire/target.js';
import { timeBlock, type PlainTimeBlock, type TimeBlock } from './wire/time.js';

/** Where a REST path points: a webhook call or an OAuth/session call, and the method. */
export interface RestRoute {
  method: string;
  webhook?: { userId: number; code: string };
  /** `json` unless the path ends in `.xml`. */
  format: 'json' | 'xml';
  /** The path as the request log shows it: the webhook code masked. */
  logPath: string;
  /** The method as the request log shows it: masked too when it holds a `/` (from `%2F`). */
  logMethod: string;
}

/**
 * One path segment, percent-decoded. A `%` not followed by two hex digits (or escapes that are
 * not UTF-8) is a 400 `ERROR_ARGUMENT`: the docs do not cover such a path, and this is the
 * answer the emulator gives any malformed input (see `wire/body.ts`). The message does not
 * quote the segment, which may be a webhook code.
 */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RestError(
      'ERROR_ARGUMENT',
      'Malformed request path: a percent sign must be followed by two hex digits of UTF-8',
      400,
    );
  }
}

/**
 * Parse `/rest/{user}/{code}/{method}` or `/rest/{method}`, with an optional `.json`/`.xml` suffix.
 * Throws a RestError for a segment that cannot be percent-decoded.
 */
export function parseRestPath(pathname: string): RestRoute | undefined {
  const parts = pathname.split('/').filter((p) => p !== '');
  if (parts[0] !== 'rest') return undefined;
  let raw: string | undefined;
  let webhook: RestRoute['webhook'];
  if (parts.length === 2) raw = parts[1];
  else if (parts.length === 4) {
    const userId = Number(parts[1]);
    if (!Number.isInteger(userId)) return undefined;
    webhook = { userId, code: decodeSegment(parts[2] as string) };
    raw = parts[3];
  } else return undefined;
  if (!raw) return undefined;
  let method = decodeSegment(raw).toLowerCase();
  let format: RestRoute['format'] = 'json';
  if (method.endsWith('.json')) method = method.slice(0, -5);
  else if (method.endsWith('.xml')) {
    method = method.slice(0, -4);
    format = 'xml';
  }
  return {
    method,
    format,
    ...(webhook ? { webhook } : {}),
    logPath: webhook ? `/rest/${webhook.userId}/***/${method}` : maskWebhookCode(pathname),
    // A method with a `/` came from `%2F` in the path, and may hold a webhook code.
    logMethod: method.includes('/') ? maskWebhookCode(pathname) : method,
  };
}

/** Routes of paths seen lately, or null for a path that is no REST route. */
const routes = new Map<string, RestRoute | null>();

/** Paths {@link routeOf} remembers; past this it starts afresh, so odd paths cannot grow it. */
const ROUTES_KEPT = 1000;

/**
 * {@link parseRestPath}, remembered: a client calls the same few URLs again and again, and
 * this runs on every REST request (see `bench/emulator.mjs`). A path's route depends on
 * nothing else, so one table serves every portal; routes are shared and never changed.
 */
function routeOf(pathname: string): RestRoute | undefined {
  const known = routes.get(pathname);
  if (known !== undefined) return known ?? undefined;
  const route = parseRestPath(pathname);
  if (routes.size >= ROUTES_KEPT) routes.clear();
  routes.set(pathname, route ?? null);
  return route;
}

/** The answer of one method call, before it is wrapped for HTTP or for a batch. */
export interface CallOutcome {
  result: unknown;
  total?: number;
  next?: number;
  time: TimeBlock | PlainTimeBlock;
}

/** Whether the caller's scopes grant a method's: its one scope, or any one of its list. */
function holdsScope(scopes: readonly string[], needed: string | readonly string[]): boolean {
  return typeof needed === 'string' ? scopes.includes(needed) : needed.some((s) => scopes.includes(s));
}

/**
 * Run one method for an authenticated caller: scope, operating budget, the handler, and the
 * time block. Shared by plain calls and batch sub-calls, which the portal treats alike.
 */
export function executeCall(
  portal: Portal,
  caller: Caller,
  method: string,
  params: Params,
  ctx: Omit<MethodContext, 'portal' | 'caller' | 'now'>,
  /** False when the call's time is charged elsewhere (a batch under `batchOperating: batch`). */
  charge = true,
): CallOutcome {
  const startMs = portal.clock.now();
  const def = METHODS.get(method);
  if (!def) throw portal.error('ERROR_METHOD_NOT_FOUND');
  if (ctx.inBatch && def.batch === false) throw portal.error('ERROR_BATCH_METHOD_NOT_ALLOWED');
  // A session acts with the user's full rights: scopes limit only webhooks and apps.
  if (def.scope && caller.kind !== 'session' && !holdsScope(caller.scopes, def.scope)) {
    const err = portal.error('insufficient_scope');
    // Inside a batch the portal leaves the description empty; for apps it names the access token.
    if (ctx.inBatch) throw new RestError(err.code, '', err.status);
    if (caller.kind === 'oauth') {
      throw new RestError(err.code, err.description.replace('webhook token', 'access token'), err.status);
    }
    throw err;
  }
  const budget = charge ? portal.operating : undefined;
  if (budget) {
    const check = budget.check(caller.budgetKey, method);
    if (!check.ok) throw portal.error('OPERATION_TIME_LIMIT');
  }
  // A literal of fixed shape, not a spread of `ctx`: this runs on every call.
  const context: MethodContext = {
    portal,
    caller,
    now: startMs,
    requestId: ctx.requestId,
    created: ctx.created,
    inBatch: ctx.inBatch,
  };
  const value = def.handler(params, context);
  const processing = portal.config.processingSeconds[method] ?? portal.config.processingSeconds['*'] ?? 0;
  budget?.record(caller.budgetKey, method, processing);
  const status = budget?.status(caller.budgetKey, method) ?? {
    operating: 0,
    resetAt: Math.floor(startMs / 1000) + 600,
  };
  const time = timeBlock({
    startMs,
    endMs: portal.clock.now(),
    processing,
    tz: portal.config.timezone,
    operating: status.operating,
    operatingResetAt: status.resetAt,
  });
  if (value instanceof Paged) {
    return {
      result: value.result,
      total: value.total,
      ...(value.next !== undefined ? { next: value.next } : {}),
      time,
    };
  }
  return { result: value, time };
}

/**
 * A REST path with its third segment masked: a path that did not parse may still be a webhook
 * URL with a mistake after the code (`/rest/1/CODE/method/extra`), and the log must not show
 * the code.
 */
function maskWebhookCode(pathname: string): string {
  return pathname.replace(/^(\/+rest\/+[^/]+\/+)[^/]+/, '$1***');
}

/**
 * A webhook URL that names no active webhook. The system table says NO_AUTH_FOUND ("invalid
 * webhook code"); every method page of both repositories that shows an auth failure shows 401
 * INVALID_CREDENTIALS "Invalid request credentials" (e.g. `api-reference/chats/notifications/
 * im-notify-read.md`), as live portals answer: that is `current`, the table's reading `legacy`.
 */
function wrongWebhook(portal: Portal): RestError {
  if (portal.config.errorTable === 'legacy') return portal.error('NO_AUTH_FOUND');
  const info = portal.error('INVALID_CREDENTIALS');
  return new RestError(info.code, info.description, 401);
}

/** Credentials found in a request, before they are checked. */
function authenticate(portal: Portal, route: RestRoute, params: Params, cookie: string | undefined): Caller {
  if (route.webhook) {
    const hook = portal.findWebhook(route.webhook.userId, route.webhook.code);
    // An expired webhook is no longer "active": the docs give no other code for it.
    if (!hook || (hook.expiresAt !== undefined && hook.expiresAt * 1000 <= portal.clock.now())) {
      throw wrongWebhook(portal);
    }
    // The table's INVALID_CREDENTIALS 403: the user behind the webhook lacks the rights.
    const owner = portal.user(hook.userId);
    if (!owner || owner.ACTIVE === false) throw portal.error('INVALID_CREDENTIALS');
    return {
      kind: 'webhook',
      userId: hook.userId,
      scopes: hook.scopes,
      budgetKey: portal.webhookKey(hook),
      clientId: null,
    };
  }
  const auth = str(params.auth);
  if (auth) {
    const tokens = portal.store.byAccessToken(auth);
    // The system table: "invalid access token or webhook code" is NO_AUTH_FOUND.
    if (!tokens) throw portal.error('NO_AUTH_FOUND');
    if (tokens.accessExpiresAt <= portal.clock.now()) throw portal.error('expired_token');
    const app = portal.app(tokens.clientId);
    if (!app) throw portal.error('NO_AUTH_FOUND');
    if (app.allowedUsers && !app.allowedUsers.includes(tokens.userId)) {
      throw portal.error('user_access_error');
    }
    const user = portal.user(tokens.userId);
    if (!user || user.ACTIVE === false) throw portal.error('INVALID_CREDENTIALS');
    return {
      kind: 'oauth',
      userId: tokens.userId,
      scopes: tokens.scope,
      budgetKey: `app:${tokens.clientId}`,
      clientId: tokens.clientId,
    };
  }
  const session = sessionUser(portal, params, cookie);
  if (session !== undefined) {
    return {
      kind: 'session',
      userId: session,
      scopes: [],
      budgetKey: `session:${session}`,
      clientId: null,
    };
  }
  throw portal.error('NO_AUTH_FOUND');
}

/** Cookie auth as the portal's own pages use it: a PHPSESSID cookie plus the matching `sessid`. */
function sessionUser(portal: Portal, params: Params, cookie: string | undefined): number | undefined {
  const sessid = str(params.sessid);
  if (!sessid || !cookie) return undefined;
  const m = /(?:^|;\s*)PHPSESSID=([^;]+)/.exec(cookie);
  if (!m || m[1] !== sessid) return undefined;
  return portal.sessions.get(sessid);
}

/** Merge query and body like PHP's `$_REQUEST`: body values win. */
function requestParams(search: string, contentType: string | undefined, body: Buffer): Params {
  if (search.length <= 1) return parseBody(contentType, body);
  const query = parseQuery(search.slice(1));
  if (body.length === 0) return query;
  return { ...query, ...parseBody(contentType, body) };
}

/** Shape of a successful answer; the common one is built as one literal, on the hot path. */
function successBody(outcome: CallOutcome): Record<string, unknown> {
  if (outcome.total === undefined && outcome.next === undefined)
    return { result: outcome.result, time: outcome.time };
  const body: Record<string, unknown> = { result: outcome.result };
  if (outcome.total !== undefined) body.total = outcome.total;
  if (outcome.next !== undefined) body.next = outcome.next;
  body.time = outcome.time;
  return body;
}

/**
 * Drop the connection without an answer. A TCP reset where the socket allows it; a TLS socket
 * has no TCP handle of its own (`resetAndDestroy` throws on it), so it is destroyed, which the
 * client sees as the same ECONNRESET.
 */
function resetConnection(socket: Socket | null): void {
  if (!socket) return;
  if (socket instanceof TLSSocket) socket.destroy();
  else socket.resetAndDestroy();
}

/** Apply a fault picked by the chaos setting; returns true when the connection is gone. */
async function applyFault(portal: Portal, fault: Fault, res: ServerResponse): Promise<boolean> {
  switch (fault.type) {
    case 'delay':
      await sleep(fault.ms);
      return false;
    case 'reset':
      resetConnection(res.socket);
      return true;
    case 'error': {
      const info = isSystemErrorCode(fault.code) ? portal.error(fault.code) : undefined;
      throw info ?? new RestError(fault.code, 'Injected fault', fault.status ?? 500);
    }
    case 'truncate':
      return false;
  }
}

/**
 * What a cloud portal answers a request it cut at its time limit (`limits.md`: "a request
 * running longer than 60 s is interrupted by timeout"). The docs do not show the answer; a live
 * run of large batches failed with a gateway timeout from the front end, not a JSON error
 * (leshchenko1979/fast_bitrix24#85), so this is a 504 with nginx's default page: HTML, not
 * JSON, which is what a client must survive. The page itself is a choice.
 */
export const GATEWAY_TIMEOUT_HTML =
  '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n' +
  '<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

const GATEWAY_TIMEOUT_HEADERS = [
  'content-type',
  'text/html',
  'content-length',
  String(Buffer.byteLength(GATEWAY_TIMEOUT_HTML)),
];

function sendGatewayTimeout(res: ServerResponse): number {
  if (res.destroyed) return 0;
  res.writeHead(504, GATEWAY_TIMEOUT_HEADERS);
  res.end(GATEWAY_TIMEOUT_HTML);
  return Buffer.byteLength(GATEWAY_TIMEOUT_HTML);
}

/** Write half of the answer with the full length announced, then drop the connection. */
function sendTruncated(res: ServerResponse, status: number, body: unknown): Buffer {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': text.length });
  res.write(text.subarray(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
  return text;
}

/**
 * What the REST handler reads of a request besides its body. node:http's request gives it
 * (`handleRest`), and so does the plain-REST fast lane (`wire/fast-lane.ts`), which parses
 * simple requests itself.
 */
export interface RestRequestHead {
  /** `POST`, `GET`… */
  httpMethod: string;
  /** The request target as sent. */
  url: string;
  target: RequestTarget;
  contentType: string | undefined;
  cookie: string | undefined;
  remoteAddress: string | undefined;
  /** Whether it came over HTTPS. */
  secure: boolean;
}

/** Runs a `batch` call for a portal: bound once per portal by the router. */
export type BatchRunner = (
  caller: Caller,
  params: Params,
  requestId: number,
  created: number[],
) => CallOutcome;

/**
 * One REST exchange as it goes: what is known of the call, its answer and what the request log
 * keeps. One object of fixed shape, created by {@link beginRest}; this runs on every request.
 */
export interface RestExchange {
  started: number;
  at: number;
  requestId: number | undefined;
  requestBytes: number;
  route: RestRoute | undefined;
  pathError: unknown;
  created: number[];
  params: Params;
  status: number;
  answer: unknown;
  fault: Fault | undefined;
  /** The call ran past the request time limit: the answer is the gateway's 504 page. */
  cut: boolean;
  transport: 'webhook' | 'oauth' | 'session' | 'none';
}

/** Start an exchange: the clock, the route of the path. */
export function beginRest(portal: Portal, head: RestRequestHead): RestExchange {
  const x: RestExchange = {
    started: performance.now(),
    at: portal.clock.now(),
    // Taken after the last `await`, so ids follow the order entries reach the log (RequestLog).
    requestId: undefined,
    requestBytes: head.url.length,
    route: undefined,
    pathError: undefined,
    created: [],
    params: {},
    status: 200,
    answer: undefined,
    fault: undefined,
    cut: false,
    transport: 'none',
  };
  try {
    x.route = routeOf(head.target.pathname);
  } catch (err) {
    x.pathError = err;
  }
  if (x.route?.webhook) x.transport = 'webhook';
  return x;
}

/**
 * Everything before the method runs, given the whole body: parameters, the portal's state, the
 * request bucket and the caller's credentials. Throws a RestError to refuse the call.
 */
export function admitRest(portal: Portal, x: RestExchange, head: RestRequestHead, body: Buffer): Caller {
  x.requestBytes += body.length;
  if (x.pathError) throw x.pathError;
  const route = x.route;
  if (!route) throw portal.error('ERROR_METHOD_NOT_FOUND');
  x.params = requestParams(head.target.search, head.contentType, body);
  if (route.format === 'xml') {
    throw new RestError('INVALID_REQUEST', 'The emulator answers JSON only: drop the .xml suffix', 400);
  }
  if (portal.config.requireHttps && !head.secure) throw portal.error('INVALID_REQUEST');
  if (portal.config.state === 'deleted') throw portal.error('PORTAL_DELETED');
  if (portal.config.state === 'overloaded') throw portal.error('OVERLOAD_LIMIT');
  if (portal.config.state === 'free-plan') throw portal.error('ACCESS_DENIED');
  // Every HTTP request fills the bucket, a batch as one, failed auth included.
  if (portal.bucket && !portal.bucket.take(`portal:${head.remoteAddress ?? ''}`).ok) {
    throw portal.error('QUERY_LIMIT_EXCEEDED');
  }
  const caller = authenticate(portal, route, x.params, head.cookie);
  x.transport = caller.kind;
  return caller;
}

/** Run the admitted call (a method or a `batch`) and keep its answer in the exchange. */
export function runRest(portal: Portal, x: RestExchange, caller: Caller, runBatch: BatchRunner): void {
  const route = x.route as RestRoute;
  x.requestId = portal.log.nextId();
  const outcome =
    route.method === 'batch'
      ? runBatch(caller, x.params, x.requestId, x.created)
      : executeCall(portal, caller, route.method, x.params, {
          requestId: x.requestId,
          created: x.created,
          inBatch: false,
        });
  x.answer = successBody(outcome);
  // Modelled time: what the call (or every command the batch ran) is charged. A chaos delay
  // stands for the network, not the portal's work, so it does not count.
  x.cut = outcome.time.processing > portal.config.requestTimeLimitSeconds;
  if (x.cut) x.status = 504;
}

/** Keep a refusal as the exchange's answer: a RestError as it is, anything else as a 500. */
export function failRest(portal: Portal, x: RestExchange, err: unknown): void {
  const restError = err instanceof RestError ? err : portal.error('INTERNAL_SERVER_ERROR');
  x.status = restError.status;
  x.answer = errorBody(restError);
}

/** Write the exchange to the request log (and to the portal's `request` listeners). */
export function logRest(portal: Portal, x: RestExchange, head: RestRequestHead, responseBytes: number): void {
  const { route, answer, fault } = x;
  const entry = {
    id: x.requestId ?? portal.log.nextId(),
    at: x.at,
    httpMethod: head.httpMethod,
    path: route ? route.logPath : maskWebhookCode(head.target.pathname),
    method: route ? route.logMethod : maskWebhookCode(head.target.pathname),
    transport: x.transport,
    // Masked when read (see RequestLog): this runs on every request.
    params: x.params,
    status: answer === undefined ? 0 : x.status,
    // One shape for every entry, absent fields undefined (JSON leaves them out): spreads of
    // optional parts would copy the object on every request.
    response: answer,
    error: x.cut
      ? 'GATEWAY_TIMEOUT'
      : answer && typeof answer === 'object' && 'error' in answer
        ? String(answer.error)
        : undefined,
    fault: fault ? (fault.type === 'error' ? `error ${fault.code}` : fault.type) : undefined,
    durationMs: performance.now() - x.started,
    notificationIds: x.created,
  };
  const stored = portal.log.add(entry, { requestBytes: x.requestBytes, responseBytes });
  if (portal.listenerCount('request') > 0) portal.emit('request', portal.log.show(stored));
}

/** Handle one HTTP request under `/rest/`, as node:http parsed it. */
export async function handleRest(
  portal: Portal,
  req: IncomingMessage,
  res: ServerResponse,
  target: RequestTarget,
  secure: boolean,
  runBatch: BatchRunner,
): Promise<void> {
  const head: RestRequestHead = {
    httpMethod: req.method ?? 'GET',
    url: req.url ?? '',
    target,
    contentType: req.headers['content-type'],
    cookie: req.headers.cookie,
    remoteAddress: req.socket.remoteAddress,
    secure,
  };
  const x = beginRest(portal, head);
  let responseBytes = 0;
  let dropped = false;
  try {
    const body = await readBody(req, portal.config.maxBodyBytes);
    const caller = admitRest(portal, x, head, body);
    x.fault = portal.chaos.pick((x.route as RestRoute).method);
    // `res.destroyed` stays false for a while after the socket goes, so remember it here.
    dropped = x.fault !== undefined && (await applyFault(portal, x.fault, res));
    if (dropped) return;
    runRest(portal, x, caller, runBatch);
  } catch (err) {
    failRest(portal, x, err);
  } finally {
    if (!dropped && !res.destroyed) {
      if (x.cut) responseBytes = sendGatewayTimeout(res);
      else if (x.fault?.type === 'truncate') responseBytes = sendTruncated(res, x.status, x.answer).length;
      else responseBytes = sendJson(res, x.status, x.answer).length;
    }
    logRest(portal, x, head, responseBytes);
  }
}

/**
 * Handle a REST request the fast lane parsed whole (`wire/fast-lane.ts`), at once: the same
 * steps and answers as {@link handleRest}, written through `reply`. The lane hands a request
 * here only when the portal has no chaos rules, so no fault can apply.
 */
export function serveRest(
  portal: Portal,
  head: RestRequestHead,
  body: Buffer,
  runBatch: BatchRunner,
  reply: Reply,
): void {
  const x = beginRest(portal, head);
  try {
    runRest(portal, x, admitRest(portal, x, head, body), runBatch);
  } catch (err) {
    failRest(portal, x, err);
  }
  let responseBytes: number;
  if (x.cut) {
    reply(504, GATEWAY_TIMEOUT_HEADERS, GATEWAY_TIMEOUT_HTML);
    responseBytes = Buffer.byteLength(GATEWAY_TIMEOUT_HTML);
  } else {
    const text = JSON.stringify(x.answer);
    reply(x.status, jsonHeaders(text), text);
    responseBytes = text.length;
  }
  logRest(portal, x, head, responseBytes);
}
