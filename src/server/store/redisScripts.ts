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
   * Queue put. KEYS: items, unfinished. ARGV: maxsize, item, channel, key. Returns 1 when put,
   * 0 when a bounded queue is full.
   */
  smQueuePut: {
    keys: 2,
    text: `
local maxsize = tonumber(ARGV[1])
if maxsize > 0 and redis.call('LLEN', KEYS[1]) >= maxsize then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`,
  },
  /**
   * Queue get. KEYS: items. ARGV: end ('L' FIFO, 'R' LIFO), channel, key. Returns the item, or
   * nil when the queue is empty. The change is published: a putter waiting for room tries again.
   */
  smQueueTake: {
    keys: 1,
    text: `
local item
if ARGV[1] == 'L' then item = redis.call('LPOP', KEYS[1]) else item = redis.call('RPOP', KEYS[1]) end
if not item then return false end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return item`,
  },
  /**
   * An item taken whose caller never received it goes back where the next get finds it first.
   * KEYS: items. ARGV: end ('L' or 'R'), item, channel, key.
   */
  smQueuePutBack: {
    keys: 1,
    text: `
if ARGV[1] == 'L' then redis.call('LPUSH', KEYS[1], ARGV[2]) else redis.call('RPUSH', KEYS[1], ARGV[2]) end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`,
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
  /** Queue state. KEYS: items, unfinished. Returns {length, unfinished}. */
  smQueueState: {
    keys: 2,
    text: `return { redis.call('LLEN', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0') }`,
  },
} as const satisfies Record<string, StoreScript>;

/** A script's command name. */
export type ScriptName = keyof typeof STORE_SCRIPTS;
