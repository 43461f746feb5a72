/**
 * Runs of calls in a batch (`redisScriptBatch.ts`): consecutive calls of one script on the same
 * keys whose arguments differ in the item alone (many puts on one queue, many gets of it) go as
 * one call of a run function, which does what the calls would have done one after the other with
 * one command of each kind (one RPUSH of every item, one LRANGE and one LTRIM for every get)
 * and answers with one short reply from which each call's own reply is worked out. With many
 * calls in flight on one queue, the calls of a turn are almost all such runs: Redis then runs
 * one Lua function and a few commands per run instead of per call, and reads one argument per
 * call instead of six.
 *
 * A run keeps each call's result and the order of effects: it only ever joins calls that are
 * next to each other in the batch (a put is never moved past a get), and what it answers each
 * call is what that call alone would have answered at its place. A run that Redis refuses (a key
 * of another type) fails each of its calls with that error: each call alone would have failed
 * with it too, the first one's effect being the same (for a put, its item is pushed before the
 * unfinished count refuses it, in both).
 */

import type { ScriptName } from './redisScripts';

/** How the calls of a script are joined into runs. */
export interface RunOf {
  /** The run function's name in the batch script. */
  readonly name: string;
  /**
   * Which of a call's arguments is its item, the one that may differ between the calls of a run
   * (the others must be the same), given to the run function in call order after the others.
   */
  readonly item: number | undefined;
  /** Lua: the run function, reading its keys from `KEYS[k + n]` and, in `ARGV`, its count at `a + 1`, then the calls' common arguments, then their items. */
  readonly lua: string;
  /** Call `i`'s reply (0-based, of `count`) from the run's reply (its Buffers already text, and {@link split}). */
  replyOf(reply: readonly unknown[], i: number, count: number): unknown;
  /** Readies the run's reply for {@link replyOf}, once, in place. */
  split?(reply: unknown[]): void;
}

/**
 * Puts on one queue (`smQueuePut`, KEYS items and unfinished, ARGV maxsize, item, channel, key).
 * ARGV after the count: maxsize, channel, key, items. As many as fit under a bounded queue's
 * maxsize go in (a put that finds the queue full leaves it full for the puts after it, as no get
 * comes between); returns {items put, length, unfinished} after the run. Put `i` answers
 * {1, its length, its unfinished} when it went in, else {0, length, unfinished} as after the run.
 */
const PUT_RUN: RunOf = {
  name: 'smQueuePutRun',
  item: 1,
  lua: `local function smQueuePutRun(k, a)
  local n, maxsize = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local items = KEYS[k + 1]
  local put, length = n, nil
  if maxsize > 0 then
    length = redis.call('LLEN', items)
    put = math.max(0, math.min(n, maxsize - length))
  end
  if put == 0 then return { 0, length, tonumber(redis.call('GET', KEYS[k + 2]) or '0') } end
  -- unpack has a bound on how many values it gives at once (Lua's C stack).
  local first = a + 5
  local last = first + put - 1
  for from = first, last, 1000 do length = redis.call('RPUSH', items, unpack(ARGV, from, math.min(from + 999, last))) end
  local unfinished = redis.call('INCRBY', KEYS[k + 2], put)
  if waited(ARGV[a + 4]) then publish(ARGV[a + 3], ARGV[a + 4]) end
  return { put, length, unfinished }
end`,
  replyOf(reply, i) {
    const [put, length, unfinished] = reply as [number, number, number];
    return i < put ? [1, length - put + 1 + i, unfinished - put + 1 + i] : [0, length, unfinished];
  },
};

/**
 * What separates the items of a run of gets in its reply: a control character, which JSON text
 * (an item's text, see `valueText.ts`; a returned item's mark is digits) never holds unescaped.
 */
const ITEM_SEPARATOR = '\x1f';

/**
 * Gets from one queue (`smQueueTake`, KEYS items and the delivery id counter, ARGV end, channel,
 * key): no item per call. ARGV after the count: end ('L' FIFO, 'R' LIFO), channel, key. Takes up
 * to count items from the end in get order, returned items unmarked as a get takes them (a mark
 * can only follow a separator); returns {items taken, length after, the items each after a
 * separator, their places in the take order}: the items one string, which both Redis and the
 * manager handle in one piece. Get `i` answers {its item, the length after it, its place} while
 * there were items, then {false, 0}.
 */
const TAKE_RUN: RunOf = {
  name: 'smQueueTakeRun',
  item: undefined,
  lua: `local function smQueueTakeRun(k, a)
  local n, items = tonumber(ARGV[a + 1]), KEYS[k + 1]
  local taken
  if ARGV[a + 2] == 'L' then
    taken = redis.call('LRANGE', items, 0, n - 1)
    if #taken > 0 then redis.call('LTRIM', items, #taken, -1) end
  else
    taken = redis.call('LRANGE', items, -n, -1)
    local got = #taken
    if got > 0 then redis.call('LTRIM', items, 0, -got - 1) end
    for i = 1, math.floor(got / 2) do taken[i], taken[got - i + 1] = taken[got - i + 1], taken[i] end
  end
  local got = #taken
  if got == 0 then return { 0, 0 } end
  if waited(ARGV[a + 4]) then publish(ARGV[a + 3], ARGV[a + 4]) end
  -- Each item's place in the take order: kept by an item given back, the counter's next for any other.
  local places, fresh = {}, 0
  for i = 1, got do
    local _, _, place = unmarked(taken[i])
    places[i] = place or false
    if not place then fresh = fresh + 1 end
  end
  if fresh > 0 then
    local counter = redis.call('INCRBY', KEYS[k + 2], fresh) - fresh
    for i = 1, got do
      if not places[i] then
        counter = counter + 1
        places[i] = counter
      end
    end
  end
  local joined = '${ITEM_SEPARATOR}' .. table.concat(taken, '${ITEM_SEPARATOR}')
  if string.find(joined, '${ITEM_SEPARATOR}#', 1, true) then joined = string.gsub(joined, '${ITEM_SEPARATOR}#%d+%.?%d* ', '${ITEM_SEPARATOR}') end
  return { got, redis.call('LLEN', items), joined, places }
end`,
  replyOf(reply, i) {
    const [got, length] = reply as [number, number];
    if (i >= got) return [null, 0];
    return [(reply[4] as string[])[i], length + got - 1 - i, (reply[3] as number[])[i]];
  },
  split(reply) {
    // The items once, in place of their joined text, for each call's reply to take its own.
    if (reply.length === 4) (reply as unknown[]).push((reply[2] as string).slice(1).split(ITEM_SEPARATOR));
  },
};

/** The scripts whose calls are joined into runs, and how. */
export const RUNS: Readonly<Partial<Record<ScriptName, RunOf>>> = { smQueuePut: PUT_RUN, smQueueTake: TAKE_RUN };
