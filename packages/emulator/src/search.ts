/**
 * The filter language for notifications, shared by the control API (`?q=`), the wait endpoint,
 * the test helpers and the inbox page's search box (which bundles this file, so it imports
 * nothing from Node):
 *
 *     user:5 tag:invoice-* is:unread has:attach text:"paid in full" portal:b
 *
 * Terms are ANDed. A bare word or a quoted phrase is a `text:` term.
 */

/** What a filter can test: a stored notification, or the inbox page's copy of one. */
export interface FilterSubject {
  id: number;
  userId: number;
  authorId: number;
  type: string;
  message: string;
  messageOut: string;
  tag: string | null;
  subTag: string | null;
  attach: unknown;
  read: boolean;
  answers: readonly unknown[];
}

/** A parsed filter; every field set must hold. */
export interface NotificationFilter {
  /** Recipient's user id (`user:5`). */
  user?: number;
  /** Sender's user id, 0 for system notifications (`from:1`). */
  from?: number;
  /** Tag or sub-tag; `*` matches any run of characters (`tag:invoice-*`). */
  tag?: string;
  /** `is:unread` (false) or `is:read` (true). */
  read?: boolean;
  /** `has:attach`. */
  attach?: boolean;
  /** `has:answer`: the user answered or confirmed. */
  answered?: boolean;
  /** `type:personal` or `type:system`. */
  type?: 'personal' | 'system';
  /** Every one must occur in MESSAGE or MESSAGE_OUT, case-insensitively (`text:"paid"`). */
  text?: string[];
  /** Which portal (`portal:b`); the API and the helpers resolve it, matching ignores it. */
  portal?: string;
  /** Only ids above this one (`after:41`): what arrived after a point. */
  after?: number;
}

