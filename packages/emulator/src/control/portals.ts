import type { ControlRequest } from './types.js';

/**
 * GET /portals — every portal this emulator serves, in the order configured: name, domain, base
 * URL (webhook codes masked, as everywhere in this API), how many notifications it holds, and
 * which one this request addressed (`current`).
 */
export function listPortals(r: ControlRequest) {
  const hosted = r.directory?.hosted ?? [{ portal: r.portal, url: r.baseUrl }];
  return {
    addressing: r.directory?.addressing ?? 'port',
    portals: hosted.map(({ portal, url }) => ({
      name: portal.config.name,
      domain: portal.config.domain,
      url,
      webhooks: portal.config.webhooks.map((w) => `${url}/rest/${w.userId}/***/`),
      notifications: portal.store.size,
      current: portal === r.portal,
    })),
  };
}
