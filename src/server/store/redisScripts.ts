/**
 * The Lua scripts that make each Redis-backed method one atomic step. Every script that changes
 * an object publishes the object's key on the store's wake channel (the last ARGV), so waiting
 * callers on every manager try again.
 */

/** A script: how many of its arguments are keys, and its text. */
export interface StoreScript {
  readonly keys: number;
  readonly text: string;
}

/** The scripts, by the command name ioredis defines for each. */
export const STORE_SCRIPTS = {
  /**
   * Queue put. KEYS: items, unfinished. ARGV: maxsize, item, channel, key. Returns {put, length,
   * unfinished}: put is 1, or 0 when a bounded queue is full.
   */
  smQueuePut: {
    keys: 2,
    text: `
local maxsize = tonumber(ARGV[1])
local length = redis.call('LLEN', KEYS[1])
if maxsize > 0 and length >= maxsize then return { 0, length, tonumber(redis.call('GET', KEYS[2]) or '0') } end
length = redis.call('RPUSH', KEYS[1], ARGV[2])
local unfinished = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return { 1, length, unfinished }`,
  },
  /**
   * Queue get. KEYS: items. ARGV: end ('L' FIFO, 'R' LIFO), channel, key. Returns {item,
   * length}, item nil when the queue is empty. The change is published: a putter waiting for room
   * tries again.
   */
  smQueueTake: {
    keys: 1,
    text: `
local item
if ARGV[1] == 'L' then item = redis.call('LPOP', KEYS[1]) else item = redis.call('RPOP', KEYS[1]) end
if not item then return { false, 0 } end
redis.call('PUBLISH', ARGV[2], ARGV[3])
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
   * Returns {saved, unfinished}: saved 0 when another call changed the heap meanwhile. The count
   * never goes below 0: a removal by inspection (delta -1) may come after a task_done that the
   * count it read did not see yet.
   */
  smHeapSave: {
    keys: 3,
    text: `
local unfinished = tonumber(redis.call('GET', KEYS[3]) or '0')
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return { 0, unfinished } end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
local delta = math.max(tonumber(ARGV[3]), -unfinished)
if delta ~= 0 then unfinished = redis.call('INCRBY', KEYS[3], delta) end
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
  /**
   * Inspection's Remove Item and Edit Item on a queue (itemEdits.ts): the item at an index in get
   * order, removed or replaced only if it is still the stored text the tool's check read. KEYS:
   * items, unfinished. ARGV: end ('L' or 'R'), index, expected text ('' only reads), new text (''
   * removes), channel, key. Returns {done, length, text at the index or false, unfinished}. A
   * removal counts as a task done (never below 0) and is published: a putter waiting for room and
   * a join try again. Redis has no remove-at-index: the item is overwritten with a marker no value
   * text can be (value texts are JSON) and that one marker removed, scanning from the nearer end.
   */
  smQueueEditItem: {
    keys: 2,
    text: `
local index = tonumber(ARGV[2])
local at = index
if ARGV[1] == 'R' then at = -index - 1 end
local length = redis.call('LLEN', KEYS[1])
local unfinished = tonumber(redis.call('GET', KEYS[2]) or '0')
if index >= length then return { 0, length, false, unfinished } end
local now = redis.call('LINDEX', KEYS[1], at)
if ARGV[3] == '' or now ~= ARGV[3] then return { 0, length, now, unfinished } end
if ARGV[4] ~= '' then
  redis.call('LSET', KEYS[1], at, ARGV[4])
  return { 1, length, now, unfinished }
end
local marker = '<removed by inspection>'
redis.call('LSET', KEYS[1], at, marker)
local fromLeft = index
if ARGV[1] == 'R' then fromLeft = length - 1 - index end
if fromLeft * 2 < length then redis.call('LREM', KEYS[1], 1, marker) else redis.call('LREM', KEYS[1], -1, marker) end
if unfinished > 0 then unfinished = redis.call('DECR', KEYS[2]) end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return { 1, length - 1, now, unfinished }`,
  },
} as const satisfies Record<string, StoreScript>;

/** A script's command name. */
export type ScriptName = keyof typeof STORE_SCRIPTS;
