/**
 * The queue's Lua scripts: each one change of state, atomic in Redis, whatever number of
 * producers and workers run at once. Key names follow `keys.ts`; the scripts build them from the
 * prefix and portal id (one Redis, not Cluster: see the README).
 */
import type { Redis } from 'ioredis';

/** Current time in ms: the caller's clock when given (tests), else Redis's own `TIME`; and `keep`. */
const NOW = `
local function clock(given)
  local n = tonumber(given)
  if n and n > 0 then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Lengthen a key's life, never shorten it: a ledger may hold a slice later than this call's own.
local function keep(key, ms)
  local left = redis.call('PTTL', key)
  if left == -1 or (left >= 0 and left < ms) then redis.call('PEXPIRE', key, math.ceil(ms)) end
end
`;

/**
 * Add one notification unless its key is known. The result record is the deduplication record:
 * written with the item, in the same step, and kept for the TTL after delivery.
 * KEYS: ready, items, result, active, known. ARGV: key, item JSON, ttl s, portal, result JSON.
 * Returns 0 (duplicate), or the ready list's length after the add.
 */
const ADD = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[4])
redis.call('SADD', KEYS[5], ARGV[4])
return n
`;

/**
 * One tick's turn: hand back what dead ticks held, promote due retries, ask the shared pacer, and
 * take at most `max` notifications if the portal's bucket and every method's operating budget
 * have room for them. Charges the bucket and the ledgers in the same step.
 *
 * ARGV: 1 prefix, 2 portal, 3 token, 4 max, 5 now (0 = Redis TIME), 6 capacity, 7 drain/s,
 * 8 headroom, 9 budget s (0 = off), 10 window ms, 11 threshold, 12 credential, 13 egress,
 * 14 default cost s, 15 slice ms, 16 the pacing scope (the portal's host: two portal ids that
 * reach one Bitrix24 portal share its limits; the portal id when absent).
 * Returns {'take', slice, key1, item1, attempts1, cost1, …} (slice: the start of the ledger slice the
 * charges went to, for LEARN to move them; cost: seconds charged per call) / {'wait', ms} /
 * {'idle', ms to the next retry or -1}.
 */
const TAKE = `${NOW}
local pfx, portal, token = ARGV[1], ARGV[2], ARGV[3]
local max = tonumber(ARGV[4])
local now = clock(ARGV[5])
local cap, drain, headroom = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local budget, window, threshold = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local cred, egress, defcost, slice = ARGV[12], ARGV[13], tonumber(ARGV[14]), tonumber(ARGV[15])
local scope = (ARGV[16] and ARGV[16] ~= '') and ARGV[16] or portal
local base = pfx .. ':p:' .. portal
local ready, items, inflight, delayed = base .. ':ready', base .. ':items', base .. ':inflight', base .. ':delayed'

-- Only one tick of a portal runs at a time (one BullMQ job per portal), so anything held under
-- another token belongs to a tick that died: back to the front, to go again under its TAG.
local held = redis.call('HGETALL', inflight)
local back = {}
for i = 1, #held, 2 do
  if held[i + 1] ~= token then back[#back + 1] = held[i] end
end
for i = #back, 1, -1 do
  redis.call('LPUSH', ready, back[i])
  redis.call('HDEL', inflight, back[i])
end

local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 500)
for _, k in ipairs(due) do
  redis.call('RPUSH', ready, k)
  redis.call('ZREM', delayed, k)
end

local keys = redis.call('LRANGE', ready, 0, max - 1)
if #keys == 0 then
  local nxt = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
  if #nxt == 0 then return {'idle', -1} end
  return {'idle', math.max(1, tonumber(nxt[2]) - now)}
end

-- The bucket: one request per batch, drained continuously (spec §4).
local bkey = pfx .. ':pace:b:' .. scope .. ':' .. egress
local b = redis.call('HMGET', bkey, 'level', 'ts')
local level = tonumber(b[1]) or 0
local ts = tonumber(b[2]) or now
level = math.max(0, level - math.max(0, now - ts) * drain / 1000)
local limit = math.max(1, cap - headroom)
if level + 1 > limit + 1e-9 then
  return {'wait', math.max(1, math.ceil((level + 1 - limit) * 1000 / drain))}
