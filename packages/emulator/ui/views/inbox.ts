/**
 * The inbox: users down the side with their unread counts, the chosen user's notifications
 * newest first, filtered by tag and searched by text, kept current from the event stream.
 */

import { api, type Notification, type UserSummary } from '../api.js';
import { button, el, replaceChildren } from '../dom.js';
import { initials } from '../format.js';
import type { RenderContext } from '../render/bbcode.js';
import { renderNotification, type CardActions } from '../render/notification.js';

/** A page of the list; older ones load on demand. */
const PAGE = 50;

/** What the inbox needs from the page around it. */
export interface InboxHost {
  origin: string;
  /** Show a failed call to the user. */
  report(err: unknown): void;
  /** Switch to another user (updates the address, which calls `select`). */
  navigate(userId: number): void;
}

/** The filters of the list, as `GET /notifications` applies them. */
interface Filters {
  tag: string;
  text: string;
  unread: boolean;
}

/** The same test the server applies, for notifications that arrive while a filter is on. */
function matches(n: Notification, userId: number | null, f: Filters): boolean {
  if (n.userId !== userId) return false;
  if (f.tag && n.tag !== f.tag && n.subTag !== f.tag) return false;
  if (f.unread && n.read) return false;
  const q = f.text.toLocaleLowerCase();
  return !q || n.message.toLocaleLowerCase().includes(q) || n.messageOut.toLocaleLowerCase().includes(q);
}

function debounce(fn: () => void, ms: number): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

/** The inbox view; `root` is mounted by the app. */
export class InboxView {
  readonly root = el('div', 'view inbox-view');
  readonly #host: InboxHost;
  readonly #ctx: RenderContext;
  readonly #actions: CardActions;
  readonly #userList = el('ul', 'user-list');
  readonly #title = el('div', 'feed-title');
  readonly #list = el('ol', 'notifications');
  readonly #count = el('span', 'feed-count');
  readonly #empty = el('p', 'empty');
  readonly #more: HTMLButtonElement;
  readonly #tagInput = el('input', 'filter-tag');
  readonly #textInput = el('input', 'filter-text');
  readonly #unreadInput = el('input', 'filter-unread');
  #users: UserSummary[] = [];
  #selected: number | null = null;
  #filters: Filters = { tag: '', text: '', unread: false };
  readonly #cards = new Map<number, { n: Notification; node: HTMLLIElement }>();
  #total = 0;
  /** Bumped on every reload, so an older answer arriving late is dropped. */
  #generation = 0;
  readonly refreshUsers = debounce(() => void this.loadUsers(), 100);

