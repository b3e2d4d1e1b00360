import type { Attach } from '../attach.js';
import type { Portal } from '../portal/portal.js';
import type { StoredNotification } from '../portal/records.js';
import { formatDate } from '../wire/time.js';
import { convertText } from './convert-text.js';

/** Bitrix24's notify types: a confirm has buttons, "from" has an author, system has none. */
export const NOTIFY_TYPE = { confirm: 1, from: 2, system: 4 } as const;

/** The id of a user's notification chat; the portal gives each user one. */
export function notifyChatId(userId: number): number {
  return 1000 + userId;
}

/** How a stored tag reads back: the portal prefixes it with the owning application. */
export function wireTag(n: StoredNotification, tag: string | null): string {
  if (!tag) return '';
  return `MP|${n.appKey.replace(/^app:/, '')}|${tag}`;
}

/**
 * An attachment as the portal writes it back in a notification's `params`: the same upper-case
 * keys a client sends (`ID`, `COLOR_TOKEN`, `COLOR`, `BLOCKS`), not the emulator's stored shape.
 * ID and COLOR appear only when the sender gave them.
 */
export function attachView(a: Attach) {
  return {
    ...(a.id !== undefined ? { ID: a.id } : {}),
    COLOR_TOKEN: a.colorToken,
    ...(a.color !== undefined ? { COLOR: a.color } : {}),
    BLOCKS: a.blocks,
  };
}

/**
 * A stored notification as im.notify.get and im.notify.history.search list it; `convert` is
 * their `CONVERT_TEXT=Y` (see convert-text.ts).
 */
export function notificationView(portal: Portal, n: StoredNotification, convert = false) {
  return {
    id: n.id,
    chat_id: notifyChatId(n.userId),
    author_id: n.authorId,
    date: formatDate(n.createdAt, portal.config.timezone),
    notify_type: n.type === 'system' ? NOTIFY_TYPE.system : NOTIFY_TYPE.from,
    notify_module: 'rest',
    notify_event: 'rest_notify',
    notify_tag: wireTag(n, n.tag),
    notify_sub_tag: wireTag(n, n.subTag),
    notify_title: '',
    setting_name: 'rest|rest_notify',
    text: convert ? convertText(n.message) : n.message,
    notify_read: n.read ? 'Y' : 'N',
    params: n.attach ? { ATTACH: [attachView(n.attach)] } : null,
  };
}

/** The authors of some notifications, as the `users` list of im.notify.get shows them. */
export function authorViews(portal: Portal, list: readonly StoredNotification[]) {
  const ids = [...new Set(list.map((n) => n.authorId).filter((id) => id > 0))];
  return ids.flatMap((id) => {
    const u = portal.user(id);
    if (!u) return [];
    const first = u.NAME;
    const last = u.LAST_NAME ?? '';
    return [
      {
        id: u.ID,
        active: u.ACTIVE !== false,
        name: `${first} ${last}`.trim(),
        first_name: first,
        last_name: last,
        work_position: u.WORK_POSITION ?? '',
        color: '#1eb4aa',
        avatar: '',
        avatar_hr: '',
        gender: 'M',
        birthday: '',
        extranet: false,
        network: false,
        bot: false,
        connector: false,
        external_auth_id: 'default',
        status: 'online',
        idle: false,
        last_activity_date: formatDate(portal.clock.now(), portal.config.timezone),
        mobile_last_date: false,
        desktop_last_date: false,
        absent: false,
        departments: [1],
        phones: false,
        bot_data: null,
        type: 'user',
        website: '',
        email: u.EMAIL ?? '',
      },
    ];
  });
}
