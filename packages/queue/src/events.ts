/**
 * The queue's events, read from the capped stream (`P:events`) the workers write (`sent`,
 * `failed`, `parked`, `refused`) and the producers' calls that resume a portal (`resumed`).
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from './keys.js';
import type { QueueEventMap } from './types.js';

type Listener = (payload: never) => void;

/** The stream's length, roughly: the newest events are kept (`MAXLEN ~`). */
export const EVENTS_KEPT = 10000;

/**
 * Queue the `resumed` event on `multi`, so that it is written in the same step as the change of
 * state it reports.
 */
export function addResumed(
  multi: ChainableCommander,
  keys: Keys,
  event: QueueEventMap['resumed'],
): ChainableCommander {
  return multi.xadd(
    keys.events,
    'MAXLEN',
    '~',
    EVENTS_KEPT,
    '*',
    'type',
    'resumed',
    'portal',
    event.portalId,
    'reason',
    event.reason,
    'by',
    event.by,
  );
}

function fields(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}

/** Turns stream entries into typed events; reads only while someone listens. */
export class EventReader {
  readonly #listeners = new Map<keyof QueueEventMap, Set<Listener>>();
  #conn: Redis | undefined;
  #loop: Promise<void> | undefined;
  #closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  on<E extends keyof QueueEventMap>(event: E, listener: (payload: QueueEventMap[E]) => void): void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
    this.#loop ??= this.#read();
  }

  off<E extends keyof QueueEventMap>(event: E, listener: (payload: QueueEventMap[E]) => void): void {
    this.#listeners.get(event)?.delete(listener as Listener);
  }

  /** Tell this process's listeners of an event that is not in the stream (`connection`). */
  emitLocal<E extends keyof QueueEventMap>(event: E, payload: QueueEventMap[E]): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        (listener as (p: QueueEventMap[E]) => void)(payload);
      } catch {
        // A listener's own failure must not stop the others.
      }
    }
  }

  #emit(entry: Record<string, string>): void {
    const type = entry.type as keyof QueueEventMap;
    let payload: QueueEventMap[keyof QueueEventMap];
    if (type === 'sent')
      payload = { portalId: entry.portal ?? '', key: entry.key ?? '', notificationId: Number(entry.id) };
    else if (type === 'failed') {
      payload = {
        portalId: entry.portal ?? '',
        key: entry.key ?? '',
        error: JSON.parse(entry.error ?? '{}') as QueueEventMap['failed']['error'],
      };
    } else if (type === 'parked') payload = { portalId: entry.portal ?? '', reason: entry.reason ?? '' };
    else if (type === 'resumed') {
      payload = {
        portalId: entry.portal ?? '',
        reason: entry.reason ?? '',
        by: (entry.by ?? 'resume') as QueueEventMap['resumed']['by'],
      };
    } else if (type === 'refused') payload = { portalId: entry.portal ?? '', code: entry.code ?? '' };
    else return;
    this.emitLocal(type, payload);
  }

  async #read(): Promise<void> {
    // A connection of its own: XREAD BLOCK holds it.
    const conn = (this.#conn = this.redis.duplicate());
    conn.on('error', () => {});
    let last = '$';
    while (!this.#closed) {
      let answer: [string, [string, string[]][]][] | null;
      try {
        answer = (await conn.xread('COUNT', 1000, 'BLOCK', 1000, 'STREAMS', this.keys.events, last)) as
          [string, [string, string[]][]][] | null;
      } catch {
        if (this.#closed) return;
        continue;
      }
      for (const [, entries] of answer ?? []) {
        for (const [id, list] of entries) {
          last = id;
          this.#emit(fields(list));
        }
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#conn?.disconnect();
    await this.#loop;
  }
}
