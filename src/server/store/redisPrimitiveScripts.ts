/**
 * The Lua scripts of the synchronisation primitives kept in Redis (Lock, RLock, Semaphore,
 * BoundedSemaphore, Condition, Barrier; see `redisLocks.ts` and its siblings), merged into the
 * store's scripts (`redisScripts.ts`). As there, every script that frees something publishes the
 * object's key on the wake channel, and every script that grants a session a holding adds the
 * holding to the manager's held index in the same step (`redisLeases.ts`).
 *
 * Owners are global owner ids (`MANAGER/SESSION`). A give-back names its owners either `exact`ly
 * (one session ended) or by `prefix` (`MANAGER/`: every session of a dead manager).
 *
 * **First come, first served**, as in memory: an acquire that must wait puts a ticket
 * (`OWNER#DEPTH#ID` for a lock, `OWNER#ID` for a semaphore) in the object's queue, and whatever
 * frees the lock or a permit hands it to the longest-waiting ticket in the same script, so no
 * later caller can take it first. A free lock (a free permit) never has a queue. The waiter, woken
 * by the publish, finds its ticket granted; a waiter that times out or is withdrawn takes its
 * ticket out of the queue, or, granted meanwhile, keeps what it got (a timeout that lost the race)
 * or passes it on (withdrawn).
 */

import type { StoreScript } from './redisScripts';
import { forgetAnswer, HOSTED_ELSEWHERE, recordAnswer, unlessOwnerHostedElsewhere } from './redisAnswers';

/**
 * Lua: whether owner `o` is the one named by `who` in `mode` ('exact' or 'prefix'); and the
 * waiting tickets of queue `q` whose owners `who` names by prefix taken out of it.
 */
const MATCHES = `
local function matches(o, who, mode)
  if mode == 'exact' then return o == who end
  return string.sub(o, 1, #who) == who
end
local function dropTickets(q, who)
  for _, t in ipairs(redis.call('LRANGE', q, 0, -1)) do
    if matches(t, who, 'prefix') then redis.call('LREM', q, 0, t) end
  end
end`;

/**
 * Lua: a semaphore's hash (KEYS[1]: value, initial, held, bounded) made from ARGV[1] (the initial
 * value) and ARGV[2] (bounded: '1') the first time.
 */
const SEMAPHORE_INIT = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('HSET', KEYS[1], 'value', ARGV[1], 'initial', ARGV[1], 'held', 0, 'bounded', ARGV[2]) end`;

/** Lua: a barrier's break (KEYS[1] the barrier hash, KEYS[2] its parties; publishes on ARGV channel, key). */
const BARRIER_END = `
local function finish(parties, outcome, broken, channel, key)
  local all = redis.call('HGETALL', parties)
  for i = 1, #all, 2 do
    if all[i + 1] == 'w' then redis.call('HSET', parties, all[i], outcome) end
  end
  redis.call('HSET', KEYS[1], 'count', 0, 'broken', broken)
  redis.call('HINCRBY', KEYS[1], 'gen', 1)
  redis.call('PUBLISH', channel, key)
end`;

/**
 * Lua: frees the lock (KEYS[1]) and hands it to the longest-waiting ticket of queue `q`, if any;
 * publishes `key` on `channel`.
 */
const LOCK_HAND_OFF = `
local function handOff(q, channel, key)
  local t = redis.call('LPOP', q)
  if t then
    local owner, count = string.match(t, '^(.-)#(%d+)#')
    redis.call('HSET', KEYS[1], 'owner', owner, 'count', count, 'ticket', t)
  else
    redis.call('DEL', KEYS[1])
  end
  redis.call('PUBLISH', channel, key)
