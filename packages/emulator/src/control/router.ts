import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PortalDirectory } from '../hosting.js';
import type { Portal } from '../portal/portal.js';
import { RestError } from '../errors.js';
import { readBody, sendJson } from '../wire/http.js';
import { streamEvents } from './events.js';
import { guardBodyType, guardOrigin } from './guard.js';
import {
  deleteNotification,
  getNotification,
  listNotifications,
  listUsers,
  patchNotification,
} from './notifications.js';
import { waitNotification } from './search.js';
import { getExport } from './export.js';
import { getOpenApi } from './openapi.js';
import { listPortals } from './portals.js';
import { getRequest, listRequests } from './requests.js';
import {
  getChaos,
  getClock,
  getLimits,
  getPortal,
  postReset,
  postSession,
  postTokens,
  putChaos,
  putClock,
  putLimits,
  putPortal,
} from './settings.js';
import { ControlError, type ControlHandler } from './types.js';

/** The reserved prefix of the inspection and control API; no Bitrix24 path starts with it. */
export const CONTROL_PREFIX = '/_emulator/api';

const ROUTES: Record<string, Partial<Record<string, ControlHandler>>> = {
  '/notifications': { GET: listNotifications },
  '/notifications/wait': { GET: waitNotification },
  '/notifications/:id': { GET: getNotification, PATCH: patchNotification, DELETE: deleteNotification },
  '/users': { GET: listUsers },
  '/requests': { GET: listRequests },
  '/requests/:id': { GET: getRequest },
  '/clock': { GET: getClock, PUT: putClock },
  '/chaos': { GET: getChaos, PUT: putChaos },
  '/limits': { GET: getLimits, PUT: putLimits },
  '/portal': { GET: getPortal, PUT: putPortal },
  '/reset': { POST: postReset },
  '/tokens': { POST: postTokens },
  '/sessions': { POST: postSession },
  '/events': { GET: streamEvents },
  '/portals': { GET: listPortals },
  '/export': { GET: getExport },
  '/openapi.json': { GET: getOpenApi },
};

/** Every route and its methods, `:id` for a path parameter: the contract test checks `openapi.json` against it. */
export function controlRoutes(): { path: string; methods: string[] }[] {
  return Object.entries(ROUTES).map(([path, handlers]) => ({ path, methods: Object.keys(handlers) }));
}

/** Largest control-API body; settings and chaos rules are small. */
const MAX_CONTROL_BODY = 1024 * 1024;

function match(path: string): { route: string; id?: string } | undefined {
  if (Object.hasOwn(ROUTES, path)) return { route: path };
  const m = /^(\/[a-z]+)\/([^/]+)$/.exec(path);
  if (!m || !Object.hasOwn(ROUTES, `${m[1]}/:id`)) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(m[2] as string);
  } catch {
    throw new ControlError('id: a percent sign must be followed by two hex digits of UTF-8');
  }
  return { route: `${m[1]}/:id`, id };
}

/**
 * No control setting is named like a prototype member, and handlers look names up in plain
 * objects, so a body holding one (`__proto__`, `toString`…) at any depth is refused as a whole.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set([
  'prototype',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

function refuseReservedKeys(body: unknown): void {
  const stack: [unknown, string][] = [[body, 'body']];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, where] = item;
    if (value === null || typeof value !== 'object') continue;
    for (const [key, child] of Object.entries(value)) {
      const path = Array.isArray(value) ? `${where}[${key}]` : `${where}.${key}`;
      if (!Array.isArray(value) && RESERVED_KEYS.has(key)) {
        throw new ControlError(`${path}: "${key}" is not a setting of any control endpoint`);
      }
      stack.push([child, path]);
    }
  }
}

/**
 * Handle a request under CONTROL_PREFIX. Bodies are JSON; answers are JSON (or an event stream).
 * A route acts on `portal`, the one the request came in on, unless `?portal=NAME` names another
 * of the `directory`.
 */
export async function handleControl(
  portal: Portal,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  baseUrl: string,
  directory?: PortalDirectory,
): Promise<void> {
  try {
    const named = url.searchParams.get('portal');
    if (named !== null) {
      const hosted = directory?.byName(named);
      if (!hosted) {
        const known = directory?.hosted.map((h) => `"${h.portal.config.name}"`).join(', ') ?? '';
        throw new ControlError(`portal: no portal named "${named}" (there are ${known})`, 404);
      }
      portal = hosted.portal;
      baseUrl = hosted.url;
    }
    const path = url.pathname.slice(CONTROL_PREFIX.length).replace(/\/$/, '') || '/';
    // Before anything else: a foreign page learns nothing, not even which endpoints exist.
    guardOrigin(req, [portal.config.domain]);
    const found = match(path);
    if (!found) throw new ControlError(`no such endpoint: ${path}`, 404);
    const routes = ROUTES[found.route] ?? {};
    const verb = req.method ?? 'GET';
    const handler = Object.hasOwn(routes, verb) ? routes[verb] : undefined;
    if (!handler) throw new ControlError(`${verb} not allowed on ${path}`, 405);
    let raw: Buffer;
    try {
      raw = await readBody(req, MAX_CONTROL_BODY);
    } catch (err) {
      if (err instanceof RestError && err.status === 413) {
        throw new ControlError(`body: over ${MAX_CONTROL_BODY} bytes`, 413);
      }
      throw err;
    }
    guardBodyType(req, raw);
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ControlError('body: not valid JSON');
      }
      refuseReservedKeys(body);
    }
    const value = handler({
      portal,
      req,
      res,
      url,
      body,
      baseUrl,
      ...(directory ? { directory } : {}),
      ...(found.id ? { id: found.id } : {}),
    });
    if (value !== undefined) sendJson(res, 200, value);
  } catch (err) {
    if (err instanceof ControlError) {
      sendJson(res, err.status, { error: err.code, error_description: err.message });
    } else {
      sendJson(res, 500, { error: 'INTERNAL_ERROR', error_description: 'internal error' });
    }
  }
}
