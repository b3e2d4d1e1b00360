import type { StoredNotification, StoredTokens } from './records.js';

function tagKeys(n: StoredNotification): string[] {
  const keys: string[] = [];
  if (n.tag) keys.push(`${n.appKey}\0${n.tag}`);
  if (n.subTag) keys.push(`${n.appKey}\0\0${n.subTag}`);
  return keys;
}

/**
 * Receives every change to the store, so a durable copy can follow the in-memory one.
 * Reads always come from memory: the durable copy is loaded once, at start.
 */
export interface Persistence {
  saveNotification(n: StoredNotification): void;
  deleteNotification(id: number): void;
  saveTokens(t: StoredTokens): void;
  setMeta(key: string, value: string): void;
  clear(): void;
  close(): void;
}

/** What a persistence layer hands back at start. */
export interface StoreSnapshot {
  notifications: StoredNotification[];
  tokens: StoredTokens[];
  meta: Record<string, string>;
}

/** Where `id` is, or would be inserted, in an ascending list: the first index holding `>= id`. */
function lowerBound(ids: readonly number[], id: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((ids[mid] as number) < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Take `id` out of an ascending list by binary search: a delete must not scan the store. */
function removeSorted(ids: number[], id: number): void {
  const at = lowerBound(ids, id);
  if (ids[at] === id) ids.splice(at, 1);
}

/**
 * The portal's data: notifications and OAuth tokens, indexed the ways the methods read them,
 * so that a read costs what its page costs, not what the store holds: per-recipient id lists
 * (ascending, since ids only grow) found by binary search, per-recipient unread sets kept up
 * to date on every write, and a tag map. Knows nothing of HTTP or Bitrix24's rules; those live
 * in the methods.
 */
export class Store {
  readonly #notifications = new Map<number, StoredNotification>();
  /** Every id, ascending: the inspection API pages the whole store newest first. */
  readonly #ids: number[] = [];
  /** Recipient → ids, ascending, so a user's page needs no scan of everyone's. */
  readonly #byUser = new Map<number, number[]>();
  /** Recipient → ids not yet read: unread counters and "read all" cost the unread, not the total. */
  readonly #unread = new Map<number, Set<number>>();
  /** `appKey␀tag` and `appKey␀␀subTag` → ids: tag replacement must not scan every notification. */
  readonly #byTag = new Map<string, Set<number>>();
  readonly #byAccess = new Map<string, StoredTokens>();
  readonly #byRefresh = new Map<string, StoredTokens>();
  readonly #meta = new Map<string, string>();
  #lastId = 0;

  constructor(
    private readonly persistence?: Persistence,
    snapshot?: StoreSnapshot,
  ) {
    if (!snapshot) return;
    for (const n of snapshot.notifications.sort((a, b) => a.id - b.id)) this.#index(n);
    for (const t of snapshot.tokens) this.#indexTokens(t);
    for (const [k, v] of Object.entries(snapshot.meta)) this.#meta.set(k, v);
    this.#lastId = Math.max(this.#lastId, Number(this.#meta.get('lastNotificationId') ?? 0));
  }

  /** Index a notification whose id is above every id held (new ones, or a sorted load). */
  #index(n: StoredNotification): void {
    this.#notifications.set(n.id, n);
    this.#ids.push(n.id);
    let list = this.#byUser.get(n.userId);
    if (!list) this.#byUser.set(n.userId, (list = []));
    list.push(n.id);
    this.#syncRead(n);
    if (n.id > this.#lastId) this.#lastId = n.id;
    for (const key of tagKeys(n)) {
      let ids = this.#byTag.get(key);
      if (!ids) this.#byTag.set(key, (ids = new Set()));
      ids.add(n.id);
    }
  }

  /**
   * Bring the unread set in line with `n.read`. Idempotent, so callers may flip `read` on the
   * object and then save it, as the methods do.
   */
  #syncRead(n: StoredNotification): void {
    let unread = this.#unread.get(n.userId);
    if (n.read) {
      unread?.delete(n.id);
      return;
    }
    if (!unread) this.#unread.set(n.userId, (unread = new Set()));
    unread.add(n.id);
  }

  #unindexTags(n: StoredNotification): void {
    for (const key of tagKeys(n)) {
      const ids = this.#byTag.get(key);
      ids?.delete(n.id);
      if (ids?.size === 0) this.#byTag.delete(key);
    }
  }

  /** Notifications an application tagged with `tag`. */
  withTag(appKey: string, tag: string): StoredNotification[] {
    return this.#lookup(`${appKey}\0${tag}`);
  }

  /** Notifications an application sub-tagged with `subTag`. */
  withSubTag(appKey: string, subTag: string): StoredNotification[] {
    return this.#lookup(`${appKey}\0\0${subTag}`);
  }

  #lookup(key: string): StoredNotification[] {
    const out: StoredNotification[] = [];
    for (const id of this.#byTag.get(key) ?? []) {
      const n = this.#notifications.get(id);
      if (n) out.push(n);
    }
    return out;
  }

  /** Up to `limit` notifications of `ids` (ascending) below `beforeId`, newest first. */
  #pageOf(ids: readonly number[], beforeId: number | undefined, limit: number): StoredNotification[] {
    const out: StoredNotification[] = [];
    const end = beforeId === undefined ? ids.length : lowerBound(ids, beforeId);
    for (let i = end - 1; i >= 0 && out.length < limit; i--) {
      const n = this.#notifications.get(ids[i] as number);
      if (n) out.push(n);
    }
    return out;
  }

  #indexTokens(t: StoredTokens): void {
    this.#byAccess.set(t.accessToken, t);
    this.#byRefresh.set(t.refreshToken, t);
  }

  /** Store a new notification, giving it the next id. */
  addNotification(n: Omit<StoredNotification, 'id'>): StoredNotification {
    // Every field named, not a spread: one object of one shape per notification, and this
    // runs on every send.
    const stored: StoredNotification = {
      id: ++this.#lastId,
      userId: n.userId,
      authorId: n.authorId,
      type: n.type,
      message: n.message,
      messageOut: n.messageOut,
      tag: n.tag,
      subTag: n.subTag,
      appKey: n.appKey,
      clientId: n.clientId,
      attach: n.attach,
      read: n.read,
      createdAt: n.createdAt,
      requestId: n.requestId,
      answers: n.answers,
    };
    this.#index(stored);
    // Ids are never reused, even after deletes: a client may still hold an old one. The
    // in-memory meta reads #lastId when asked (getMeta) rather than keep a string per send.
    this.persistence?.setMeta('lastNotificationId', String(this.#lastId));
    this.persistence?.saveNotification(stored);
    return stored;
  }

  getNotification(id: number): StoredNotification | undefined {
    return this.#notifications.get(id);
  }

  /** Save changes made to a stored notification (read state, answers). */
  updateNotification(n: StoredNotification): void {
    if (this.#notifications.get(n.id) !== n) this.#notifications.set(n.id, n);
    this.#syncRead(n);
    this.persistence?.saveNotification(n);
  }

  deleteNotification(id: number): boolean {
    const n = this.#notifications.get(id);
    if (!n) return false;
    this.#notifications.delete(id);
    this.#unindexTags(n);
    removeSorted(this.#ids, id);
    const list = this.#byUser.get(n.userId);
    if (list) removeSorted(list, id);
    this.#unread.get(n.userId)?.delete(id);
    this.persistence?.deleteNotification(id);
    return true;
  }

  /** A user's notifications, newest first. Costs the whole list: searches only; pages use `userPage`. */
  forUser(userId: number): StoredNotification[] {
    return this.#pageOf(this.#byUser.get(userId) ?? [], undefined, Number.POSITIVE_INFINITY);
  }

  /** Up to `limit` of a user's notifications with ids below `beforeId` (all when absent), newest first. */
  userPage(userId: number, beforeId: number | undefined, limit: number): StoredNotification[] {
    return this.#pageOf(this.#byUser.get(userId) ?? [], beforeId, limit);
  }

  /** A user's notifications with ids from `fromId` up, oldest first. */
  userFrom(userId: number, fromId: number): StoredNotification[] {
    const ids = this.#byUser.get(userId) ?? [];
    const out: StoredNotification[] = [];
    for (let i = lowerBound(ids, fromId); i < ids.length; i++) {
      const n = this.#notifications.get(ids[i] as number);
      if (n) out.push(n);
    }
    return out;
  }

  /** How many notifications a user has. */
  userCount(userId: number): number {
    return this.#byUser.get(userId)?.length ?? 0;
  }

  /** How many of a user's notifications are unread. */
  unreadCount(userId: number): number {
    return this.#unread.get(userId)?.size ?? 0;
  }

  /** A user's unread notifications, oldest first. */
  unreadOf(userId: number): StoredNotification[] {
    const out: StoredNotification[] = [];
    for (const id of this.#unread.get(userId) ?? []) {
      const n = this.#notifications.get(id);
      if (n) out.push(n);
    }
    return out.sort((a, b) => a.id - b.id);
  }

  /** Every notification, newest first. Costs the whole store: searches only; pages use `page`. */
  all(): StoredNotification[] {
    return this.#pageOf(this.#ids, undefined, Number.POSITIVE_INFINITY);
  }

  /** Up to `limit` notifications of anyone with ids below `beforeId` (all when absent), newest first. */
  page(beforeId: number | undefined, limit: number): StoredNotification[] {
    return this.#pageOf(this.#ids, beforeId, limit);
  }

  /** Number of notifications held. */
  get size(): number {
    return this.#notifications.size;
  }

  putTokens(t: StoredTokens): void {
    this.#indexTokens(t);
    this.persistence?.saveTokens(t);
  }

  byAccessToken(token: string): StoredTokens | undefined {
    return this.#byAccess.get(token);
  }

  byRefreshToken(token: string): StoredTokens | undefined {
    return this.#byRefresh.get(token);
  }

  /** Mark a refresh token used; the pair's access token keeps working until it expires. */
  spendRefresh(t: StoredTokens): void {
    t.refreshSpent = true;
    this.persistence?.saveTokens(t);
  }

  getMeta(key: string): string | undefined {
    if (key === 'lastNotificationId' && this.#lastId > 0) return String(this.#lastId);
    return this.#meta.get(key);
  }

  setMeta(key: string, value: string): void {
    this.#meta.set(key, value);
    this.persistence?.setMeta(key, value);
  }

  /** Forget every notification (tokens and meta stay, so clients stay signed in). */
  clearNotifications(): void {
    this.#notifications.clear();
    this.#ids.length = 0;
    this.#byUser.clear();
    this.#unread.clear();
    this.#byTag.clear();
    this.persistence?.clear();
    for (const t of this.#byAccess.values()) this.persistence?.saveTokens(t);
    for (const [k, v] of this.#meta) this.persistence?.setMeta(k, v);
    if (this.#lastId > 0) this.persistence?.setMeta('lastNotificationId', String(this.#lastId));
  }

  close(): void {
    this.persistence?.close();
  }
}
