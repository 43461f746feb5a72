/**
 * Resumable sessions in a Redis group (SPEC 20.4.1): a session that agreed on resumption holds
 * what it holds under a lease of its own, not its manager's, so that when its manager dies what
 * it holds outlives the manager for the session's resumption window, and another manager of the
 * group can take the session over.
 *
 * A session lease is one more member of the group's `managers` set (see `redisLeases.ts`), with
 * an id `session-HASH` made from the resume token's digest (never the token itself):
 * - `m:ID`: the lease; its value is the id of the manager that hosts the session now, and it
 *   lasts the manager's lease plus the window, renewed by that manager while it hosts the session;
 * - `m:ID:held`: where the session holds something (its owner id in Redis is `ID/SESSION`, so
 *   the reclaimers, which match owners by `ID/`, give back exactly its holdings);
 * - `m:ID:session`: the record another manager resumes it from (its owner id, its window, what
 *   `initialize` agreed, and its host), and its client's name (inspection);
 * - `m:ID:refs`: the group objects it refers to, with its number of references to each; the
 *   session lease is itself a member of those objects' `refs` (with `ref` entries in its held
 *   index), so they live while it does;
 * - `m:ID:answers`: the answers of its calls that the client may not have received, by request
 *   id (see `redisAnswers.ts`), lasting as the lease does.
 * The lease lapses once no manager renews it: the window has passed since its manager died. A
 * survivor's reaping then gives back everything, as for a dead manager. A session that ends for
 * good on its manager (closed, or its window passed while detached) gives back at once.
 */

import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SessionNotAdoptable, type AdoptedSession } from './objectStore';
import { heldEntry, leaseKey, leaseKeyPrefix, ownerIdIn } from './redisLeases';
import { REFERENCE_KIND } from './redisReferences';
import { ANSWERS, DROPPED_UP_TO, NO_RECORD, STARTED, type AnswerRecord } from './redisAnswers';
import type { RequestId } from '../calls/sessionCore';

/** How a session lease's id starts, telling it from a manager's (a UUID) among the group's members. */
const SESSION_LEASE_PREFIX = 'session-';

/** The part of a session lease's keys that names its answers hash (see `redisAnswers.ts`). */

/** The lease id of the resumable session whose resume token has digest `tokenDigest`. */
export function sessionLeaseId(tokenDigest: string): string {
  return `${SESSION_LEASE_PREFIX}${createHash('sha256').update(`lease:${tokenDigest}`).digest('hex').slice(0, 32)}`;
}

/** Whether a member of the group (of `managers`, or of an object's `refs`) is a resumable session's lease, not a manager. */
export function isSessionLease(member: string): boolean {
  return member.startsWith(SESSION_LEASE_PREFIX);
}

/** A resumable session kept by this manager under its own lease. */
interface Kept {
  readonly leaseId: string;
  readonly owner: string;
  readonly withinMs: number;
}

