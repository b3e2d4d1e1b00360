/**
 * The inbox: users down the side with their unread counts, the chosen user's notifications
 * newest first, searched in the filter language (`src/search.ts`, the one `?q=` takes), kept
 * current from the event stream.
 */

import { api, type Notification, type UserSummary } from '../api.js';
import { button, el, replaceChildren } from '../dom.js';
import { initials } from '../format.js';
import type { RenderContext } from '../render/bbcode.js';
import { renderNotification, type CardActions } from '../render/notification.js';
import {
  FilterError,
  formatFilter,
  matchesFilter,
  parseFilter,
  type NotificationFilter,
} from '../../src/search.js';

/** A page of the list; older ones load on demand. */
const PAGE = 50;

/** What the inbox needs from the page around it. */
export interface InboxHost {
  origin: string;
  /** Show a failed call to the user. */
  report(err: unknown): void;
  /** Switch to another user (updates the address, which calls `select`). */
  navigate(userId: number): void;
  /**
   * Show another portal with this query (a `portal:` term); undefined when it went, else why
   * not (no such portal), to show next to the box.
   */
  switchPortal(name: string, q: string): string | undefined;
  /** The name of the portal on show, once known. */
  portalName(): string | undefined;
}

/** The filters of the list: the search box's query (parsed) and the "unread only" box. */
interface Filters {
  q: string;
  filter: NotificationFilter;
  unread: boolean;
}

/** The same test the server applies, for notifications that arrive while a filter is on. */
function matches(n: Notification, userId: number | null, f: Filters): boolean {
  if (n.userId !== userId) return false;
  if (f.unread && n.read) return false;
  return matchesFilter(n, f.filter);
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
  /** One box for every filter, in the filter language; `filter-text` for older tests' sake. */
  readonly #searchInput = el('input', 'filter-search filter-text');
  readonly #searchError = el('span', 'filter-error');
  readonly #unreadInput = el('input', 'filter-unread');
  #users: UserSummary[] = [];
  #selected: number | null = null;
  #filters: Filters = { q: '', filter: {}, unread: false };
  readonly #cards = new Map<number, { n: Notification; node: HTMLLIElement }>();
  #total = 0;
  /** Bumped on every reload, so an older answer arriving late is dropped. */
  #generation = 0;
  /**
   * What the event stream said while a reload was fetching (null: deleted), replayed over the
   * page it answers: the page may have been read before these events, and must not undo them.
   */
  #liveDuringReload: Map<number, Notification | null> | null = null;
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
        let current: NotificationFilter = {};
        try {
          current = parseFilter(this.#searchInput.value);
        } catch {
          // A box that does not parse is replaced by the tag alone.
        }
        this.#searchInput.value = formatFilter({ ...current, tag });
        this.#setFilters();
      },
      detail: (id) => api.notification(id),
    };
    this.#more = button('Load older', 'more', () => void this.#loadMore());

    this.#searchInput.type = 'search';
    this.#searchInput.placeholder = 'Search: paid tag:invoice-* is:unread has:attach';
    this.#searchInput.title =
      'Terms: text:"…" (or bare words), tag: (* matches any run), is:unread, is:read, has:attach, has:answer, type:personal, type:system, from:ID, after:ID, user:ID, portal:NAME';
    this.#searchInput.setAttribute('aria-label', 'Search notifications (filter language)');
    this.#searchInput.value = new URLSearchParams(location.search).get('q') ?? '';
    this.#searchError.setAttribute('role', 'status');
    this.#searchError.hidden = true;
    this.#unreadInput.type = 'checkbox';
    const later = debounce(() => this.#setFilters(), 250);
    this.#searchInput.addEventListener('input', later);
    this.#unreadInput.addEventListener('change', () => this.#setFilters());
    this.#setFilters(false);

    const toolbar = el(
      'div',
      'toolbar',
      this.#searchInput,
      el('label', 'check', this.#unreadInput, ' Unread only'),
      button('Clear', 'clear-filters', () => {
        this.#searchInput.value = '';
        this.#unreadInput.checked = false;
        this.#setFilters();
      }),
      this.#count,
      this.#searchError,
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
    const live = new Map<number, Notification | null>();
    this.#liveDuringReload = live;
    try {
      const page = await api.notifications({ user, ...this.#query(), limit: PAGE });
      if (generation !== this.#generation) return;
      this.#cards.clear();
      this.#list.replaceChildren();
      this.#total = page.total;
      for (const n of page.notifications) this.#list.append(this.#card(n));
      // Events that came while the page was fetched win over it: the page may predate them.
      this.#liveDuringReload = null;
      for (const [id, n] of live) {
        if (n === null) this.removed(id, false);
        else if (this.#cards.has(id)) this.updated(n);
        else if (matches(n, this.#selected, this.#filters)) {
          this.#insert(n);
          this.#total++;
        }
      }
    } catch (err) {
      this.#host.report(err);
    } finally {
      if (this.#liveDuringReload === live) this.#liveDuringReload = null;
    }
    this.#renderCount();
  }

  /** A notification arrived: count it, and show it at once if it belongs in the list. */
  added(n: Notification): void {
    this.refreshUsers();
    this.#liveDuringReload?.set(n.id, n);
    if (!matches(n, this.#selected, this.#filters) || this.#cards.has(n.id)) return;
    this.#insert(n);
    this.#total++;
    this.#renderCount();
  }

  /** A notification changed (read state): redraw it, or drop it if a filter now hides it. */
  updated(n: Notification): void {
    this.refreshUsers();
    this.#liveDuringReload?.set(n.id, n);
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
    this.#liveDuringReload?.set(id, null);
    const current = this.#cards.get(id);
    if (!current) return;
    current.node.remove();
    this.#cards.delete(id);
    this.#total = Math.max(0, this.#total - 1);
    this.#renderCount();
  }

  #query(): { q?: string; unread?: boolean } {
    // The user on show is the `user` parameter, the portal the page's: those terms navigate.
    const { user: _user, portal: _portal, ...rest } = this.#filters.filter;
    return { q: formatFilter(rest), unread: this.#filters.unread };
  }

  /**
   * Parse the box: a term that does not parse is named next to it and the list stays as it
   * was; `user:` shows that user, `portal:` that portal. Then reload, unless told not to.
   */
  #setFilters(reload = true): void {
    const q = this.#searchInput.value.trim();
    let filter: NotificationFilter;
    try {
      filter = parseFilter(q);
    } catch (err) {
      this.#showSearchError(err instanceof FilterError ? err.message : String(err));
      return;
    }
    const shown = this.#host.portalName();
    if (filter.portal !== undefined && shown !== undefined && filter.portal !== shown) {
      const why = this.#host.switchPortal(filter.portal, q);
      if (why !== undefined) this.#showSearchError(why);
      return;
    }
    this.#showSearchError('');
    this.#filters = { q, filter, unread: this.#unreadInput.checked };
    if (filter.user !== undefined && filter.user !== this.#selected) {
      this.#host.navigate(filter.user);
      return;
    }
    if (reload) void this.reload();
  }

  #showSearchError(message: string): void {
    this.#searchError.textContent = message;
    this.#searchError.hidden = message === '';
    this.#searchInput.setAttribute('aria-invalid', message === '' ? 'false' : 'true');
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
    const filtered = this.#filters.q !== '' || this.#filters.unread;
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
