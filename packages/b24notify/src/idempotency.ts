/** Methods whose repetition cannot duplicate an effect: reads, read-state changes, deletes. */
const IDEMPOTENT = new Set([
  'im.notify.read',
  'im.notify.read.list',
  'im.notify.read.all',
  'im.notify.get',
  'im.notify.history.search',
  'im.notify.schema.get',
  'im.notify.delete',
  'profile',
  'server.time',
  'user.get',
  'user.current',
]);

const SEND_METHODS = new Set(['im.notify', 'im.notify.personal.add', 'im.notify.system.add']);

/**
 * Whether a call can be repeated safely. A notification with a TAG replaces its earlier copy
 * on the portal instead of adding another, so a tagged send is idempotent; an untagged one is
 * not. Unknown methods are assumed not to be.
 */
export function isIdempotent(method: string, params: Record<string, unknown>): boolean {
  const m = method.toLowerCase();
  if (SEND_METHODS.has(m)) {
    const tag = params.TAG;
    return (typeof tag === 'string' && tag.trim() !== '') || typeof tag === 'number';
  }
  return IDEMPOTENT.has(m);
}
