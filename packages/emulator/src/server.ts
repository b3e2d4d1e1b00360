import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { runBatch } from './batch.js';
import { CONTROL_PREFIX, handleControl } from './control/router.js';
import { isInboxPath, serveInbox } from './inbox.js';
import { type HostedPortal, PortalDirectory } from './hosting.js';
import { handleOAuth } from './oauth.js';
import type { Portal } from './portal/portal.js';
import { handleRest, serveRest } from './rest.js';
import type { TlsMaterial } from './tls.js';
import { installFastLane, type PlainHandler } from './wire/fast-lane.js';
import { sendJson } from './wire/http.js';
import { parseTarget } from './wire/target.js';

/** Options of the request router beyond the portal itself. */
export interface HandlerOptions {
  /** Where the built inbox page is; `dist/ui` of this package by default. */
  uiDir?: string;
}

/**
 * A request router for node:http, with `plainRest`, the entry of the fast lane for plain REST
 * calls on plain HTTP (`wire/fast-lane.ts`): the same routing, the same answers.
 */
export interface RequestRouter {
  (req: IncomingMessage, res: ServerResponse): void;
  plainRest: PlainHandler;
}

/**
 * The request router: REST, the OAuth server, the control API and the inbox page. A factory,
 * so tests and other programs mount it on a port of their choosing.
 */
export function createRequestHandler(
  portal: Portal,
  secure: boolean,
  baseUrl: () => string,
  options: HandlerOptions = {},
): RequestRouter {
  const hosted: HostedPortal = {
    portal,
    get url() {
      return baseUrl();
    },
  };
  return createHostingHandler(new PortalDirectory('port', [hosted]), hosted, secure, baseUrl, options);
}

/**
 * The request router of one listener of an emulator that may serve several portals: a request
 * goes to the portal its Host header names (Host addressing), else to `listener`, the portal
 * of this port; the control API also takes `?portal=NAME`. `listenerUrl` is this listener's own
 * base URL, for requests whose Host names no portal.
 */
export function createHostingHandler(
  directory: PortalDirectory,
  listener: HostedPortal,
  secure: boolean,
  listenerUrl: () => string,
  options: HandlerOptions = {},
): RequestRouter {
  // One bound batch runner per portal, made once: this runs on every request.
  const batches = new Map<Portal, ReturnType<typeof batchOf>>();
  const batchOf = (portal: Portal) => runBatch.bind(null, portal);
  for (const h of directory.hosted) batches.set(h.portal, batchOf(h.portal));
  const router = (req: IncomingMessage, res: ServerResponse): void => {
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400. Node's own check answers with an
    // empty body, so the server turns it off (`requireHostHeader`) and answers here in JSON.
    if (req.httpVersion === '1.1' && req.headers.host === undefined) {
      res.shouldKeepAlive = false;
      sendJson(res, 400, {
        error: 'INVALID_REQUEST',
        error_description: 'Missing Host header: HTTP/1.1 requests must name the host',
      });
      return;
    }
    const target = parseTarget(req.url ?? '/');
    if (!target) {
      sendJson(res, 400, { error: 'INVALID_REQUEST', error_description: 'Malformed request target' });
      return;
    }
    const named = directory.byHost(req.headers.host);
    const { portal } = named ?? listener;
    const path = target.pathname;
    let work: Promise<void>;
    if (path.startsWith('/rest/'))
      work = handleRest(portal, req, res, target, secure, batches.get(portal) ?? batchOf(portal));
    else if (path === '/oauth/token/' || path === '/oauth/token')
      work = handleOAuth(portal, req, res, fullUrl(req), named ? named.url : listenerUrl());
    else if (path === CONTROL_PREFIX || path.startsWith(`${CONTROL_PREFIX}/`)) {
      work = handleControl(portal, req, res, fullUrl(req), named ? named.url : listenerUrl(), directory);
    } else if (isInboxPath(path)) {
      work = serveInbox(req, res, path, options.uiDir);
    } else {
      sendJson(res, 404, { error: 'NOT_FOUND', error_description: `Nothing at ${path}` });
      return;
    }
    // The handlers answer every error themselves; this is the last line against a crash.
    work.catch(() => {
      if (!res.headersSent)
        sendJson(res, 500, { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' });
      else res.destroy();
    });
  };
  // The lane's requests are POSTs with a Host and a whole body; the rest of the checks above
  // hold for them by construction. A portal with chaos rules goes through node:http, where a
  // fault can stall, cut or drop an answer; so does a body over the portal's limit, for its 413.
  const plainRest: PlainHandler = (request, reply) => {
    const target = parseTarget(request.target);
    if (!target?.pathname.startsWith('/rest/')) return false;
    const { portal } = directory.byHost(request.host) ?? listener;
    if (portal.chaos.armed || request.body.length > portal.config.maxBodyBytes) return false;
    const head = {
      httpMethod: 'POST',
      url: request.target,
      target,
      contentType: request.contentType,
      cookie: request.cookie,
      remoteAddress: request.remoteAddress,
      secure,
    };
    serveRest(portal, head, request.body, batches.get(portal) ?? batchOf(portal), reply);
    return true;
  };
  return Object.assign(router, { plainRest });
}

/**
 * The request's URL for the handlers that read more than its path and query (the OAuth
 * server, the control API). `parseTarget` has already accepted the target, so this parses.
 */
function fullUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://localhost');
}

/** An HTTP or HTTPS server for the portal, not yet listening. */
export function createServer(
  portal: Portal,
  tls: TlsMaterial | undefined,
  baseUrl: () => string,
  options: HandlerOptions = {},
): Server {
  return listenerServer(tls, createRequestHandler(portal, tls !== undefined, baseUrl, options));
}

/**
 * An HTTP or HTTPS server around a request router, not yet listening. Plain HTTP has the fast
 * lane in front (`wire/fast-lane.ts`) unless `fastLane` is false (tests compare the two).
 */
export function listenerServer(
  tls: TlsMaterial | undefined,
  handler: RequestRouter | ((req: IncomingMessage, res: ServerResponse) => void),
  fastLane = true,
): Server {
  const server = tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert, requireHostHeader: false }, handler)
    : createHttpServer({ requireHostHeader: false }, handler);
  // Clients keep connections alive between calls; closing them sooner than a client expects
  // turns a reused socket into an ECONNRESET on the next call.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    // Even a request too broken to route gets an answer in Bitrix24's error shape.
    const body = JSON.stringify({
      error: 'INVALID_REQUEST',
      error_description: `Malformed HTTP request (${err.code ?? 'parse error'})`,
    });
    socket.end(
      'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\nconnection: close\r\n' +
        `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  });
  if (!tls && fastLane && 'plainRest' in handler) installFastLane(server, handler.plainRest);
  return server;
}
