/** Keys: what deduplicates an add, and the TAG it becomes on the portal. */
import { createHash, randomUUID } from 'node:crypto';
import { B24ValidationError } from 'b24notify';

/** The longest key accepted. */
const MAX_KEY = 200;

/**
 * A TAG the queue uses as it is. The docs set no format or length for TAG
 * (bitrix24/b24restdocs api-reference/chats/notifications/im-notify-system-add.md: "Notification
 * tag, unique within the system"); the queue keeps to plain ASCII of a modest length so that no
 * portal truncates or rewrites it, and hashes anything else.
 */
const PLAIN_TAG = /^[A-Za-z0-9][A-Za-z0-9_.:|-]{0,99}$/;

/** The key of a notification: the caller's (checked), or a fresh random one. */
export function checkKey(key: unknown, field = 'key'): string {
  if (key === undefined) return randomUUID();
  if (typeof key !== 'string' || key === '' || key.length > MAX_KEY) {
    throw new B24ValidationError(field, `expected a non-empty string of at most ${MAX_KEY} characters`);
  }
  return key;
}

/** The TAG for `key`: the key itself when it is a plain one, else `b24q-` and a hash of it. */
export function tagForKey(key: string): string {
  if (PLAIN_TAG.test(key)) return key;
  return `b24q-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 40)}`;
}

/** Portal ids name Redis keys and BullMQ job ids: a short, plain form. */
const PORTAL_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** `id`, or a validation error naming `field` and the accepted form. */
export function checkPortalId(id: unknown, field = 'portalId'): string {
  if (typeof id !== 'string' || !PORTAL_ID.test(id)) {
    throw new B24ValidationError(
      field,
      'expected 1 to 100 letters, digits, ".", "_" or "-" (starting with a letter or digit), e.g. "acme.bitrix24.com"',
    );
  }
  return id;
}
