import type { RequestLogEntry } from '../portal/request-log.js';
import type { StoredNotification } from '../portal/records.js';
import { notificationJson } from './notifications.js';
import type { ControlRequest } from './types.js';

/**
 * GET /events — a server-sent event stream of what happens on the portal: `notification`,
 * `notification-updated`, `notification-deleted`, `request` and `reset`. The inbox page
 * listens here; so can a test. Each event's data carries `portal`, the portal's name.
 */
export function streamEvents(r: ControlRequest): undefined {
  const { portal, res, req } = r;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  res.write(': connected\n\n');
  // Every event names its portal, so a client of a many-portal emulator can tell them apart.
  const name = portal.config.name;
  const send = (event: string, data: object): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify({ ...data, portal: name })}\n\n`);
  };
  const onNotification = (n: StoredNotification): void => send('notification', notificationJson(r, n));
  const onUpdated = (n: StoredNotification): void => send('notification-updated', notificationJson(r, n));
  const onDeleted = (n: StoredNotification): void =>
    send('notification-deleted', { id: n.id, userId: n.userId });
  const onRequest = (e: RequestLogEntry): void => send('request', e);
  const onReset = (): void => send('reset', {});
  portal.on('notification', onNotification);
  portal.on('notification-updated', onUpdated);
  portal.on('notification-deleted', onDeleted);
  portal.on('request', onRequest);
  portal.on('reset', onReset);
  // Proxies drop idle streams; a comment every 15 s keeps this one open.
  const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
  ping.unref();
  req.on('close', () => {
    clearInterval(ping);
    portal.off('notification', onNotification);
    portal.off('notification-updated', onUpdated);
    portal.off('notification-deleted', onDeleted);
    portal.off('request', onRequest);
    portal.off('reset', onReset);
  });
  return undefined;
}