end`;

/**
 * Lua: a semaphore's free permits (KEYS[1], holders KEYS[2]) handed to the longest-waiting
 * tickets of queue `q`, one each, each granted ticket added to the set `granted`.
 */
const SEMAPHORE_HAND_OUT = `
local function handOut(q, granted)
  local value = tonumber(redis.call('HGET', KEYS[1], 'value') or '0')
  while value > 0 do
    local t = redis.call('LPOP', q)
    if not t then break end
    value = redis.call('HINCRBY', KEYS[1], 'value', -1)
    redis.call('HINCRBY', KEYS[1], 'held', 1)
    redis.call('HINCRBY', KEYS[2], string.match(t, '^(.-)#'), 1)
    redis.call('SADD', granted, t)
  end
end`;

/** The primitives' scripts, by command name. */
export const PRIMITIVE_SCRIPTS = {
  /**
   * Lock/RLock acquire. KEYS: lock (a hash: owner, count, and the ticket it was handed to), queue
   * (waiting tickets), held index, notified (a Condition's, or any key). ARGV: owner, count to
   * hold at, reentrant ('1': the owner goes one deeper), held entry, ticket (queued if the lock is
   * held; '' for a try that will not wait), the Condition waiter's ticket whose notification
   * taking the lock spends ('' for none), [answer record, see redisAnswers.ts: an acquire's].
   * Returns 1 taken, 2 one deeper, 0 held by another.
   */
  smLockAcquire: {
    keys: 4,
    // Its one effect without an answer, a ticket put in line, is undone as the call fails (`redisLocks.ts`).
    answerAt: 7,
    text: `
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'count', ARGV[2])
  redis.call('HDEL', KEYS[1], 'ticket')
  redis.call('SADD', KEYS[3], ARGV[4])
  if ARGV[6] ~= '' then redis.call('SREM', KEYS[4], ARGV[6]) end
  ${recordAnswer(7, "'true'")}
  return 1
end
if ARGV[3] == '1' and owner == ARGV[1] then
  redis.call('HINCRBY', KEYS[1], 'count', 1)
  ${recordAnswer(7, "'true'")}
  return 2
end
if ARGV[5] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[5])
  -- The waiter's manager's index names the lock from now on: if that manager dies, its ticket goes.
  redis.call('SADD', KEYS[3], ARGV[4])
end
return 0`,
  },
  /**
   * Whether a waiting ticket was handed the lock (and, for a Condition's waiter taking its lock
   * back, its notification spent). KEYS: lock, notified (a Condition's, or any key). ARGV:
   * ticket, the Condition waiter's ticket ('' for none), [answer record]. Returns 1 when it holds the lock now.
   */
  smLockGranted: {
    keys: 2,
    answerAt: 3,
    text: `
if redis.call('HGET', KEYS[1], 'ticket') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'ticket')
if ARGV[2] ~= '' then redis.call('SREM', KEYS[2], ARGV[2]) end
${recordAnswer(3, "'true'")}
return 1`,
  },
  /**
   * A waiting ticket leaves the lock's queue. KEYS: lock, queue. ARGV: ticket, why ('timeout': a
   * lock handed to it meanwhile is kept; 'withdrawn': passed on), channel, key, [answer record:
   * the acquire's, for a timeout, recorded when it keeps the lock]. Returns 1 when it holds the
   * lock after all, else 0.
   */
  smLockLeave: {
    keys: 2,
    answerAt: 5,
    text: `${LOCK_HAND_OFF}
if redis.call('LREM', KEYS[2], 0, ARGV[1]) > 0 then return 0 end
if redis.call('HGET', KEYS[1], 'ticket') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'ticket')
if ARGV[2] == 'timeout' then
  ${recordAnswer(5, "'true'")}
  return 1
end
handOff(KEYS[2], ARGV[3], ARGV[4])
return 0`,
  },
  /**
   * Lock/RLock release. KEYS: lock, queue. ARGV: caller, anyone ('1': a Lock, which anyone may
   * release), channel, key, [answer record, then 'release': the release's own, recorded when it
   * releases; alone: the record of an acquire undone, forgotten]. Returns {depth left, owner
   * before}: depth left -1 when the caller may not release it (unlocked, or an RLock held by
   * another); at 0 it went to the longest waiter.
   */
  smLockRelease: {
    keys: 2,
    answerAt: 5,
    records: (args) => args[7] === 'release',
    text: `${LOCK_HAND_OFF}