/** A filter that does not parse; the message names the bad term and the fix. */
export class FilterError extends Error {
  constructor(
    message: string,
    /** The term as written. */
    readonly term: string,
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

const KEYS = ['user', 'from', 'tag', 'is', 'has', 'type', 'text', 'portal', 'after'] as const;
type Key = (typeof KEYS)[number];

const EXAMPLE = 'e.g. user:5 tag:invoice-* is:unread has:attach text:"paid"';

/** Split on spaces, keeping `"quoted phrases"` (with `\"` inside) whole. */
function tokenize(q: string): { raw: string; key: string | null; value: string }[] {
  const out: { raw: string; key: string | null; value: string }[] = [];
  let i = 0;
  while (i < q.length) {
    while (i < q.length && /\s/.test(q[i] as string)) i++;
    if (i >= q.length) break;
    const start = i;
    let key: string | null = null;
    const keyMatch = /^([A-Za-z]+):/.exec(q.slice(i));
    if (keyMatch) {
      key = (keyMatch[1] as string).toLowerCase();
      i += keyMatch[0].length;
    }
    let value = '';
    if (q[i] === '"') {
      i++;
      let closed = false;
      while (i < q.length) {
        const c = q[i] as string;
        if (c === '\\' && i + 1 < q.length) {
          value += q[i + 1];
          i += 2;
          continue;
        }
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (!closed) {
        const raw = q.slice(start);
        throw new FilterError(`${raw}: the quote is not closed; end the phrase with "`, raw);
      }
    } else {
      while (i < q.length && !/\s/.test(q[i] as string)) value += q[i++];
    }
    out.push({ raw: q.slice(start, i), key, value });
  }
  return out;
}

function id(raw: string, value: string, what: string): number {
  if (!/^\d{1,15}$/.test(value)) {
    throw new FilterError(`${raw}: expected ${what} (a non-negative whole number)`, raw);
  }
  return Number(value);
}

/** Parse a query; throws FilterError naming the first bad term. An empty query matches all. */
export function parseFilter(q: string): NotificationFilter {
  const f: NotificationFilter = {};
  const seen = new Set<string>();
  const once = (raw: string, key: string): void => {
    if (seen.has(key)) throw new FilterError(`${raw}: ${key}: is given twice; keep one`, raw);
    seen.add(key);
  };
  for (const { raw, key, value } of tokenize(q)) {
    if (key === null || key === 'text') {
      if (value === '') throw new FilterError(`${raw}: empty text; write text:"words"`, raw);
      (f.text ??= []).push(value.toLocaleLowerCase());
      continue;
    }
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new FilterError(
        `${raw}: unknown term "${key}:"; the terms are ${KEYS.map((k) => `${k}:`).join(' ')} (${EXAMPLE}); quote text holding a colon`,
        raw,
      );
    }
    if (value === '') throw new FilterError(`${raw}: ${key}: needs a value (${EXAMPLE})`, raw);
    switch (key as Key) {
      case 'user':
        once(raw, key);
        f.user = id(raw, value, 'the recipient user id');
        break;
      case 'from':
        once(raw, key);
        f.from = id(raw, value, 'the sender user id, 0 for system');
        break;
      case 'after':
        once(raw, key);
        f.after = id(raw, value, 'a notification id');
        break;
      case 'tag':
        once(raw, key);
        f.tag = value;
        break;
      case 'portal':
        once(raw, key);
        f.portal = value;
        break;
      case 'type':
        once(raw, key);
        if (value !== 'personal' && value !== 'system') {
          throw new FilterError(`${raw}: expected type:personal or type:system`, raw);
        }
        f.type = value;
        break;
      case 'is':
        if (value !== 'unread' && value !== 'read') {
          throw new FilterError(`${raw}: expected is:unread or is:read`, raw);
        }
        once(raw, 'is');
        f.read = value === 'read';
        break;
      case 'has':
        if (value === 'attach') f.attach = true;
        else if (value === 'answer') f.answered = true;
        else throw new FilterError(`${raw}: expected has:attach or has:answer`, raw);
        break;
      default:
        break;
    }
  }
  return f;
}

function quote(value: string): string {
  return /[\s"]/.test(value) || value === '' ? `"${value.replace(/["\\]/g, '\\$&')}"` : value;
}

/** The query that parses back to `f`, for messages and links. */
export function formatFilter(f: NotificationFilter): string {
  const terms: string[] = [];
  if (f.portal !== undefined) terms.push(`portal:${quote(f.portal)}`);
  if (f.user !== undefined) terms.push(`user:${f.user}`);
  if (f.from !== undefined) terms.push(`from:${f.from}`);
  if (f.type !== undefined) terms.push(`type:${f.type}`);
  if (f.tag !== undefined) terms.push(`tag:${quote(f.tag)}`);
  if (f.read !== undefined) terms.push(f.read ? 'is:read' : 'is:unread');
  if (f.attach) terms.push('has:attach');
  if (f.answered) terms.push('has:answer');
  for (const t of f.text ?? []) terms.push(`text:${quote(t)}`);
  if (f.after !== undefined) terms.push(`after:${f.after}`);
  return terms.join(' ');
}

const globCache = new Map<string, RegExp>();

function glob(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 's');
    if (globCache.size > 100) globCache.clear();
    globCache.set(pattern, re);
  }
  return re;
}

/**
 * The terms of `f` that `n` fails, by name (`user`, `tag`, `text:"paid"`…); empty when it
 * matches. `portal` is not tested: a notification does not know its portal.
 */
export function missedTerms(n: FilterSubject, f: NotificationFilter): string[] {
  const missed: string[] = [];
  if (f.user !== undefined && n.userId !== f.user) missed.push('user');
  if (f.from !== undefined && n.authorId !== f.from) missed.push('from');
  if (f.type !== undefined && n.type !== f.type) missed.push('type');
  if (f.tag !== undefined) {
    const re = glob(f.tag);
    if (!(n.tag !== null && re.test(n.tag)) && !(n.subTag !== null && re.test(n.subTag))) missed.push('tag');
  }
  if (f.read !== undefined && n.read !== f.read) missed.push(f.read ? 'is:read' : 'is:unread');
  if (f.attach && (n.attach === null || n.attach === undefined)) missed.push('has:attach');
  if (f.answered && n.answers.length === 0) missed.push('has:answer');
  if (f.after !== undefined && n.id <= f.after) missed.push('after');
  if (f.text) {
    const message = n.message.toLocaleLowerCase();
    const out = n.messageOut.toLocaleLowerCase();
    for (const t of f.text) if (!message.includes(t) && !out.includes(t)) missed.push(`text:${quote(t)}`);
  }
  return missed;
}

/** Whether `n` passes every term of `f` (but `portal`). */
export function matchesFilter(n: FilterSubject, f: NotificationFilter): boolean {
  return missedTerms(n, f).length === 0;
}

/** A one-line description of a notification, for timeout and assertion messages. */
export function describeNotification(n: FilterSubject): string {
  const text = n.message.length > 60 ? `${n.message.slice(0, 57)}…` : n.message;
  const parts = [`#${n.id} to user ${n.userId}`, n.type];
  if (n.tag !== null) parts.push(`tag ${JSON.stringify(n.tag)}`);
  if (n.subTag !== null) parts.push(`sub-tag ${JSON.stringify(n.subTag)}`);
  parts.push(n.read ? 'read' : 'unread');
  if (n.attach !== null && n.attach !== undefined) parts.push('with attach');
  return `${parts.join(', ')}: ${JSON.stringify(text)}`;
}

/**
 * Up to `limit` notifications closest to matching `f` (fewest missed terms, then newest), each
 * with what it misses: what a failed wait or assertion shows instead of a bare "not found".
 */
export function closestCandidates<T extends FilterSubject>(
  all: Iterable<T>,
  f: NotificationFilter,
  limit = 5,
): { notification: T; missed: string[] }[] {
  const scored: { notification: T; missed: string[] }[] = [];
  for (const n of all) scored.push({ notification: n, missed: missedTerms(n, f) });
  scored.sort((a, b) => a.missed.length - b.missed.length || b.notification.id - a.notification.id);
  return scored.slice(0, limit);
}

/** Candidates as lines: `#3 to user 5, … (differs in: tag, text:"paid")`. */
export function describeCandidates(candidates: { notification: FilterSubject; missed: string[] }[]): string {
  return candidates
    .map(
      (c) =>
        `  ${describeNotification(c.notification)}${c.missed.length ? ` (differs in: ${c.missed.join(', ')})` : ''}`,
    )
    .join('\n');
}
