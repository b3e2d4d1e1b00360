import { ControlError, type ControlRequest } from './types.js';

/** GET /requests?limit=&before=&method=&errors=1 — the request log, newest first. */
export function listRequests(r: ControlRequest) {
  const q = r.url.searchParams;
  const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 100) || 100));
  const beforeRaw = q.get('before');
  const before = beforeRaw ? Number(beforeRaw) : undefined;
  if (before !== undefined && !Number.isInteger(before))
    throw new ControlError('before: expected an integer');
  const method = q.get('method')?.toLowerCase();
  const errorsOnly = q.get('errors') === '1' || q.get('errors') === 'true';
  // Filters apply before the limit, so a page is full whenever enough entries match.
  const entries = r.portal.log
    .list(Number.MAX_SAFE_INTEGER, before)
    .filter((e) => (!method || e.method === method) && (!errorsOnly || e.status !== 200))
    .slice(0, limit);
  return { requests: entries };
}

/** GET /requests/:id */
export function getRequest(r: ControlRequest) {
  const entry = r.portal.log.get(Number(r.id));
  if (!entry)
    throw new ControlError(`request ${r.id} not found (the log keeps the latest entries only)`, 404);
  return entry;
}
