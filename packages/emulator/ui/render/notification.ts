/**
 * One notification as Bitrix24 shows it: the author's avatar and name (or the portal, for a
 * system notification), the time, the text with BB codes, the attachment, its tag and
 * sub-tag; and what only an emulator shows: MESSAGE_OUT, answers given to it, and the request
 * that created it with the portal's answer.
 */

import type { Notification, NotificationDetail } from '../api.js';
import { button, el } from '../dom.js';
import { formatDateTime, initials } from '../format.js';
import { renderAttach } from './attach.js';
import { renderBbCode, type RenderContext } from './bbcode.js';
import { requestDetail } from './request.js';
import { text } from './safe.js';

/** What a card's buttons do; the inbox view supplies them. */
export interface CardActions {
  setRead(n: Notification, read: boolean): void;
  remove(n: Notification): void;
  /** Show only notifications with this tag or sub-tag. */
  filterTag(tag: string): void;
  detail(id: number): Promise<NotificationDetail>;
}

function tagChip(kind: 'tag' | 'sub-tag', value: string, actions: CardActions): HTMLElement {
  const chip = button(value, `chip chip-${kind}`, () => actions.filterTag(value));
  chip.title = `${kind === 'tag' ? 'TAG' : 'SUB_TAG'}: show only these`;
  return chip;
}

/** A notification card: an `<li>` with `data-id`, classes `unread` and `system` as they apply. */
export function renderNotification(n: Notification, ctx: RenderContext, actions: CardActions): HTMLLIElement {
  const system = n.type === 'system';
  const author = system ? 'System' : (text(n.authorName) ?? `user ${Number(n.authorId)}`);
  const card = el('li', `notification${n.read ? '' : ' unread'}${system ? ' system' : ''}`);
  card.dataset.id = String(Number(n.id));

  const avatar = el(
    'span',
    system ? 'avatar system-avatar' : 'avatar initials',
    system ? '⚙' : initials(author),
  );
  const time = el('time', 'notification-time', formatDateTime(Number(n.createdAt)));
  const at = Number(n.createdAt);
  // Dates beyond ±8.64e15 ms are invalid and toISOString would throw.
  if (Number.isFinite(at) && Math.abs(at) <= 8.64e15) time.dateTime = new Date(at).toISOString();
  const tag = text(n.tag);
  const subTag = text(n.subTag);
  const head = el(
    'div',
    'notification-head',
    el('span', 'notification-author', author),
    el('span', `kind kind-${system ? 'system' : 'personal'}`, system ? 'system' : 'personal'),
    time,
    tag ? tagChip('tag', tag, actions) : null,
    subTag ? tagChip('sub-tag', subTag, actions) : null,
  );

  const message = el('div', 'notification-message');
  renderBbCode(message, text(n.message) ?? '', ctx);

  const body = el('div', 'notification-body', head, message);
  const attach = renderAttach(n.attach, ctx);
  if (attach) body.append(attach);

  const messageOut = text(n.messageOut);
  if (messageOut) {
    body.append(el('div', 'notification-out', el('span', 'label', 'MESSAGE_OUT '), messageOut));
  }
  if (Array.isArray(n.answers) && n.answers.length > 0) {
    const answers = el('ul', 'notification-answers');
    for (const a of n.answers) {
      answers.append(el('li', null, `${text(a.kind) ?? 'answer'}: ${text(a.text) ?? ''}`));
    }
    body.append(answers);
  }

  const panel = el('div', 'request-panel');
  panel.hidden = true;
  const toggleRequest = button('Request', 'action action-request', () => {
    panel.hidden = !panel.hidden;
    toggleRequest.setAttribute('aria-expanded', String(!panel.hidden));
    if (panel.hidden || panel.dataset.loaded) return;
    panel.replaceChildren(el('p', 'muted', 'Loading…'));
    actions.detail(Number(n.id)).then(
      (detail) => {
        panel.dataset.loaded = 'true';
        panel.replaceChildren(
          detail.request
            ? requestDetail(detail.request)
            : el('p', 'muted', 'The request is no longer in the log (it keeps the latest entries only).'),
        );
      },
      (err: unknown) =>
        panel.replaceChildren(el('p', 'error', err instanceof Error ? err.message : String(err))),
    );
  });
  toggleRequest.setAttribute('aria-expanded', 'false');
  const actionsRow = el(
    'div',
    'notification-actions',
    button(n.read ? 'Mark unread' : 'Mark read', 'action action-read', () => actions.setRead(n, !n.read)),
    button('Delete', 'action action-delete', () => actions.remove(n)),
    toggleRequest,
    el('span', 'notification-id', `#${Number(n.id)}`),
  );
  body.append(actionsRow, panel);
  card.append(avatar, body);
  return card;
}
