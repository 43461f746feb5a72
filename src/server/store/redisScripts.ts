/**
 * The Lua scripts that make each Redis-backed method one atomic step. Every script that changes
 * an object publishes the object's key on the store's wake channel (the last ARGV), so waiting
 * callers on every manager try again.
 */

/** The suffix of the key marking an object's key as waited on by some manager's caller (see redisWakeups.ts). */
export const WAITED_MARK_SUFFIX = ':waited';

/** Lua publishing `key` on `channel` only while some manager's caller waits on it (its mark exists). */
const publishIfWaited = (channel: string, key: string): string =>
  `if redis.call('EXISTS', ${key} .. '${WAITED_MARK_SUFFIX}') == 1 then redis.call('PUBLISH', ${channel}, ${key}) end`;

/** A script: how many of its arguments are keys, and its text. */
export interface StoreScript {
  readonly keys: number;
  readonly text: string;
}

/** The scripts, by the command name ioredis defines for each. */
export const STORE_SCRIPTS = {
  /**
   * Queue put. KEYS: items, unfinished. ARGV: maxsize, item, channel, key. Returns {put, length,
   * unfinished}: put is 1, or 0 when a bounded queue is full. Published only while somebody waits.
   */
  smQueuePut: {
    keys: 2,
    text: `
local maxsize = tonumber(ARGV[1])
local length = redis.call('LLEN', KEYS[1])
if maxsize > 0 and length >= maxsize then return { 0, length, tonumber(redis.call('GET', KEYS[2]) or '0') } end
length = redis.call('RPUSH', KEYS[1], ARGV[2])
local unfinished = redis.call('INCR', KEYS[2])
${publishIfWaited('ARGV[3]', 'ARGV[4]')}
return { 1, length, unfinished }`,
  },
  /**
   * Queue get. KEYS: items. ARGV: end ('L' FIFO, 'R' LIFO), channel, key. Returns {item,
   * length}, item nil when the queue is empty. The change is published while somebody waits: a
   * putter waiting for room tries again.
   */
  smQueueTake: {
    keys: 1,
    text: `
local item
if ARGV[1] == 'L' then item = redis.call('LPOP', KEYS[1]) else item = redis.call('RPOP', KEYS[1]) end
if not item then return { false, 0 } end
${publishIfWaited('ARGV[2]', 'ARGV[3]')}
return { item, redis.call('LLEN', KEYS[1]) }`,
  },
  /**
   * An item taken whose caller never received it goes back where the next get finds it first.
   * KEYS: items. ARGV: end ('L' or 'R'), item, channel, key. Returns the length.
   */
  smQueuePutBack: {
    keys: 1,
    text: `
local length
if ARGV[1] == 'L' then length = redis.call('LPUSH', KEYS[1], ARGV[2]) else length = redis.call('RPUSH', KEYS[1], ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return length`,
  },
  /**
   * Queue task_done. KEYS: unfinished. ARGV: channel, key. Returns the count left, or -1 when
   * there was none to finish. At zero, the change wakes every join.
   */
  smQueueTaskDone: {
    keys: 1,
    text: `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n <= 0 then return -1 end
n = redis.call('DECR', KEYS[1])
if n == 0 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return n`,
  },
  /**
   * A page of a queue's items in get order, for inspection. KEYS: items. ARGV: end ('L' or 'R'),
   * offset, limit. Returns {length, item...}.
   */
  smQueuePeek: {
    keys: 1,
    text: `
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local page
if ARGV[1] == 'L' then
  page = redis.call('LRANGE', KEYS[1], offset, offset + limit - 1)
else
  page = redis.call('LRANGE', KEYS[1], -offset - limit, -offset - 1)
  local n = #page
  for i = 1, math.floor(n / 2) do page[i], page[n - i + 1] = page[n - i + 1], page[i] end
end
table.insert(page, 1, redis.call('LLEN', KEYS[1]))
return page`,
  },
  /**
   * An object kept whole (dict, list, Namespace...): its stored state and version, the state
   * made from ARGV[1] (its constructor's arguments) when there is none yet. KEYS: state,
   * version. Returns {version, state}.
   */
  smWholeLoad: {
    keys: 2,
    text: `
local state = redis.call('GET', KEYS[1])
if not state then
  redis.call('SET', KEYS[1], ARGV[1])
  return { redis.call('INCR', KEYS[2]), ARGV[1] }
end
return { tonumber(redis.call('GET', KEYS[2]) or '0'), state }`,
  },
  /**
   * Replaces an object's state if its version is still the one read (else 0: the method runs
   * again on the newer state). KEYS: state, version. ARGV: version read, new state.
   */
  smWholeSave: {
    keys: 2,
    text: `
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
return 1`,
  },
  /**
   * A PriorityQueue's heap, kept whole (see redisPriorityQueue.ts): replaces it if its version is
   * still the one read, adds ARGV[3] to the unfinished count, and publishes the change. KEYS:
   * heap, version, unfinished. ARGV: version read, new heap, unfinished delta, channel, key.
   * Returns {saved, unfinished}: saved 0 when another call changed the heap meanwhile.
   */
  smHeapSave: {
    keys: 3,
    text: `
local unfinished = tonumber(redis.call('GET', KEYS[3]) or '0')
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return { 0, unfinished } end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
if tonumber(ARGV[3]) ~= 0 then unfinished = redis.call('INCRBY', KEYS[3], ARGV[3]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return { 1, unfinished }`,
  },
  /** A PriorityQueue's heap and unfinished count. KEYS: heap, version, unfinished. Returns {version, heap or false, unfinished}. */
  smHeapLoad: {
    keys: 3,
    text: `return { tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('GET', KEYS[1]), tonumber(redis.call('GET', KEYS[3]) or '0') }`,
  },
  /**
   * Event set. KEYS: event (a hash: flag, and gen, counting the times the flag went from clear to
   * set). ARGV: channel, key. Wakes every waiter: each returns True once it sees the flag set or
   * gen moved past the one it started with, even if the flag was cleared again meanwhile.
   */
  smEventSet: {
    keys: 1,
    text: `
if redis.call('HGET', KEYS[1], 'flag') ~= '1' then
  redis.call('HSET', KEYS[1], 'flag', '1')
  redis.call('HINCRBY', KEYS[1], 'gen', 1)
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return 1`,
  },
  /** Event clear. KEYS: event. */
  smEventClear: {
    keys: 1,
    text: `redis.call('HSET', KEYS[1], 'flag', '0')
return 1`,
  },
  /** Event state. KEYS: event. Returns {flag (0 or 1), gen}. */
  smEventState: {
    keys: 1,
    text: `
local state = redis.call('HMGET', KEYS[1], 'flag', 'gen')
return { state[1] == '1' and 1 or 0, tonumber(state[2] or '0') }`,
  },
  /** Queue state. KEYS: items, unfinished. Returns {length, unfinished}. */
  smQueueState: {
    keys: 2,
    text: `return { redis.call('LLEN', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0') }`,
  },
} as const satisfies Record<string, StoreScript>;

/** A script's command name. */
export type ScriptName = keyof typeof STORE_SCRIPTS;
