/**
 * The Lua scripts that make each Redis-backed method one atomic step. Every script that changes
 * an object publishes the object's key on the store's wake channel (the last ARGV), so waiting
 * callers on every manager try again.
 */

import { REFERENCE_SCRIPTS } from './redisReferences';
import { PRIMITIVE_SCRIPTS } from './redisPrimitiveScripts';
import { deliveryRecord, forgetAnswer, HOSTED_ELSEWHERE, recordAnswer, unlessHostedElsewhere, unlessOwnerHostedElsewhere } from './redisAnswers';

/** The suffix of the key marking an object's key as waited on by some manager's caller (see redisWakeups.ts). */
export const WAITED_MARK_SUFFIX = ':waited';

/** Lua publishing `key` on `channel` only while some manager's caller waits on it (its mark exists). */
const publishIfWaited = (channel: string, key: string): string =>
  `if redis.call('EXISTS', ${key} .. '${WAITED_MARK_SUFFIX}') == 1 then redis.call('PUBLISH', ${channel}, ${key}) end`;

/** A script: how many of its arguments are keys, and its text. */
export interface StoreScript {
  readonly keys: number;
  readonly text: string;
  /**
   * Where its call's answer record starts in ARGV (1-based, see redisAnswers.ts), for a script
   * that records the answer whenever it has an effect, in the same atomic step: a call whose
   * reply was lost is then told by its record whether it ran (`redisStore.ts`). Unset for
   * any other (one with an effect it records no answer for: a lock's ticket put in line).
   */
  readonly answerAt?: number;
  /**
   * With {@link answerAt}: whether a call with arguments `args` records its answer, for a script
   * that may instead forget the record it is passed (a lock's release undoing an acquire);
   * unset, every call passing a record records its answer.
   */
  readonly records?: (args: readonly (string | number)[]) => boolean;
  /**
   * 'none' for a script with no effect: it writes nothing, or only what any call of it would
   * write identically (an object's first state, made from its constructor's arguments when there
   * is none yet). Its call whose reply from Redis was lost changed nothing anyone could tell
   * from its not having run: it answers "not carried out" (`redisStore.ts`), and may be made
   * again. The one place this is decided for a call: a script with any other effect must not
   * be marked, and a call made of such reads needs nothing of its own to say so.
   */
  readonly effect?: 'none';
  /**
   * Whether a call with arguments `args`, made again, has no effect beyond its first's and
   * answers as it did (a waiter's leave at its timeout): its call whose reply from Redis was lost
   * is made again once Redis is back, at most the manager's lease later, and answers with that
   * reply (`redisStore.ts`). Unset: never made again by the store.
   */
  readonly repeatable?: (args: readonly (string | number)[]) => boolean;
}

/**
 * How a queue's list holds an item given back (SPEC 20.3): '#COUNT.PLACE TEXT', COUNT the
 * deliveries it had, PLACE its place in the queue's take order (a number from the delivery id
 * counter, taken by the get that first took it), TEXT the item (JSON text never starts with '#');
 * '#COUNT TEXT' for one given back without a place (a PriorityQueue's delivery); a plain item is
 * its text. The scripts that read or write such items start with these functions; a PriorityQueue
 * reads them in `redisPriorityQueue.ts`.
 *
 * `putBack` puts items given back (`back`: {place, stored} by ascending place) at the get end of
 * list `key` ('L' or 'R'), each among the items with a place there at its place: the items at the
 * get end taken before the last of them are taken off, merged with them, and put back. So items
 * given back come out in the order they were taken, however their give-backs are spread.
 */