end

-- The operating ledgers: per method, a sum of charges in slices over the window.
local raw = redis.call('HMGET', items, unpack(keys))
local methods = {}
local room = {}
local take = 0
local counts = {}
local wait = 0
for i, k in ipairs(keys) do
  local item = raw[i] and cjson.decode(raw[i]) or nil
  local m = item and item.m or 'im.notify.personal.add'
  methods[i] = m
  if budget > 0 and room[m] == nil then
    local okey = pfx .. ':pace:o:' .. scope .. ':' .. cred .. ':' .. m
    local blocked = redis.call('PTTL', pfx .. ':pace:x:' .. scope .. ':' .. cred .. ':' .. m)
    local cost = tonumber(redis.call('GET', pfx .. ':pace:c:' .. scope .. ':' .. m)) or defcost
    local sum, oldest = 0, nil
    local s = redis.call('HGETALL', okey)
    for j = 1, #s, 2 do
      local start = tonumber(s[j])
      if start + slice + window <= now then
        redis.call('HDEL', okey, s[j])
      else
        sum = sum + tonumber(s[j + 1])
        if oldest == nil or start < oldest then oldest = start end
      end
    end
    local allow = math.floor((budget * threshold - sum) / math.max(cost, 1e-6) + 1e-9)
    -- A call dearer than the whole budget still goes alone into an empty window (the portal lets
    -- the call that crosses complete), rather than wait for a window that never has room.
    if allow < 1 and sum <= 0 then allow = 1 end
    if blocked > 0 then
      allow = 0
      wait = math.max(wait, blocked)
    elseif allow < 1 then
      allow = 0
      wait = math.max(wait, (oldest or now) + slice + window - now)
    end
    room[m] = allow
    counts[m] = {0, cost, okey}
  end
  if budget > 0 then
    if room[m] < 1 then break end
    room[m] = room[m] - 1
    counts[m][1] = counts[m][1] + 1
  end
  take = i
end
if take == 0 then return {'wait', math.max(1, math.ceil(wait))} end

redis.call('HSET', bkey, 'level', tostring(level + 1), 'ts', tostring(now))
redis.call('PEXPIRE', bkey, math.ceil(cap * 1000 / drain) + 60000)
local at = tostring(math.floor(now - now % slice))
if budget > 0 then
  for _, c in pairs(counts) do
    if c[1] > 0 then
      redis.call('HINCRBYFLOAT', c[3], at, c[1] * c[2])
      keep(c[3], window + 2 * slice)
    end
  end
end

