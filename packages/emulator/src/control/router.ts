import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PortalDirectory } from '../hosting.js';
import type { Portal } from '../portal/portal.js';
import { readBody, sendJson } from '../wire/http.js';
import { streamEvents } from './events.js';
import {
  deleteNotification,
  getNotification,
  listNotifications,
  listUsers,
  patchNotification,
} from './notifications.js';
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
};

function match(path: string): { route: string; id?: string } | undefined {
  if (ROUTES[path]) return { route: path };
  const m = /^(\/[a-z]+)\/([^/]+)$/.exec(path);
  if (m && ROUTES[`${m[1]}/:id`]) return { route: `${m[1]}/:id`, id: decodeURIComponent(m[2] as string) };
  return undefined;
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
    const found = match(path);
    if (!found) throw new ControlError(`no such endpoint: ${path}`, 404);
    const handler = ROUTES[found.route]?.[req.method ?? 'GET'];
    if (!handler) throw new ControlError(`${req.method} not allowed on ${path}`, 405);
    const raw = await readBody(req, 1024 * 1024);
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ControlError('body: not valid JSON');
      }
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
    const status = err instanceof ControlError ? err.status : 500;
    const message = err instanceof ControlError ? err.message : 'internal error';
    sendJson(res, status, { error: message });
  }
}