export const RETURNED_ITEMS = `
local function unmarked(raw)
  local count, place, text = string.match(raw, '^#(%d+)%.?(%d*) (.*)$')
  if count then return tonumber(count), text, tonumber(place) end
  return 0, raw, nil
end
local function marked(count, text, place)
  if place then return '#' .. count .. '.' .. string.format('%d', place) .. ' ' .. text end
  if count > 0 then return '#' .. count .. ' ' .. text end
  return text
end
local function putBack(key, at, back)
  local last = back[#back].place
  local ahead = {}
  while true do
    local first
    if at == 'L' then first = redis.call('LINDEX', key, 0) else first = redis.call('LINDEX', key, -1) end
    if not first then break end
    local _, _, place = unmarked(first)
    if not place or place > last then break end
    if at == 'L' then redis.call('LPOP', key) else redis.call('RPOP', key) end
    ahead[#ahead + 1] = { place = place, stored = first }
  end
  local all, i, j = {}, 1, 1
  while i <= #ahead or j <= #back do
    if j > #back or (i <= #ahead and ahead[i].place < back[j].place) then
      all[#all + 1] = ahead[i]
      i = i + 1
    else
      all[#all + 1] = back[j]
      j = j + 1
    end
  end
  local length
  for n = #all, 1, -1 do
    if at == 'L' then length = redis.call('LPUSH', key, all[n].stored) else length = redis.call('RPUSH', key, all[n].stored) end
  end
  return length
end`;