if ARGV[8] ~= 'release' then
  ${forgetAnswer(5)}
end
local state = redis.call('HMGET', KEYS[1], 'owner', 'count')
local owner = state[1]
if not owner or (ARGV[2] ~= '1' and owner ~= ARGV[1]) then return { -1, false } end
local left = tonumber(state[2]) - 1
if left > 0 then
  redis.call('HSET', KEYS[1], 'count', left)
else
  handOff(KEYS[2], ARGV[3], ARGV[4])
end
if ARGV[8] == 'release' then
  ${recordAnswer(5, "'null'")}
end
return { left, owner }`,
  },
  /**
   * Gives back a Lock/RLock held by the owners named (a session that ended, a dead manager's);
   * a dead manager's waiting tickets leave the queue first, so the lock goes to a live waiter.
   * Mode 'waiters' gives up only what waiting calls of the owners named (by prefix) left: their
   * tickets, and the lock if it was handed to one of them and not yet taken up (a session taken
   * over by another manager, whose calls died with the old one). KEYS: lock, queue. ARGV: who,
   * mode, channel, key, [for 'exact': the owner's session lease key and this manager's id, see
   * `unlessOwnerHostedElsewhere` ('' twice: no check), then the answer record of an acquire
   * undone, forgotten]. Returns 1 when it was freed, HOSTED_ELSEWHERE when another manager hosts
   * the owner's session now.
   */
  smLockGiveBack: {
    keys: 2,
    text: `${MATCHES}${LOCK_HAND_OFF}
${unlessOwnerHostedElsewhere(5, String(HOSTED_ELSEWHERE))}
${forgetAnswer(7)}
if ARGV[2] == 'waiters' then
  dropTickets(KEYS[2], ARGV[1])
  local t = redis.call('HGET', KEYS[1], 'ticket')
  if not t or not matches(t, ARGV[1], 'prefix') then return 0 end
  handOff(KEYS[2], ARGV[3], ARGV[4])
  return 1
end
if ARGV[2] == 'prefix' then
  dropTickets(KEYS[2], ARGV[1])
end
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner or not matches(owner, ARGV[1], ARGV[2]) then return 0 end
handOff(KEYS[2], ARGV[3], ARGV[4])
return 1`,
  },
  /** Lock/RLock state. KEYS: lock. Returns {owner or false, count}. */
  smLockState: {
    keys: 1,
    effect: 'none',
    text: `
local state = redis.call('HMGET', KEYS[1], 'owner', 'count')
return { state[1], tonumber(state[2] or '0') }`,
  },
  /**
   * Semaphore acquire. KEYS: semaphore, holders (owner -> permits), queue, held index. ARGV:
   * initial, bounded, owner, held entry, ticket (queued when no permit is free; '' for a try
   * that will not wait), [answer record]. Returns {taken (1 or 0), free permits, the owner's permits}.
   */
  smSemAcquire: {
    keys: 4,
    // Its one effect without an answer, a ticket put in line, is undone as the call fails (`redisSemaphores.ts`).
    answerAt: 6,
    text: `${SEMAPHORE_INIT}
local value = tonumber(redis.call('HGET', KEYS[1], 'value'))
if value <= 0 then
  if ARGV[5] ~= '' then
    redis.call('RPUSH', KEYS[3], ARGV[5])
    redis.call('SADD', KEYS[4], ARGV[4])
  end
  return { 0, value, 0 }
