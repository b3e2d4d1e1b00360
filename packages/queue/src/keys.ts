/**
 * Every Redis key the queue writes, in one place. The Lua scripts build the same names from the
 * prefix and the portal id (see `scripts.ts`), so the layout below is the one to change both in.
 *
 * - `P:portals` hash, portal id → sealed config; `P:tokens` hash, portal id → sealed token pair;
 *   `P:tokgen` hash, portal id → token generation (the fencing counter of refreshes);
 * - `P:parked` hash, portal id → why its notifications wait;
 * - `P:active` set of portals that may have work (the sweeper's list); `P:known` every portal used;
 * - `P:p:ID:ready` list of keys in sending order; `:items` hash key → `{m, p}`; `:inflight` hash
 *   key → the token of the tick that took it; `:delayed` zset key → due (ms); `:failed` set;
 *   `:stats` hash of counters (sent, refused, batches);
 * - `P:r:ID:KEY` one notification's result (JSON), with a TTL: it is also the deduplication record;
 * - `P:pace:*` the shared pacer's buckets, ledgers and learnt costs, by the portal's host (two ids
 *   that reach one Bitrix24 portal share its limits); `P:lock:*` refresh locks;
 * - `P:events` a capped stream of sent / failed / parked / refused events;
 * - `P:notify:*` BullMQ's own keys for the queue of ticks.
 */
export class Keys {
  /** @param prefix the queue's prefix, e.g. `b24q`. */
  constructor(readonly prefix: string) {}

  get portals(): string {
    return `${this.prefix}:portals`;
  }
  get tokens(): string {
    return `${this.prefix}:tokens`;
  }
  get tokgen(): string {
    return `${this.prefix}:tokgen`;
  }
  get parked(): string {
    return `${this.prefix}:parked`;
  }
  get active(): string {
    return `${this.prefix}:active`;
  }
  get known(): string {
    return `${this.prefix}:known`;
  }
  get events(): string {
    return `${this.prefix}:events`;
  }
  get sweepLock(): string {
    return `${this.prefix}:lock:sweep`;
  }
  refreshLock(portal: string): string {
    return `${this.prefix}:lock:oauth:${portal}`;
  }
  portal(portal: string, part: 'ready' | 'items' | 'inflight' | 'delayed' | 'failed' | 'stats'): string {
    return `${this.prefix}:p:${portal}:${part}`;
  }
  result(portal: string, key: string): string {
    return `${this.prefix}:r:${portal}:${key}`;
  }
}

/** BullMQ's queue of ticks (its keys are `PREFIX:notify:*`). */
export const TICK_QUEUE = 'notify';

/** The one tick job of a portal: deduplicated by this id. */
export function tickJobId(portal: string): string {
  return `tick-${portal}`;
}