local out = {'take', at}
redis.call('LTRIM', ready, take, -1)
for i = 1, take do
  local k = keys[i]
  redis.call('HSET', inflight, k, token)
  local rkey = pfx .. ':r:' .. portal .. ':' .. k
  local r = redis.call('GET', rkey)
  local rec = r and cjson.decode(r) or {attempts = 0}
  rec.state = 'sending'
  rec.attempts = (tonumber(rec.attempts) or 0) + 1
  redis.call('SET', rkey, cjson.encode(rec), 'KEEPTTL')
  out[#out + 1] = k
  out[#out + 1] = raw[i] or ''
  out[#out + 1] = tostring(rec.attempts)
  out[#out + 1] = tostring(budget > 0 and counts[methods[i]][2] or 0)
end
return out
`;

/**
 * Record the outcomes of one batch. Only items still held under this tick's token are touched:
 * one taken back by another tick (after this one was thought dead) is that tick's to record.
 *
 * ARGV: 1 prefix, 2 portal, 3 token, 4 ttl s, 5 now (0 = TIME), 6 '1' when the portal answered
 * the batch (counted in the stats), then per item 5 values:
 * key, outcome (sent | failed | retry | back), notification id, due ms (retry), error JSON.
 * Outcomes: `sent`, `failed` (kept for requeueFailed), `retry` (after `due`), `back` (to the
 * front, the attempt not counted: limits, a stop).
 * Returns the number recorded.
 */
const SETTLE = `${NOW}
local pfx, portal, token, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = clock(ARGV[5])
local base = pfx .. ':p:' .. portal
local ready, items, inflight, delayed, failed, stats =
  base .. ':ready', base .. ':items', base .. ':inflight', base .. ':delayed', base .. ':failed', base .. ':stats'
local events = pfx .. ':events'
local back = {}
local done = 0
if ARGV[6] == '1' then redis.call('HINCRBY', stats, 'batches', 1) end
for i = 7, #ARGV, 5 do
  local k, outcome, nid, due, err = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  if redis.call('HGET', inflight, k) == token then
    redis.call('HDEL', inflight, k)
    local rkey = pfx .. ':r:' .. portal .. ':' .. k
    local r = redis.call('GET', rkey)
    local rec = r and cjson.decode(r) or {attempts = 1}
    rec.error = nil
    if err ~= '' then rec.error = cjson.decode(err) end
    if outcome == 'sent' then
      redis.call('HDEL', items, k)
      rec.state = 'sent'
      rec.notificationId = tonumber(nid)
      redis.call('HINCRBY', stats, 'sent', 1)
      redis.call('XADD', events, 'MAXLEN', '~', 10000, '*', 'type', 'sent', 'portal', portal, 'key', k, 'id', nid)
    elseif outcome == 'failed' then
      redis.call('SADD', failed, k)
      rec.state = 'failed'
      redis.call('XADD', events, 'MAXLEN', '~', 10000, '*', 'type', 'failed', 'portal', portal, 'key', k, 'error', err)
    elseif outcome == 'retry' then
      redis.call('ZADD', delayed, tonumber(due), k)
      rec.state = 'delayed'
    else
      back[#back + 1] = k
      rec.state = 'pending'
      rec.attempts = math.max(0, (tonumber(rec.attempts) or 1) - 1)
    end
    redis.call('SET', rkey, cjson.encode(rec), 'EX', ttl)
    done = done + 1
  end
end
for i = #back, 1, -1 do redis.call('LPUSH', ready, back[i]) end
return done
`;

/**
 * What a batch's answer taught the pacer. ARGV: 1 prefix, 2 pacing scope (see TAKE), 3 credential,
 * 4 now (0 = TIME; the answer has come back), 5 slice ms, 6 window ms, 7 the slice TAKE charged
 * the batch to ('' = none), 8 margin ms, then per method 5 values: method, calls, seconds charged
 * when taken, seconds the portal reported (processing summed; -1 unknown), the portal's
 * operating sum after the batch (-1 unknown).
 *
 * The batch's charge moves from the slice it was taken in to the slice of now + margin: the
 * portal counted the calls when the request arrived, up to now, so a charge stamped at the take
 * would leave the ledger before the portal forgets it (OPERATION_TIME_LIMIT with several
 * workers on a loaded machine).
 */
const LEARN = `${NOW}
local pfx, portal, cred = ARGV[1], ARGV[2], ARGV[3]
local now = clock(ARGV[4])
local slice, window = tonumber(ARGV[5]), tonumber(ARGV[6])
local taken, margin = ARGV[7], tonumber(ARGV[8])
local later = now + margin
local at = tostring(math.floor(later - later % slice))
for i = 9, #ARGV, 5 do
  local m, calls, charged, actual, operating = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  local okey = pfx .. ':pace:o:' .. portal .. ':' .. cred .. ':' .. m
  local held = charged
  if actual >= 0 and calls > 0 then
    redis.call('SET', pfx .. ':pace:c:' .. portal .. ':' .. m, tostring(actual / calls), 'EX', 86400)
    held = actual
  end
  if charged > 0 and taken ~= '' then
    -- Never below zero: the taken slice may have left the window (a batch slower than it).
    local was = tonumber(redis.call('HGET', okey, taken)) or 0
    local out = math.min(was, charged)
    if was - out <= 1e-9 then redis.call('HDEL', okey, taken)
    elseif out > 0 then redis.call('HINCRBYFLOAT', okey, taken, -out) end
  end
  if held > 0 then redis.call('HINCRBYFLOAT', okey, at, held) end
  if operating >= 0 then
    -- The portal's own sum is higher than the ledger's: someone else spends this budget too.
    local s = redis.call('HGETALL', okey)
    local sum = 0
    for j = 2, #s, 2 do sum = sum + tonumber(s[j]) end
    if operating > sum then redis.call('HINCRBYFLOAT', okey, at, operating - sum) end
  end
  if redis.call('EXISTS', okey) == 1 then keep(okey, window + 2 * slice + margin) end
end
return 1
`;

/**
 * The portal refused for its limits although the pacer let the batch go (another client behind
 * the same address, a clock apart): fill the bucket, or block the method until it resets.
 * ARGV: 1 prefix, 2 portal, 3 egress, 4 capacity, 5 now (0 = TIME), 6 credential, 7 method
 * ('' for the bucket), 8 block ms, 9 pacing scope (see TAKE).
 */
const PENALTY = `${NOW}
local pfx, portal, egress, cap = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = clock(ARGV[5])
local scope = (ARGV[9] and ARGV[9] ~= '') and ARGV[9] or portal
if ARGV[7] == '' then
  local bkey = pfx .. ':pace:b:' .. scope .. ':' .. egress
  redis.call('HSET', bkey, 'level', tostring(cap), 'ts', tostring(now))
else
  redis.call('SET', pfx .. ':pace:x:' .. scope .. ':' .. ARGV[6] .. ':' .. ARGV[7], '1', 'PX', math.max(1, tonumber(ARGV[8])))
end
redis.call('HINCRBY', pfx .. ':p:' .. portal .. ':stats', 'refused', 1)
return 1
`;

/**
 * A request reached the portal later than the pacer counted it (see `pace.ts`): top the bucket up
 * by the drain the portal missed, so the next check sees the level the portal has.
 * ARGV: 1 prefix, 2 pacing scope, 3 egress, 4 capacity, 5 drain/s, 6 now (0 = TIME), 7 requests to add.
 * Returns the level after, as a string.
 */
const LATE = `${NOW}
local pfx, scope, egress = ARGV[1], ARGV[2], ARGV[3]
local cap, drain = tonumber(ARGV[4]), tonumber(ARGV[5])
local now = clock(ARGV[6])
local add = tonumber(ARGV[7])
local bkey = pfx .. ':pace:b:' .. scope .. ':' .. egress
local b = redis.call('HMGET', bkey, 'level', 'ts')
local level = tonumber(b[1]) or 0
local ts = tonumber(b[2]) or now
level = math.max(0, level - math.max(0, now - ts) * drain / 1000)
-- The portal refuses rather than count past its capacity, so neither does its mirror here.
level = math.min(cap, level + add)
redis.call('HSET', bkey, 'level', tostring(level), 'ts', tostring(math.max(now, ts)))
redis.call('PEXPIRE', bkey, math.ceil(cap * 1000 / drain) + 60000)
return tostring(level)
`;

/**
 * Put a portal's failed notifications back in line, attempts reset. ARGV: prefix, portal, ttl s.
 * Returns how many.
 */
const REQUEUE = `
local pfx, portal, ttl = ARGV[1], ARGV[2], ARGV[3]
local base = pfx .. ':p:' .. portal
local keys = redis.call('SMEMBERS', base .. ':failed')
local n = 0
for _, k in ipairs(keys) do
  redis.call('SREM', base .. ':failed', k)
  if redis.call('HEXISTS', base .. ':items', k) == 1 then
    redis.call('RPUSH', base .. ':ready', k)
    local rkey = pfx .. ':r:' .. portal .. ':' .. k
    redis.call('SET', rkey, cjson.encode({state = 'pending', attempts = 0}), 'EX', ttl)
    n = n + 1
  end
end
if n > 0 then redis.call('SADD', pfx .. ':active', portal) end
return n
`;

/**
 * Whether a portal has work, for the sweeper: forgets a portal with none (atomically, so an item
 * added meanwhile is never missed). ARGV: prefix, portal. Returns 1 when it has work.
 */
const HAS_WORK = `
local pfx, portal = ARGV[1], ARGV[2]
local base = pfx .. ':p:' .. portal
local n = redis.call('LLEN', base .. ':ready') + redis.call('ZCARD', base .. ':delayed') + redis.call('HLEN', base .. ':inflight')
if n > 0 then return 1 end
redis.call('SREM', pfx .. ':active', portal)
return 0
`;

/**
 * Store a refreshed token pair if no one stored another since `gen` was read (the fencing
 * check), and release the refresh lock if still ours. ARGV: tokens key, gen key, lock key,
 * portal, expected gen, sealed pair, lock value. Returns the new generation, or -1.
 */
const STORE_TOKENS = `
local gen = tonumber(redis.call('HGET', ARGV[2], ARGV[4]) or '0')
if gen ~= tonumber(ARGV[5]) then return -1 end
if ARGV[6] ~= '' then redis.call('HSET', ARGV[1], ARGV[4], ARGV[6]) end
redis.call('HSET', ARGV[2], ARGV[4], gen + 1)
if redis.call('GET', ARGV[3]) == ARGV[7] then redis.call('DEL', ARGV[3]) end
return gen + 1
`;

/**
 * Un-park a portal for \`queue.resume\` in one step, only if it is still parked: bump its token
 * generation (so every worker asks its resolver again), drop the kept pair of a portal that is
 * not registered, clear the park and write the \`resumed\` event (as \`addResumed\` in
 * \`events.ts\` writes it). A second resume, or a \`set\` or \`reauthorize\` that un-parked it
 * first, finds it not parked and changes nothing: a tick may already be refreshing, and a second
 * bump would fence its new pair out. ARGV: parked key, tokgen key, tokens key, portals key,
 * events key, portal, events kept. Returns the reason it was parked for, or nil.
 */
const RESUME = `
local reason = redis.call('HGET', ARGV[1], ARGV[6])
if not reason then return false end
redis.call('HINCRBY', ARGV[2], ARGV[6], 1)
if redis.call('HEXISTS', ARGV[4], ARGV[6]) == 0 then redis.call('HDEL', ARGV[3], ARGV[6]) end
redis.call('HDEL', ARGV[1], ARGV[6])
redis.call('XADD', ARGV[5], 'MAXLEN', '~', ARGV[7], '*', 'type', 'resumed', 'portal', ARGV[6], 'reason', reason, 'by', 'resume')
return reason
`;

/** Release a lock only if it is still ours. ARGV: key, value. */
const UNLOCK = `
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('DEL', ARGV[1]) end
return 0
`;

const SCRIPTS = {
  b24qAdd: { lua: ADD, keys: 5 },
  b24qTake: { lua: TAKE, keys: 0 },
  b24qSettle: { lua: SETTLE, keys: 0 },
  b24qLearn: { lua: LEARN, keys: 0 },
  b24qPenalty: { lua: PENALTY, keys: 0 },
  b24qLate: { lua: LATE, keys: 0 },
  b24qRequeue: { lua: REQUEUE, keys: 0 },
  b24qHasWork: { lua: HAS_WORK, keys: 0 },
  b24qStoreTokens: { lua: STORE_TOKENS, keys: 0 },
  b24qUnlock: { lua: UNLOCK, keys: 0 },
  b24qResume: { lua: RESUME, keys: 0 },
} as const;

/** The name of one script. */
export type ScriptName = keyof typeof SCRIPTS;

type Arg = string | number;

/** Something that can run the scripts: a connection or a pipeline of one. */
interface Runner {
  [name: string]: unknown;
}

/**
 * Register the scripts on a connection (ioredis loads each by its hash and falls back to sending
 * the text after a restart of Redis that forgot them).
 */
export function defineScripts(redis: Redis): void {
  for (const [name, { lua, keys }] of Object.entries(SCRIPTS)) {
    redis.defineCommand(name, { lua, numberOfKeys: keys });
  }
}

/** Run script `name` on `target` (a connection from {@link defineScripts}, or its pipeline). */
export function run<T = unknown>(target: Redis | object, name: ScriptName, args: readonly Arg[]): Promise<T> {
  const fn = (target as Runner)[name] as (...a: Arg[]) => Promise<T>;
  return fn.apply(target, [...args]);
}