end
value = redis.call('HINCRBY', KEYS[1], 'value', -1)
redis.call('HINCRBY', KEYS[1], 'held', 1)
local mine = redis.call('HINCRBY', KEYS[2], ARGV[3], 1)
redis.call('SADD', KEYS[4], ARGV[4])
${recordAnswer(6, "'true'")}
return { 1, value, mine }`,
  },
  /** The permits one owner holds. KEYS: semaphore, holders. ARGV: owner. Returns {free permits, the owner's permits}. */
  smSemHeld: {
    keys: 2,
    effect: 'none',
    text: `return { tonumber(redis.call('HGET', KEYS[1], 'value') or '0'), tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') }`,
  },
  /**
   * Whether a waiting ticket was handed a permit. KEYS: semaphore, holders, granted. ARGV:
   * ticket, owner, [answer record]. Returns {granted (1 or 0), free permits, the owner's permits}.
   */
  smSemGranted: {
    keys: 3,
    answerAt: 3,
    text: `
local got = redis.call('SREM', KEYS[3], ARGV[1])
if got == 1 then
  ${recordAnswer(3, "'true'")}
end
return { got, tonumber(redis.call('HGET', KEYS[1], 'value') or '0'), tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') }`,
  },
  /**
   * A waiting ticket leaves a semaphore's queue. KEYS: semaphore, holders, queue, granted. ARGV:
   * ticket, owner, why ('timeout': a permit handed to it meanwhile is kept; 'withdrawn': given
   * to the next waiter), channel, key, [answer record: the acquire's, for a timeout, recorded
   * when it keeps the permit]. Returns 1 when it holds a permit after all, else 0.
   */
  smSemLeave: {
    keys: 4,
    answerAt: 6,
    text: `${SEMAPHORE_HAND_OUT}
if redis.call('LREM', KEYS[3], 0, ARGV[1]) > 0 then return 0 end
if redis.call('SREM', KEYS[4], ARGV[1]) == 0 then return 0 end
if ARGV[3] == 'timeout' then
  ${recordAnswer(6, "'true'")}
  return 1
end
local mine = redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
if mine <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
redis.call('HINCRBY', KEYS[1], 'held', -1)
redis.call('HINCRBY', KEYS[1], 'value', 1)
handOut(KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 0`,
  },
  /**
   * Semaphore release(n): the caller's own permits are the ones given back, as far as it has
   * any; the free permits go to the longest waiters. KEYS: semaphore, holders, queue, granted.
   * ARGV: initial, bounded ('1'), n, owner, channel, key, [answer record, then 'release': the
   * release's own, recorded when it releases; alone: the record of an acquire undone, forgotten].
   * Returns {done (1, or -1: a BoundedSemaphore past its initial value), free permits, the
   * owner's permits left, the owner's permits before}.
   */
  smSemRelease: {
    keys: 4,
    answerAt: 7,
    records: (args) => args[9] === 'release',
    text: `${SEMAPHORE_INIT}${SEMAPHORE_HAND_OUT}
if ARGV[10] ~= 'release' then
  ${forgetAnswer(7)}
end
local value = tonumber(redis.call('HGET', KEYS[1], 'value'))
local n = tonumber(ARGV[3])
if ARGV[2] == '1' and value + n > tonumber(redis.call('HGET', KEYS[1], 'initial')) then return { -1, value, 0, 0 } end
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0')
local left = mine
if mine > 0 then
  local back = math.min(mine, n)
  left = mine - back
  redis.call('HINCRBY', KEYS[1], 'held', -back)
  if left == 0 then redis.call('HDEL', KEYS[2], ARGV[4]) else redis.call('HSET', KEYS[2], ARGV[4], left) end
end
redis.call('HINCRBY', KEYS[1], 'value', n)
handOut(KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
if ARGV[10] == 'release' then
  ${recordAnswer(7, "'null'")}
end
return { 1, tonumber(redis.call('HGET', KEYS[1], 'value')), left, mine }`,
  },
  /**
   * Gives back the permits the owners named hold; a BoundedSemaphore never past its initial
   * value (permits another's plain release gave back already are not returned twice; whether it
   * is bounded, and its initial value, are read from its hash). A dead manager's waiting tickets
   * leave the queue, and its granted ones not yet taken up are dropped (their permits are among
   * its holdings). The permits returned go to the longest waiters. Mode 'waiters' gives up only
   * what waiting calls of the owners named (by prefix) left: their tickets, and the permits
   * granted to them and not yet taken up. KEYS: semaphore, holders, queue, granted. ARGV: who,
   * mode, channel, key, [for 'exact': the owner's session lease key and this manager's id, see
   * `unlessOwnerHostedElsewhere`]. Returns the permits returned, HOSTED_ELSEWHERE when another
   * manager hosts the owner's session now.
   */
  smSemGiveBack: {
    keys: 4,
    text: `${MATCHES}${SEMAPHORE_HAND_OUT}
${unlessOwnerHostedElsewhere(5, String(HOSTED_ELSEWHERE))}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == 'waiters' then
  dropTickets(KEYS[3], ARGV[1])
  local back = 0
  for _, t in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if matches(t, ARGV[1], 'prefix') then
      redis.call('SREM', KEYS[4], t)
      local owner = string.match(t, '^(.-)#')
      if redis.call('HINCRBY', KEYS[2], owner, -1) <= 0 then redis.call('HDEL', KEYS[2], owner) end
      redis.call('HINCRBY', KEYS[1], 'held', -1)
      redis.call('HINCRBY', KEYS[1], 'value', 1)
      back = back + 1
    end
  end
  if back > 0 then
    handOut(KEYS[3], KEYS[4])
    redis.call('PUBLISH', ARGV[3], ARGV[4])
  end
  return back
end
if ARGV[2] == 'prefix' then
  dropTickets(KEYS[3], ARGV[1])
  for _, t in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if matches(t, ARGV[1], 'prefix') then redis.call('SREM', KEYS[4], t) end
  end
end
local bounded = redis.call('HGET', KEYS[1], 'bounded') == '1'
local all = redis.call('HGETALL', KEYS[2])
local returned = 0
for i = 1, #all, 2 do
  if matches(all[i], ARGV[1], ARGV[2]) then
    local mine = tonumber(all[i + 1])
    redis.call('HDEL', KEYS[2], all[i])
    local held = redis.call('HINCRBY', KEYS[1], 'held', -mine)
    local back = mine
    if bounded then
      local value = tonumber(redis.call('HGET', KEYS[1], 'value'))
      back = math.max(0, math.min(mine, tonumber(redis.call('HGET', KEYS[1], 'initial')) - value - held))
    end
    redis.call('HINCRBY', KEYS[1], 'value', back)
    returned = returned + back
  end
end
if returned > 0 then
  handOut(KEYS[3], KEYS[4])
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return returned`,
  },
  /**
   * Condition wait, first step: the caller must hold the lock (a Lock: held by anyone; an RLock:
   * by the caller); it is freed at whatever depth (to the longest waiter for it), and the
   * caller's ticket joins the condition's waiters. KEYS: lock, the lock's queue, waiters (a list
   * of tickets), held index. ARGV: caller, anyone ('1' for a Lock), ticket, how ('park'; 'once':
   * a timeout already over, freed but no waiting; 'check': only whether the caller holds it),
   * held entry, channel, the lock's key. Returns {depth it was held at (-1: the caller does not
   * hold it), owner before}.
   */
  smCondWait: {
    keys: 4,
    text: `${LOCK_HAND_OFF}
local state = redis.call('HMGET', KEYS[1], 'owner', 'count')
local owner = state[1]
if not owner or (ARGV[2] ~= '1' and owner ~= ARGV[1]) then return { -1, false } end
if ARGV[4] == 'check' then return { tonumber(state[2]), owner } end
handOff(KEYS[2], ARGV[6], ARGV[7])
if ARGV[4] == 'park' then
  redis.call('RPUSH', KEYS[3], ARGV[3])
  redis.call('SADD', KEYS[4], ARGV[5])
end
return { tonumber(state[2]), owner }`,
  },
  /**
   * Whether a waiter's ticket was notified. The notification stays its own until it has the lock
   * back (smLockAcquire or smLockGranted, given the ticket) or leaves (smCondLeave): if its manager dies in between, a survivor
   * passes it on (smCondGiveBack). KEYS: notified. ARGV: ticket.
   */
  smCondNotified: {
    keys: 1,
    effect: 'none',
    text: `return redis.call('SISMEMBER', KEYS[1], ARGV[1])`,
  },
  /**
   * A waiter leaves the line. KEYS: waiters, notified. ARGV: ticket, why ('timeout': a
   * notification it got meanwhile is kept, and the wait answers True; 'withdrawn': a
   * notification it got goes to the longest waiter), channel, key. Returns 1 when it had been
   * notified, else 0. A timeout's leave made again answers as it did: out of the line, the
   * ticket is notified by nobody, and its notification is spent only by its own wait (or passed
   * on by a survivor or a takeover, after which 0 is the truth).
   */
  smCondLeave: {
    keys: 2,
    repeatable: (args) => args[1] === 'timeout',
    text: `
if redis.call('LREM', KEYS[1], 0, ARGV[1]) > 0 then return 0 end
if ARGV[2] == 'timeout' then return redis.call('SISMEMBER', KEYS[2], ARGV[1]) end
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
local next = redis.call('LPOP', KEYS[1])
if next then
  redis.call('SADD', KEYS[2], next)
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1`,
  },
  /**
   * Condition notify(n). KEYS: lock, waiters, notified. ARGV: caller, anyone, n (a count, 'all',
   * or 'bad' for an n that is no number), channel, key, [answer record, recorded when it notified
   * somebody: its one effect]. Returns the waiters notified; -1 when the caller does not hold the
   * lock; -2 for a bad n with somebody waiting (Python compares n only then).
   */
  smCondNotify: {
    keys: 3,
    answerAt: 6,
    text: `
local owner = redis.call('HGET', KEYS[1], 'owner')
if not owner or (ARGV[2] ~= '1' and owner ~= ARGV[1]) then return -1 end
local waiting = redis.call('LLEN', KEYS[2])
if waiting == 0 then return 0 end
if ARGV[3] == 'bad' then return -2 end
local n = waiting
if ARGV[3] ~= 'all' then n = math.min(waiting, tonumber(ARGV[3])) end
for i = 1, n do redis.call('SADD', KEYS[3], redis.call('LPOP', KEYS[2])) end
if n > 0 then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
  ${recordAnswer(6, "'null'")}
end
return n`,
  },
  /**
   * Gives back a dead manager's condition waiters: their tickets leave the waiters, and each
   * notification one of them had not spent (it had not taken the lock back) goes to the longest
   * live waiter. KEYS: waiters,
   * notified. ARGV: who (the prefix), channel, key.
   */
  smCondGiveBack: {
    keys: 2,
    text: `${MATCHES}
dropTickets(KEYS[1], ARGV[1])
local passed = 0
for _, t in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if matches(t, ARGV[1], 'prefix') then
    redis.call('SREM', KEYS[2], t)
    local next = redis.call('LPOP', KEYS[1])
    if next then
      redis.call('SADD', KEYS[2], next)
      passed = passed + 1
    end
  end
end
if passed > 0 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return passed`,
  },
  /**
   * Barrier wait, the arrival. KEYS: barrier (a hash: count, broken, gen), parties (ticket ->
   * 'w' waiting, 'r' released, 'b' broken), held index. ARGV: parties (0 when no count of
   * arrivals can equal it), mode ('wait'; 'zero': a timeout already over breaks it; 'error': a
   * bad timeout, raised unless this is the last arrival), ticket, held entry, channel, key.
   * Returns {outcome, index}: 1 released (the last arrival), 0 waiting, 2 the bad timeout's
   * error, -1 broken.
   */
  smBarrierArrive: {
    keys: 3,
    text: `${BARRIER_END}
local state = redis.call('HMGET', KEYS[1], 'count', 'broken')
if state[2] == '1' then return { -1, 0 } end
local index = tonumber(state[1] or '0')
if index + 1 == tonumber(ARGV[1]) then
  finish(KEYS[2], 'r', 0, ARGV[5], ARGV[6])
  return { 1, index }
end
if ARGV[2] == 'error' then return { 2, index } end
if ARGV[2] == 'zero' then
  finish(KEYS[2], 'b', 1, ARGV[5], ARGV[6])
  return { -1, index }
end
redis.call('HSET', KEYS[1], 'count', index + 1)
redis.call('HSET', KEYS[2], ARGV[3], 'w')
redis.call('SADD', KEYS[3], ARGV[4])
return { 0, index }`,
  },
  /**
   * A waiting party's outcome, taken once settled. KEYS: parties. ARGV: ticket. Returns 0 still
   * waiting, 1 released, -1 broken (or reset, or given back as a dead manager's, or already
   * told its leave: 'l', see smBarrierLeave).
   */
  smBarrierOutcome: {
    keys: 1,
    text: `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v == 'w' then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if v == 'r' then return 1 end
return -1`,
  },
  /**
   * A waiting party leaves (timed out, withdrawn): it will not arrive, so the barrier breaks,
   * unless it was released or broken meanwhile. KEYS: barrier, parties. ARGV: ticket, channel,
   * key, why ('timeout' or 'withdrawn'). Returns 1 when it had been released meanwhile, else -1.
   * A timeout's leave made again answers as it did: a party released meanwhile keeps its outcome,
   * marked 'l' (left, released), which its wait then takes (smBarrierOutcome); any other is gone,
   * the barrier broken by the first.
   */
  smBarrierLeave: {
    keys: 2,
    repeatable: (args) => args[3] === 'timeout',
    text: `${BARRIER_END}
local v = redis.call('HGET', KEYS[2], ARGV[1])
if (v == 'r' or v == 'l') and ARGV[4] == 'timeout' then
  redis.call('HSET', KEYS[2], ARGV[1], 'l')
  return 1
end
redis.call('HDEL', KEYS[2], ARGV[1])
if v == 'r' or v == 'l' then return 1 end
if v == 'w' then finish(KEYS[2], 'b', 1, ARGV[2], ARGV[3]) end
return -1`,
  },
  /**
   * Barrier abort ('b': broken) or reset ('r': its waiters sent away broken, the barrier whole
   * again). KEYS: barrier, parties. ARGV: which, channel, key.
   */
  smBarrierEnd: {
    keys: 2,
    text: `${BARRIER_END}
finish(KEYS[2], 'b', ARGV[1] == 'b' and 1 or 0, ARGV[2], ARGV[3])
return 1`,
  },
  /** Barrier state. KEYS: barrier. Returns {waiting, broken (0 or 1)}. */
  smBarrierState: {
    keys: 1,
    effect: 'none',
    text: `
local state = redis.call('HMGET', KEYS[1], 'count', 'broken')
return { tonumber(state[1] or '0'), state[2] == '1' and 1 or 0 }`,
  },
  /**
   * Gives back a dead manager's barrier parties: a party still waiting will never arrive, so the
   * barrier breaks, as when a waiting party's call is withdrawn; settled outcomes nobody will
   * take are dropped. KEYS: barrier, parties. ARGV: who (the prefix), channel, key.
   */
  smBarrierGiveBack: {
    keys: 2,
    text: `${MATCHES}${BARRIER_END}
local all = redis.call('HGETALL', KEYS[2])
local waiting = false
for i = 1, #all, 2 do
  if matches(all[i], ARGV[1], 'prefix') then
    if all[i + 1] == 'w' then waiting = true end
    redis.call('HDEL', KEYS[2], all[i])
  end
end
if waiting then finish(KEYS[2], 'b', 1, ARGV[2], ARGV[3]) end
return waiting and 1 or 0`,
  },
} as const satisfies Record<string, StoreScript>;