/** This manager's resumable sessions, and the takeover of another manager's. */
export class SessionLeases {
  /** By this manager's session id. */
  readonly #kept = new Map<string, Kept>();
  /** Sessions ending: their give-back on its way. */
  readonly #ending = new Set<Promise<void>>();
  /** The leases of sessions this manager let go of when its own lease lapsed (see {@link letGoAll}). */
  readonly #letGo = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly prefix: string,
    private readonly managerId: string,
    /** The manager's lease, in ms: a session lease lasts that plus its window. */
    private readonly leaseMs: number,
    private readonly client: () => Redis | undefined,
    private readonly log: (message: string) => void,
  ) {}

  /** Whether session `sessionId` is kept here under a lease of its own. */
  keeps(sessionId: string): boolean {
    return this.#kept.has(sessionId);
  }

  /**
   * Where the answer of request `requestId` of session `sessionId` is recorded: the answers hash,
   * the request's field and how long the hash lasts; none for a session not kept in the group.
   */
  answerRecord(sessionId: string, requestId: RequestId): AnswerRecord {
    const kept = this.#kept.get(sessionId);
    return kept ? [this.#key(kept.leaseId, ANSWERS), JSON.stringify(requestId), this.leaseMs + kept.withinMs] : NO_RECORD;
  }

  /**
   * A call of session `sessionId` whose object does not record its answer starts: it is marked
   * as started, on the commands connection and so before any effect it has (see `redisAnswers.ts`).
   */
  started(sessionId: string, requestId: RequestId): void {
    const [key, field, ms] = this.answerRecord(sessionId, requestId);
    const client = this.client();
    if (key === undefined || !client) return;
    // Redis away: the call itself fails, as it runs on the same connection.
    client.hset(key as string, field as string, STARTED).catch(() => {});
    client.pexpire(key as string, ms as number).catch(() => {});
  }

  /** The client of session `sessionId` counted the answers of these requests: their records go. */
  answersSeen(sessionId: string, requestIds: readonly RequestId[]): void {
    const kept = this.#kept.get(sessionId);
    if (!kept || requestIds.length === 0) return;
    this.client()
      ?.hdel(this.#key(kept.leaseId, ANSWERS), ...requestIds.map((id) => JSON.stringify(id)))
      .catch(() => {});
  }

  /**
   * Session `sessionId`'s manager dropped the answers of these requests unacknowledged, past its
   * bound, up to answer number `upTo`: their records go, and a takeover by a client that lacks them is refused.
   */
  answersDropped(sessionId: string, requestIds: readonly RequestId[], upTo: number): void {
    const kept = this.#kept.get(sessionId);
    const client = this.client();
    if (!kept || !client) return;
    const key = this.#key(kept.leaseId, ANSWERS);
    client
      .multi()
      .hset(key, DROPPED_UP_TO, upTo)
      .hdel(key, ...requestIds.map((id) => JSON.stringify(id)))
      .pexpire(key, this.leaseMs + kept.withinMs)
      .exec()
      .catch(() => {});
  }

  #key(leaseId: string, what?: string): string {
    return leaseKey(this.prefix, leaseId, what);
  }

  /** The owner id in Redis of this manager's session `sessionId`, if it is kept under a lease of its own. */
  ownerOf(sessionId: string): string | undefined {
    return this.#kept.get(sessionId)?.owner;
  }

  /** This manager's session whose owner id in Redis is `owner`, if it is kept here. */
  sessionOf(owner: string): string | undefined {
    for (const [sessionId, kept] of this.#kept) if (kept.owner === owner) return sessionId;
    return undefined;
  }

  /**
   * This manager's lease lapsed (it was cut off from Redis longer than it): it ends its sessions,
   * but its resumable ones stay kept in the group, resumable for their window through any manager,
   * this one too; so nothing of them is given back when they end here, nor are their leases renewed.
   */
  letGoAll(): void {
    for (const kept of this.#kept.values()) this.#letGo.add(kept.leaseId);
    this.#kept.clear();
  }

  /** Starts renewing the leases of the sessions kept here, three times per manager lease. */
  start(): void {
    this.#timer = setInterval(() => void this.#renew(), Math.floor(this.leaseMs / 3));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #renew(): Promise<void> {
    const client = this.client();
    if (!client || this.#kept.size === 0) return;
    const pipeline = client.pipeline();
    for (const kept of this.#kept.values()) pipeline.eval(RENEW, 2, this.#key(kept.leaseId), this.#key(kept.leaseId, ANSWERS), this.managerId, this.leaseMs + kept.withinMs);
    // Redis away: the next round renews; the leases last a window longer than the manager's.
    await pipeline.exec().catch(() => {});
  }

  /**
   * Session `sessionId`, which agreed on resumption with a window of `withinMs`, holds under a
   * lease of its own from now on; written before anything it takes (commands on one connection
   * run in order).
   */
  keep(sessionId: string, tokenDigest: string, withinMs: number, agreed: string, clientName?: string): void {
    const leaseId = sessionLeaseId(tokenDigest);
    const owner = ownerIdIn(leaseId, sessionId);
    this.#kept.set(sessionId, { leaseId, owner, withinMs });
    this.client()
      ?.multi()
      .set(this.#key(leaseId), this.managerId, 'PX', this.leaseMs + withinMs)
      .hset(this.#key(leaseId, 'session'), 'owner', owner, 'withinMs', withinMs, 'agreed', agreed, 'client', clientName ?? '')
      .sadd(`${this.prefix}:managers`, leaseId)
      .exec()
      .catch((error: Error) => this.log(`Redis store: recording resumable session ${sessionId} failed (${error.message}); it can be resumed on this manager only`));
  }

  /**
   * Session `sessionId` refers `count` times to the group object `objectId` (0: no more). An
   * object a client created (kept under `objectKey`) lives while the session refers to it; a
   * `shared` registration's (no `objectKey`) lives for ever and is only counted.
   */
  referencesChanged(sessionId: string, objectId: string, objectKey: string | undefined, count: number): void {
    const kept = this.#kept.get(sessionId);
    if (!kept) return;
    const keys = [this.#key(kept.leaseId, 'refs'), `${objectKey ?? objectId}:refs`, this.#key(kept.leaseId, 'held')];
    this.client()
      ?.eval(SESSION_REFS, 3, ...keys, objectId, count, kept.leaseId, objectKey === undefined ? '' : heldEntry(REFERENCE_KIND, objectKey))
      .catch((error: Error) => this.log(`Redis store: counting session ${sessionId}'s references failed (${error.message})`));
  }

  /**
   * Session `sessionId` ended for good here: unless another manager took it over meanwhile, its
   * lease goes, and `reap` gives back whatever its held index still names.
   */
  ended(sessionId: string, reap: (leaseId: string) => Promise<void>): void {
    const kept = this.#kept.get(sessionId);
    if (!kept) return;
    this.#kept.delete(sessionId);
    const ending = this.#end(kept, sessionId, reap);
    this.#ending.add(ending);
    void ending.finally(() => this.#ending.delete(ending));
  }

  /** Resolves once every session that ended has given back what it held (a stopping manager waits for it). */
  async drain(): Promise<void> {
    await Promise.all(this.#ending);
  }

  async #end(kept: Kept, sessionId: string, reap: (leaseId: string) => Promise<void>): Promise<void> {
    const client = this.client();
    if (!client) return;
    try {
      const ours = await client.eval(END, 3, this.#key(kept.leaseId), this.#key(kept.leaseId, 'session'), this.#key(kept.leaseId, ANSWERS), this.managerId);
      if (ours === 1) await reap(kept.leaseId);
    } catch (error) {
      // The lease lapses by itself and a survivor gives back what is left.
      this.log(`Redis store: ending resumable session ${sessionId} failed (${(error as Error).message}); its holdings go back once its lease runs out`);
    }
  }

  /**
   * Takes over, as this manager's session `sessionId`, the session of the group whose resume token
   * has digest `tokenDigest`, if its manager is gone and its window has not passed. One manager
   * at most wins: the takeover is one script. `answersSeen`: the answers its client counted.
   * @throws SessionNotAdoptable
   */
  async adopt(tokenDigest: string, sessionId: string, answersSeen: number): Promise<AdoptedSession> {
    const client = this.client();
    if (!client) throw new SessionNotAdoptable('the Redis store cannot be used now');
    const leaseId = sessionLeaseId(tokenDigest);
    const own = this.#letGo.has(leaseId) ? '1' : '';
    const keys = [this.#key(leaseId), this.#key(leaseId, 'session'), this.#key(leaseId, 'refs'), this.#key(leaseId, ANSWERS)];
    const reply = (await client.eval(ADOPT, 4, ...keys, this.managerId, leaseKeyPrefix(this.prefix), this.leaseMs, own, answersSeen, DROPPED_UP_TO)) as [
      number,
      ...string[],
    ];
    if (reply[0] === 0) throw new SessionNotAdoptable('no manager of the group keeps a session with this token: its resumption window passed, it ended, or the token was never given');
    if (reply[0] === 1) throw new SessionNotAdoptable(`manager ${reply[1]} of the group keeps this session still: resume it there, or here once that manager is gone`, reply[1]);
    if (reply[0] === 3) {
      throw new SessionNotAdoptable(
        `answers after the ${answersSeen} the client has seen (up to number ${reply[1]}) were dropped unacknowledged by the session's manager, past its bound: a client must send $/answersSeen`,
      );
    }
    this.#letGo.delete(leaseId);
    const [owner, withinMs, agreed, refCount, ...rest] = reply.slice(1) as string[];
    const kept: Kept = { leaseId, owner: owner!, withinMs: Number(withinMs) };
    this.#kept.set(sessionId, kept);
    const references: [string, number][] = [];
    const refs = rest.slice(0, Number(refCount));
    for (let i = 0; i + 1 < refs.length; i += 2) references.push([refs[i]!, Number(refs[i + 1])]);
    const answers = new Map<string, string>();
    for (let i = refs.length; i + 1 < rest.length; i += 2) answers.set(rest[i]!, rest[i + 1]!);
    return { withinMs: kept.withinMs, agreed: agreed!, references, answers };
  }
}

/** Renews a session lease, and its answers, if this manager hosts it. KEYS: lease, answers. ARGV: manager id, ms. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return 1
end
return 0`;

/**
 * A session's references to one object. KEYS: the session's refs, the object's refs, the
 * session's held index. ARGV: object id, count, lease id, held entry ('' for an object the group
 * keeps for ever, a `shared` registration's: only counted).
 */
const SESSION_REFS = `
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  if ARGV[4] == '' then return 1 end
  redis.call('SADD', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[4])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
  if ARGV[4] == '' then return 1 end
  redis.call('SREM', KEYS[2], ARGV[3])
  redis.call('SREM', KEYS[3], ARGV[4])
end
return 1`;

/** A session ends on its host: its lease, record and answers go, if it is still the host's. KEYS: lease, record, answers. ARGV: manager id. */
const END = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return 1`;

/**
 * The takeover. KEYS: lease, record, refs, answers. ARGV: the adopting manager's id, the prefix of
 * manager leases (`PREFIX:m:`), the manager lease in ms, '1' when the adopter itself let the
 * session go (its own lease lapsed), the answers the client counted, the field of answers dropped
 * unacknowledged. Returns {0} when there is no session to take (lapsed, ended, never given, or
 * still ending on the adopter), {1, host} when its host is alive, {3, dropped up to} when the
 * client lacks answers that were dropped (the session stays as it was), else {2, owner,
 * withinMs, agreed, number of refs items, refs..., answers...} with the lease, and the answers,
 * now the adopter's (lasting its lease plus the window).
 */
const ADOPT = `
local host = redis.call('GET', KEYS[1])
if not host or redis.call('EXISTS', KEYS[2]) == 0 then return { 0 } end
if host == ARGV[1] then
  if ARGV[4] ~= '1' then return { 0 } end
elseif redis.call('EXISTS', ARGV[2] .. host) == 1 then
  return { 1, host }
end
local dropped = tonumber(redis.call('HGET', KEYS[4], ARGV[6]) or '0')
if tonumber(ARGV[5]) < dropped then return { 3, tostring(dropped) } end
local record = redis.call('HMGET', KEYS[2], 'owner', 'withinMs', 'agreed')
local ms = tonumber(ARGV[3]) + tonumber(record[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ms)
redis.call('PEXPIRE', KEYS[4], ms)
redis.call('HSET', KEYS[2], 'host', ARGV[1])
local refs = redis.call('HGETALL', KEYS[3])
local out = { 2, record[1], record[2], record[3], #refs }
for _, v in ipairs(refs) do out[#out + 1] = v end
local answers = redis.call('HGETALL', KEYS[4])
for i = 1, #answers, 2 do
  if answers[i] ~= ARGV[6] then
    out[#out + 1] = answers[i]
    out[#out + 1] = answers[i + 1]
  end
end
return out`;