  constructor(host: InboxHost) {
    this.#host = host;
    this.#ctx = {
      origin: host.origin,
      userName: (id) => this.#users.find((u) => u.id === id)?.name,
    };
    this.#actions = {
      setRead: (n, read) => api.setRead(n.id, read).catch((err: unknown) => host.report(err)),
      remove: (n) => api.remove(n.id).catch((err: unknown) => host.report(err)),
      filterTag: (tag) => {
        this.#tagInput.value = tag;
        this.#setFilters();
      },
      detail: (id) => api.notification(id),
    };
    this.#more = button('Load older', 'more', () => void this.#loadMore());

    this.#tagInput.type = 'search';
    this.#tagInput.placeholder = 'Tag or sub-tag';
    this.#tagInput.setAttribute('aria-label', 'Filter by tag or sub-tag');
    this.#textInput.type = 'search';
    this.#textInput.placeholder = 'Search text';
    this.#textInput.setAttribute('aria-label', 'Search notification text');
    this.#unreadInput.type = 'checkbox';
    const later = debounce(() => this.#setFilters(), 250);
    this.#tagInput.addEventListener('input', later);
    this.#textInput.addEventListener('input', later);
    this.#unreadInput.addEventListener('change', () => this.#setFilters());

    const toolbar = el(
      'div',
      'toolbar',
      this.#textInput,
      this.#tagInput,
      el('label', 'check', this.#unreadInput, ' Unread only'),
      button('Clear', 'clear-filters', () => {
        this.#tagInput.value = '';
        this.#textInput.value = '';
        this.#unreadInput.checked = false;
        this.#setFilters();
      }),
      this.#count,
    );
    this.root.append(
      el('aside', 'users', el('h2', null, 'Users'), this.#userList),
      el('section', 'feed', this.#title, toolbar, this.#list, this.#empty, this.#more),
    );
  }

  /** A user's name for mentions (`[USER=5]`). */
  userName(id: number): string | undefined {
    return this.#ctx.userName(id);
  }

  /** Load the users and, the first time, choose whom to show. */
  async loadUsers(): Promise<void> {
    try {
      this.#users = (await api.users()).users;
    } catch (err) {
      this.#host.report(err);
      return;
    }
    this.#renderUsers();
    this.#renderTitle();
  }

  /** Whom to show when the address names no one: the user on show, else the first with unread. */
  defaultUser(): number | undefined {
    if (this.#selected !== null) return this.#selected;
    return (this.#users.find((u) => u.unread > 0) ?? this.#users.find((u) => u.total > 0) ?? this.#users[0])
      ?.id;
  }

  /** Show this user's notifications. */
  async select(userId: number): Promise<void> {
    this.#selected = userId;
    this.#renderUsers();
    this.#renderTitle();
    await this.reload();
  }

  /** Reload the list from the server with the current filters. */
  async reload(): Promise<void> {
    const generation = ++this.#generation;
    const user = this.#selected;
    if (user === null) return;
    try {
      const page = await api.notifications({ user, ...this.#query(), limit: PAGE });
      if (generation !== this.#generation) return;
      this.#cards.clear();
      this.#list.replaceChildren();
      this.#total = page.total;
      for (const n of page.notifications) this.#list.append(this.#card(n));
    } catch (err) {
      this.#host.report(err);
    }
    this.#renderCount();
  }

  /** A notification arrived: count it, and show it at once if it belongs in the list. */
  added(n: Notification): void {
    this.refreshUsers();
    if (!matches(n, this.#selected, this.#filters) || this.#cards.has(n.id)) return;
    this.#insert(n);
    this.#total++;
    this.#renderCount();
  }

  /** A notification changed (read state): redraw it, or drop it if a filter now hides it. */
  updated(n: Notification): void {
    this.refreshUsers();
    const current = this.#cards.get(n.id);
    if (!matches(n, this.#selected, this.#filters)) {
      if (current) this.removed(n.id, false);
      return;
    }
    if (!current) {
      this.#insert(n);
      this.#total++;
    } else {
      const node = this.#card(n);
      current.node.replaceWith(node);
    }
    this.#renderCount();
  }

  /** A notification was deleted. */
  removed(id: number, refresh = true): void {
    if (refresh) this.refreshUsers();
    const current = this.#cards.get(id);
    if (!current) return;
    current.node.remove();
    this.#cards.delete(id);
    this.#total = Math.max(0, this.#total - 1);
    this.#renderCount();
  }

  #query(): { tag?: string; text?: string; unread?: boolean } {
    return { tag: this.#filters.tag, text: this.#filters.text, unread: this.#filters.unread };
  }

  #setFilters(): void {
    this.#filters = {
      tag: this.#tagInput.value.trim(),
      text: this.#textInput.value.trim(),
      unread: this.#unreadInput.checked,
    };
    void this.reload();
  }

  async #loadMore(): Promise<void> {
    const user = this.#selected;
    if (user === null || this.#cards.size === 0) return;
    const before = Math.min(...this.#cards.keys());
    try {
      const page = await api.notifications({ user, ...this.#query(), before, limit: PAGE });
      for (const n of page.notifications) if (!this.#cards.has(n.id)) this.#list.append(this.#card(n));
    } catch (err) {
      this.#host.report(err);
    }
    this.#renderCount();
  }

  #card(n: Notification): HTMLLIElement {
    const node = renderNotification(n, this.#ctx, this.#actions);
    this.#cards.set(n.id, { n, node });
    return node;
  }

  /** Newest first: before the first card with a smaller id. */
  #insert(n: Notification): void {
    const node = this.#card(n);
    let next: HTMLLIElement | null = null;
    for (const { n: other, node: otherNode } of this.#cards.values()) {
      if (other.id < n.id && (next === null || Number(next.dataset.id) < other.id)) next = otherNode;
    }
    this.#list.insertBefore(node, next);
  }

  #renderUsers(): void {
    replaceChildren(
      this.#userList,
      ...this.#users.map((u) => {
        const item = button(
          '',
          `user${u.id === this.#selected ? ' selected' : ''}${u.active ? '' : ' inactive'}`,
          () => this.#host.navigate(u.id),
        );
        item.dataset.userId = String(u.id);
        item.append(
          el('span', 'avatar initials', initials(u.name)),
          el(
            'span',
            'user-text',
            el('span', 'user-name', u.name),
            el('span', 'user-meta', `#${u.id}${u.workPosition ? ` · ${u.workPosition}` : ''}`),
          ),
          el('span', u.unread > 0 ? 'badge unread-count' : 'badge unread-count zero', String(u.unread)),
        );
        item.title = `${u.total} notifications, ${u.unread} unread`;
        if (u.id === this.#selected) item.setAttribute('aria-current', 'true');
        return el('li', null, item);
      }),
    );
  }

  #renderTitle(): void {
    const user = this.#users.find((u) => u.id === this.#selected);
    replaceChildren(
      this.#title,
      el('h2', null, user ? user.name : this.#selected === null ? 'No user' : `User ${this.#selected}`),
      user ? el('span', 'muted', [user.workPosition, user.email].filter(Boolean).join(' · ')) : null,
    );
  }

  #renderCount(): void {
    const shown = this.#cards.size;
    const filtered = this.#filters.tag || this.#filters.text || this.#filters.unread;
    this.#count.textContent = `${this.#total} notification${this.#total === 1 ? '' : 's'}${filtered ? ' match' : ''}`;
    this.#empty.textContent =
      shown > 0
        ? ''
        : filtered
          ? 'Nothing matches these filters.'
          : 'No notifications yet. Send one (im.notify.personal.add or im.notify.system.add): it appears here at once.';
    this.#empty.hidden = shown > 0;
    this.#more.hidden = shown >= this.#total;
  }
}