/** The scripts, by the command name ioredis defines for each. */
export const STORE_SCRIPTS = {
  /**
   * Queue put. KEYS: items, unfinished. ARGV: maxsize, item, channel, key, [answer record, see
   * redisAnswers.ts]. Returns {put, length, unfinished}: put is 1, or 0 when a bounded queue is
   * full. Published only while somebody waits.
   */
  smQueuePut: {
    keys: 2,
    answerAt: 5,
    text: `
local maxsize = tonumber(ARGV[1])
-- Only a bounded queue needs its length before the put (RPUSH gives it after).
if maxsize > 0 then
  local length = redis.call('LLEN', KEYS[1])
  if length >= maxsize then return { 0, length, tonumber(redis.call('GET', KEYS[2]) or '0') } end
end
local length = redis.call('RPUSH', KEYS[1], ARGV[2])
local unfinished = redis.call('INCR', KEYS[2])
${publishIfWaited('ARGV[3]', 'ARGV[4]')}
${recordAnswer(5, "'null'")}
return { 1, length, unfinished }`,
  },
  /**
   * Queue get. KEYS: items, the delivery id counter. ARGV: end ('L' FIFO, 'R' LIFO), channel, key,
   * [answer record]. Returns {item, length, place}, item nil when the queue is empty; place: the
   * item's place in the take order (see RETURNED_ITEMS), kept from an item given back, else the
   * counter's next. The change is published while somebody waits: a putter waiting for room tries again.
   */
  smQueueTake: {
    keys: 2,
    answerAt: 4,
    text: `${RETURNED_ITEMS}
local item
if ARGV[1] == 'L' then item = redis.call('LPOP', KEYS[1]) else item = redis.call('RPOP', KEYS[1]) end
if not item then return { false, 0 } end
${publishIfWaited('ARGV[2]', 'ARGV[3]')}
-- An item that came back from a delivery: a plain get takes it as any item.
local _, text, place = unmarked(item)
if not place then place = redis.call('INCR', KEYS[2]) end
${recordAnswer(4, 'text')}
return { text, redis.call('LLEN', KEYS[1]), place }`,
  },
  /**
   * An item taken whose caller never received it goes back where the next get finds it first,
   * at its place among the items given back there (see RETURNED_ITEMS), once: the give-back's
   * mark, kept `mark ms`, says it was made, so that one made again (its reply lost, see
   * `redisGiveBacks.ts`) is not made twice. KEYS: items, the give-back's mark. ARGV: end ('L' or
   * 'R'), item, channel, key, mark ms, its place in the take order ('' when unknown: to the very
   * front), [the get's give-back record: its answer record, forgotten, and this manager's id].
   * Returns the length, or -1 when the give-back was made already, or HOSTED_ELSEWHERE when
   * another manager hosts the get's session now (see `unlessHostedElsewhere`).
   */
  smQueuePutBack: {
    keys: 2,
    text: `${RETURNED_ITEMS}
${unlessHostedElsewhere(7, String(HOSTED_ELSEWHERE))}
if not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[5]) then return -1 end
local length
local place = tonumber(ARGV[6])
if place then
  length = putBack(KEYS[1], ARGV[1], { { place = place, stored = marked(0, ARGV[2], place) } })
elseif ARGV[1] == 'L' then
  length = redis.call('LPUSH', KEYS[1], ARGV[2])
else
  length = redis.call('RPUSH', KEYS[1], ARGV[2])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
${forgetAnswer(7)}
return length`,
  },
  /**
   * Queue task_done. KEYS: unfinished. ARGV: channel, key, [answer record]. Returns the count
   * left, or -1 when there was none to finish. At zero, the change wakes every join.
   */
  smQueueTaskDone: {
    keys: 1,
    answerAt: 3,
    text: `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n <= 0 then return -1 end
n = redis.call('DECR', KEYS[1])
if n == 0 then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
${recordAnswer(3, "'null'")}
return n`,
  },
  /**
   * A page of a queue's items in get order, for inspection. KEYS: items. ARGV: end ('L' or 'R'),
   * offset, limit. Returns {length, item...}.
   */
  smQueuePeek: {
    keys: 1,
    effect: 'none',
    text: `${RETURNED_ITEMS}
local offset, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local page
if ARGV[1] == 'L' then
  page = redis.call('LRANGE', KEYS[1], offset, offset + limit - 1)
else
  page = redis.call('LRANGE', KEYS[1], -offset - limit, -offset - 1)
  local n = #page
  for i = 1, math.floor(n / 2) do page[i], page[n - i + 1] = page[n - i + 1], page[i] end
end
for i = 1, #page do
  local _, text = unmarked(page[i])
  page[i] = text
end
table.insert(page, 1, redis.call('LLEN', KEYS[1]))
return page`,
  },
  /**
   * An object kept whole, read for inspection: its stored state, or ARGV[1] (the state its
   * constructor's arguments make) when there is none yet, writing nothing, since a peek takes
   * nothing and must not bring back the keys of an object deleted meanwhile. KEYS: state.
   */
  smWholeRead: {
    keys: 1,
    effect: 'none',
    text: `return redis.call('GET', KEYS[1]) or ARGV[1]`,
  },
  /**
   * An object kept whole (dict, list, Namespace...): its stored state and version, the state
   * made from ARGV[1] (its constructor's arguments) when there is none yet. KEYS: state,
   * version. Returns {version, state}.
   */
  smWholeLoad: {
    keys: 2,
    effect: 'none',
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
   * again on the newer state). KEYS: state, version. ARGV: version read, new state, [answer
   * record, the answer's text]. A save that found another version records nothing: its call,
   * its reply lost, is then not carried out.
   */
  smWholeSave: {
    keys: 2,
    answerAt: 3,
    text: `
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
${recordAnswer(3, 'ARGV[6]')}
return 1`,
  },
  /**
   * A PriorityQueue's heap, kept whole (see redisPriorityQueue.ts): replaces it if its version is
   * still the one read, adds ARGV[3] to the unfinished count, drops the first ARGV[6] items given
   * back (merged into the new heap), and publishes the change. With ARGV[7..12], the save is an
   * acknowledged get: the item taken goes into flight as in smQueueTakeAck. KEYS: heap, version,
   * unfinished, given back (a list, as the settling scripts fill it), in flight, delivery id
   * counter, held index. ARGV: version read, new heap, unfinished delta, channel, key, merged,
   * [owner, since, visible at, held entry, item, count ('' each when not taken into flight),
   * answer record (redisAnswers.ts), the answer's text ('' for the delivery made)]. Returns {saved, unfinished, id, in flight}:
   * saved 0 when another call changed the heap meanwhile; id false unless an item went into flight.
   */
  smHeapSave: {
    keys: 7,
    answerAt: 13,
    text: `
local unfinished = tonumber(redis.call('GET', KEYS[3]) or '0')
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= tonumber(ARGV[1]) then return { 0, unfinished, false, 0 } end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('INCR', KEYS[2])
local delta = math.max(tonumber(ARGV[3]), -unfinished)
if delta ~= 0 then unfinished = redis.call('INCRBY', KEYS[3], delta) end
if tonumber(ARGV[6]) > 0 then redis.call('LTRIM', KEYS[4], ARGV[6], -1) end
local id = false
if ARGV[7] and ARGV[7] ~= '' then
  id = 'd' .. redis.call('INCR', KEYS[6])
  redis.call('HSET', KEYS[5], id, cjson.encode({ owner = ARGV[7], count = tonumber(ARGV[12]), since = ARGV[8], visibleAt = ARGV[9], at = 'R', item = ARGV[11] }))
  redis.call('SADD', KEYS[7], ARGV[10])
end
redis.call('PUBLISH', ARGV[4], ARGV[5])
local answer = ARGV[16]
if answer == '' and id then answer = ${deliveryRecord('id', 'ARGV[12]', 'ARGV[11]')} end
${recordAnswer(13, 'answer')}
return { 1, unfinished, id, redis.call('HLEN', KEYS[5]) }`,
  },
  /**
   * A PriorityQueue's heap, unfinished count and the items given back since (not yet merged into
   * the heap). KEYS: heap, version, unfinished, given back. Returns {version, heap or false,
   * unfinished, item...}.
   */
  smHeapLoad: {
    keys: 4,
    effect: 'none',
    text: `
local out = redis.call('LRANGE', KEYS[4], 0, -1)
table.insert(out, 1, tonumber(redis.call('GET', KEYS[3]) or '0'))
table.insert(out, 1, redis.call('GET', KEYS[1]))
table.insert(out, 1, tonumber(redis.call('GET', KEYS[2]) or '0'))
return out`,
  },
  /**
   * Event set. KEYS: event (a hash: flag, and gen, counting the times the flag went from clear to
   * set). ARGV: channel, key, [answer record]. Wakes every waiter: each returns True once it sees
   * the flag set or gen moved past the one it started with, even if the flag was cleared again meanwhile.
   */
  smEventSet: {
    keys: 1,
    answerAt: 3,
    text: `
if redis.call('HGET', KEYS[1], 'flag') ~= '1' then
  redis.call('HSET', KEYS[1], 'flag', '1')
  redis.call('HINCRBY', KEYS[1], 'gen', 1)
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
${recordAnswer(3, "'null'")}
return 1`,
  },
  /** Event clear. KEYS: event. ARGV: [answer record]. */
  smEventClear: {
    keys: 1,
    answerAt: 1,
    text: `redis.call('HSET', KEYS[1], 'flag', '0')
${recordAnswer(1, "'null'")}
return 1`,
  },
  /** Event state. KEYS: event. Returns {flag (0 or 1), gen}. */
  smEventState: {
    keys: 1,
    effect: 'none',
    text: `
local state = redis.call('HMGET', KEYS[1], 'flag', 'gen')
return { state[1] == '1' and 1 or 0, tonumber(state[2] or '0') }`,
  },
  /**
   * Acknowledged get (SPEC 20.3): takes the next item into flight, owned by a session, in one
   * step. KEYS: items, in flight (a hash: delivery id to the entry as JSON), the delivery id
   * counter, the owner's manager's held index. ARGV: end ('L' or 'R'), owner, since (ms), visible
   * at (ms, or '' for none), held entry, channel, key, [answer record]. An item that came back from a delivery
   * (see RETURNED_ITEMS) counts one more delivery and keeps its place in the take order; any other
   * takes its delivery id's number as its place. Returns {id, item, count, length, in flight}, id false when the queue is empty.
   */
  smQueueTakeAck: {
    keys: 4,
    answerAt: 8,
    text: `${RETURNED_ITEMS}
local raw
if ARGV[1] == 'L' then raw = redis.call('LPOP', KEYS[1]) else raw = redis.call('RPOP', KEYS[1]) end
if not raw then return { false, false, 0, 0, redis.call('HLEN', KEYS[2]) } end
local count, text, place = unmarked(raw)
count = count + 1
local n = redis.call('INCR', KEYS[3])
local id = 'd' .. n
redis.call('HSET', KEYS[2], id, cjson.encode({ owner = ARGV[2], count = count, since = ARGV[3], visibleAt = ARGV[4], at = ARGV[1], item = text, place = place or n }))
redis.call('SADD', KEYS[4], ARGV[5])
redis.call('PUBLISH', ARGV[6], ARGV[7])
${recordAnswer(8, deliveryRecord('id', 'count', 'text'))}
return { id, text, count, redis.call('LLEN', KEYS[1]), redis.call('HLEN', KEYS[2]) }`,
  },
  /**
   * Settles one delivery if the owner holds it: 'ack' (gone for good), 'back' (a nack or its
   * visibility timeout: to the front, counted as delivered) or 'undelivered' (its answer never
   * reached the caller: to the front, this delivery not counted), at its place in the take order
   * among the items given back there (see RETURNED_ITEMS; a delivery with no place, a
   * PriorityQueue's, at the very front). KEYS: in flight, items. ARGV:
   * delivery id, owner, how, channel, key, [for 'undelivered': the get's give-back record, its
   * answer record forgotten, see smQueuePutBack]. Returns {settled (0 or 1, or HOSTED_ELSEWHERE:
   * another manager hosts the get's session now), length, in flight}.
   */
  smDeliverySettle: {
    keys: 2,
    text: `${RETURNED_ITEMS}
${unlessHostedElsewhere(6, `{ ${HOSTED_ELSEWHERE}, redis.call('LLEN', KEYS[2]), redis.call('HLEN', KEYS[1]) }`)}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local e = raw and cjson.decode(raw)
if not e or e.owner ~= ARGV[2] then return { 0, redis.call('LLEN', KEYS[2]), redis.call('HLEN', KEYS[1]) } end
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[3] ~= 'ack' then
  local count = e.count
  if ARGV[3] == 'undelivered' then count = count - 1 end
  local stored = marked(count, e.item, e.place)
  if e.place then
    putBack(KEYS[2], e.at, { { place = e.place, stored = stored } })
  elseif e.at == 'L' then
    redis.call('LPUSH', KEYS[2], stored)
  else
    redis.call('RPUSH', KEYS[2], stored)
  end
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
${forgetAnswer(6)}
return { 1, redis.call('LLEN', KEYS[2]), redis.call('HLEN', KEYS[1]) }`,
  },
  /**
   * Gives back every delivery of one owner ('owner': a session ended), or of every session of
   * one manager ('manager': its lease ran out), to the front, counted as delivered, each at its
   * place in the take order among the items given back there (see RETURNED_ITEMS), so they come
   * out again in the order they were taken; those with no place (a PriorityQueue's) in the order
   * they were first delivered, at the very front. Idempotent. KEYS: in flight,
   * items. ARGV: owner or manager id, 'owner' or 'manager', channel, key, [for 'owner': the
   * owner's session lease key and this manager's id, see `unlessOwnerHostedElsewhere`]. Returns
   * how many went back, or HOSTED_ELSEWHERE when another manager hosts the owner's session now.
   */
  smDeliveriesReturn: {
    keys: 2,
    text: `${RETURNED_ITEMS}
${unlessOwnerHostedElsewhere(5, String(HOSTED_ELSEWHERE))}
local all = redis.call('HGETALL', KEYS[1])
local back = {}
local managerPrefix = ARGV[1] .. '/'
for i = 1, #all, 2 do
  local e = cjson.decode(all[i + 1])
  local mine
  if ARGV[2] == 'owner' then mine = e.owner == ARGV[1] else mine = string.sub(e.owner, 1, #managerPrefix) == managerPrefix end
  if mine then back[#back + 1] = { n = tonumber(string.sub(all[i], 2)), id = all[i], e = e } end
end
table.sort(back, function(a, b) return a.n < b.n end)
local placed, at = {}, nil
for i = #back, 1, -1 do
  local e = back[i].e
  local stored = marked(e.count, e.item, e.place)
  if e.place then
    placed[#placed + 1] = { place = e.place, stored = stored }
    at = e.at
  elseif e.at == 'L' then
    redis.call('LPUSH', KEYS[2], stored)
  else
    redis.call('RPUSH', KEYS[2], stored)
  end
  redis.call('HDEL', KEYS[1], back[i].id)
end
if #placed > 0 then
  table.sort(placed, function(a, b) return a.place < b.place end)
  putBack(KEYS[2], at, placed)
end
if #back > 0 then redis.call('PUBLISH', ARGV[3], ARGV[4]) end
return #back`,
  },
  /**
   * The deliveries one owner holds, in the order they were made. KEYS: in flight. ARGV: owner.
   * Returns {id, count, since, visibleAt ('' for none), ...}.
   */
  smDeliveriesOf: {
    keys: 1,
    effect: 'none',
    text: `
local all = redis.call('HGETALL', KEYS[1])
local mine = {}
for i = 1, #all, 2 do
  local e = cjson.decode(all[i + 1])
  if e.owner == ARGV[1] then mine[#mine + 1] = { n = tonumber(string.sub(all[i], 2)), id = all[i], e = e } end
end
table.sort(mine, function(a, b) return a.n < b.n end)
local out = {}
for _, d in ipairs(mine) do
  out[#out + 1] = d.id
  out[#out + 1] = tostring(d.e.count)
  out[#out + 1] = tostring(d.e.since)
  out[#out + 1] = tostring(d.e.visibleAt or '')
end
return out`,
  },
  /** Queue state. KEYS: items, unfinished. Returns {length, unfinished}. */
  smQueueState: {
    keys: 2,
    effect: 'none',
    text: `return { redis.call('LLEN', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0') }`,
  },
  // References to group-wide objects (redisReferences.ts).
  ...REFERENCE_SCRIPTS,
  // Lock, RLock, Semaphore, BoundedSemaphore, Condition and Barrier.
  ...PRIMITIVE_SCRIPTS,
  /**
   * Inspection's Remove Item and Edit Item on a queue (itemEdits.ts): the item at an index in get
   * order, removed or replaced only if it is still the stored text the tool's check read. KEYS:
   * items, unfinished. ARGV: end ('L' or 'R'), index, expected text ('' only reads), new text (''
   * removes), channel, key. Returns {done, length, stored text at the index or false, unfinished,
   * the item's text}: the stored text is what the next call expects, marked when the item came
   * back from a delivery (see RETURNED_ITEMS; a replacement is a new item, unmarked). A
   * removal counts as a task done (never below 0) and is published: a putter waiting for room and
   * a join try again. Redis has no remove-at-index: the item is overwritten with a marker no value
   * text can be (value texts are JSON) and that one marker removed, scanning from the nearer end.
   */
  smQueueEditItem: {
    keys: 2,
    text: `${RETURNED_ITEMS}
local index = tonumber(ARGV[2])
local at = index
if ARGV[1] == 'R' then at = -index - 1 end
local length = redis.call('LLEN', KEYS[1])
local unfinished = tonumber(redis.call('GET', KEYS[2]) or '0')
if index >= length then return { 0, length, false, unfinished } end
local now = redis.call('LINDEX', KEYS[1], at)
local _, text = unmarked(now)
if ARGV[3] == '' or now ~= ARGV[3] then return { 0, length, now, unfinished, text } end
if ARGV[4] ~= '' then
  redis.call('LSET', KEYS[1], at, ARGV[4])
  return { 1, length, now, unfinished, text }
end
local marker = '<removed by inspection>'
redis.call('LSET', KEYS[1], at, marker)
local fromLeft = index
if ARGV[1] == 'R' then fromLeft = length - 1 - index end
if fromLeft * 2 < length then redis.call('LREM', KEYS[1], 1, marker) else redis.call('LREM', KEYS[1], -1, marker) end
if unfinished > 0 then unfinished = redis.call('DECR', KEYS[2]) end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return { 1, length - 1, now, unfinished, text }`,
  },
} as const satisfies Record<string, StoreScript>;

/** A script's command name. */
export type ScriptName = keyof typeof STORE_SCRIPTS;
