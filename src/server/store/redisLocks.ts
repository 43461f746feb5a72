/**
 * Lock and RLock kept in Redis: the same methods, results and errors as the in-memory locks of
 * `../builtins/locks`, each method one atomic script, shared by every manager on the store's
 * prefix. The lock is one hash (`…:lock`: owner, count) holding the owner's global id
 * (`MANAGER/SESSION`, see `redisLeases.ts`), so a session of manager A and one of manager B are
 * different owners even when their session ids are alike.
 *
 * **Waiters**, first come, first served as in memory: an acquire that must wait puts a ticket in
 * the lock's queue (`…:queue`), and whatever frees the lock (a release, a give-back, a
 * Condition's wait, through any manager) hands it to the longest-waiting ticket in the same
 * script and publishes the lock's key; the waiter, woken, finds the lock handed to it.
 *
 * **Ownership.** As in memory: the session that acquired holds the lock (`context.hold`), its end
 * gives it back (`ownerLeft`, a script), and a release by anybody else clears that record. The
 * acquiring script also writes the lock into this manager's held index, so that if the manager
 * dies, a survivor gives the lock back ({@link reclaimLock}) once its lease runs out.
 */

import { randomUUID } from 'node:crypto';
import { isWithdrawn, ownerOf, type CallContext, type HeldResource, type Signature } from '../calls/methodDispatch';
import { CallCancelled } from '../exceptions';
import { Lock, lockRepr, lockWaitSeconds, releaseUnacquired, releaseUnlocked, RLock, rlockRepr } from '../builtins/locks';
import { heldEntry, type Reclaimer } from './redisLeases';
import type { RedisObjectHost } from './redisStore';
import { NOT_YET, TimedOut } from './redisWakeups';
import { AnsweredInGroup, answersRecorded, NO_RECORD, type AnswerRecord } from './redisAnswers';

/** The kind of holding a lock writes into its manager's held index. */
export const LOCK_HOLDING = 'lock';

/** The keys of the lock whose key prefix is `objectKey`: the hash holding owner and depth, and the waiters' queue. */
function keysOf(objectKey: string): [lock: string, queue: string] {
  return [`${objectKey}:lock`, `${objectKey}:queue`];
}

/** The keys of a lock named `name`. */
export function lockKeys(host: RedisObjectHost, name: string): [lock: string, queue: string] {
  return keysOf(host.keyOf(name));
}

/** How many times a give-back that failed (Redis away) is tried again before the lease takes over. */
const GIVE_BACK_TRIES = 5;

/**
 * Runs a give-back (a session ended) now, and again a few times if Redis cannot be reached; if
 * it never can, what was held stays in this manager's held index, and is given back when this
 * manager stops or, if it dies, by a survivor.
 */
export function giveBackSoon(giveBack: () => Promise<unknown>, tries = GIVE_BACK_TRIES): void {
  giveBack().catch(() => {
    if (tries <= 1) return;
    setTimeout(() => giveBackSoon(giveBack, tries - 1), 200 * 2 ** (GIVE_BACK_TRIES - tries)).unref();
  });
}

/**
 * Takes a withdrawn waiter's ticket out of its object (`leave`, a script), trying again a few
 * times if Redis cannot be reached now: a ticket left behind would be handed what nobody takes.
 */
export async function leaveSurely(leave: () => Promise<unknown>): Promise<void> {
  await leave().catch(() => giveBackSoon(leave));
}

/**
 * A queued waiter whose wait ended with `error` takes its ticket out (`leave(why)`, a script
 * answering 1 when the waiter was handed what it waited for meanwhile). After a timeout, resolves
 * whether it holds it after all (it keeps it); after anything else (withdrawn, Redis away), what
 * it was handed goes to the next waiter, and `error` is thrown again. A timeout's leave whose
 * reply was lost and whose record says it kept what it was handed (`AnsweredInGroup`, see
 * `smLockLeave`) kept it, as if the reply had come.
 */
export async function leaveAfter(error: unknown, leave: (why: 'timeout' | 'withdrawn') => Promise<unknown>): Promise<boolean> {
  if (!(error instanceof TimedOut)) {
    await leaveSurely(() => leave('withdrawn'));
    throw error;
  }
  const kept = await leave('timeout').catch(async (lost: unknown) => {
    if (lost instanceof AnsweredInGroup) return 1;
    await leaveSurely(() => leave('withdrawn'));
    throw lost;
  });
  return kept === 1;
}

/** The arguments of a release that records its answer at `record` (none for a call that records nothing): see `smLockRelease`. */
export function releaseRecord(record: AnswerRecord): AnswerRecord {
  return record.length > 0 ? [...record, 'release'] : record;
}

/** An owner as inspection and reprs show it: a session id for this manager's own, the global id for another's. */
export function shownOwner(host: RedisObjectHost, owner: string): string {
  return host.sessionOf(owner) ?? owner;
}

/** A dead manager's (or one's own, at stop) lock given back: see `redisLeases.ts`. */
export const reclaimLock: Reclaimer = async (host, objectKey, managerId) => {
  await host.run('smLockGiveBack', keysOf(objectKey), [`${managerId}/`, 'prefix', host.channel, objectKey]);
};

/** What the waiting calls of a session whose manager died left on a lock, given up (its lease id: `redisSessions.ts`). */
export const withdrawLockWaiters: Reclaimer = async (host, objectKey, leaseId) => {
  await host.run('smLockGiveBack', keysOf(objectKey), [`${leaseId}/`, 'waiters', host.channel, objectKey]);
};

/** What Lock and RLock share, and what a Condition over one uses. */
export abstract class RedisLockCore implements HeldResource {
  /** The key changes are published under. */
  readonly objectKey: string;
  /** The hash holding owner and depth. */
  readonly lockKey: string;
  /** The waiters' tickets, in arrival order. */
  readonly queueKey: string;
  /** The owner and depth as this manager's last call saw them (reprs and inspection). */
  protected owner: string | undefined;
  protected count = 0;
  #waiting = 0;
  /** The contexts of this manager's calls that acquired, by owner: told to let go when the lock is freed. */
  readonly #holders = new Map<string, CallContext>();

  constructor(
    protected readonly host: RedisObjectHost,
    name: string,
  ) {
    this.objectKey = host.keyOf(name);
    [this.lockKey, this.queueKey] = keysOf(this.objectKey);
  }

  /** Whether the owner may acquire again, one level deeper (an RLock), and only the owner may release it. */
  abstract readonly reentrant: boolean;

  /** Python's repr, from what this manager last saw. */
  abstract __repr__(): string;

  /**
   * Python's `acquire(blocking=True, timeout=-1)`, as the in-memory Lock's and RLock's.
   * @throws PyException ValueError, TypeError or OverflowError for bad arguments.
   */
  async acquire(blocking: unknown = true, timeout: unknown = -1, context: CallContext = {}): Promise<boolean> {
    if (isWithdrawn(context)) throw new CallCancelled();
    return this.acquireAs(context, 1, lockWaitSeconds(blocking, timeout), this.reentrant, undefined, this.host.answerRecord(context));
  }

  /** Whether `method` records its answer in Redis where it has an effect (see `redisAnswers.ts`). */
  [answersRecorded](method: string): boolean {
    return method === 'acquire' || method === 'release' || method === 'locked';
  }

  /** Python's `locked()`. */
  async locked(): Promise<boolean> {
    const [owner, count] = (await this.host.run('smLockState', [this.lockKey], [])) as [string | null, number];
    this.seen(owner ?? undefined, count);
    return owner !== null;
  }

  /**
   * Takes the lock for the caller at depth `count`, waiting up to `seconds` (0: one try, null:
   * forever). True when taken; false when the timeout passed. A call that may wait must come
   * here before its method's first `await`, or have been listed as blocked already. `notified`: a
   * Condition's notified waiter taking the lock back, which spends its notification. `record`:
   * where the acquire's answer is recorded when it takes the lock (a Lock's own acquire, SPEC 20.4.1).
   */
  async acquireAs(context: CallContext, count: number, seconds: number | null, reentrant: boolean, notified?: { key: string; ticket: string }, record = NO_RECORD): Promise<boolean> {
    // A call that may wait is listed as blocked before its first step (SPEC 8.5): see `RedisQueue`.
    if (seconds !== 0) context.mayWait?.();
    const owner = this.host.ownerId(ownerOf(context));
    const entry = heldEntry(LOCK_HOLDING, this.objectKey);
    const ticket = seconds === 0 ? '' : `${owner}#${count}#${randomUUID()}`;
    const spends = notified ?? { key: this.queueKey, ticket: '' };
    let first = true;
    const attempt = async (): Promise<number | typeof NOT_YET> => {
      const got = (
        first
          ? await this.host.run('smLockAcquire', [this.lockKey, this.queueKey, this.host.heldIndexOf(owner), spends.key], [owner, count, reentrant ? 1 : 0, entry, ticket, spends.ticket, ...record])
          : await this.host.run('smLockGranted', [this.lockKey, spends.key], [ticket, spends.ticket, ...record])
      ) as number;
      first = false;
      if (got === 0) return NOT_YET;
      this.seen(owner, got === 2 ? this.count + 1 : count);
      return got;
    };
    this.#waiting++;
    try {
      const got = await this.host.wakeups.until({ key: this.objectKey, seconds, context, attempt, expiry: () => new TimedOut(), undo: (got) => this.#undo(owner, got, record) });
      if (got === 1) this.#held(owner, context);
      return true;
    } catch (error) {
      // Its reply from Redis lost, the lock was taken (its answer recorded, see `redisAnswers.ts`): the session holds it here as any other.
      if (error instanceof AnsweredInGroup) {
        this.seen(owner, count);
        this.#held(owner, context);
        return true;
      }
      if (!ticket) {
        if (error instanceof TimedOut) return false;
        throw error;
      }
      // Out of the queue; handed the lock meanwhile, a timed-out acquire keeps it and a withdrawn one passes it on.
      const leave = (why: 'timeout' | 'withdrawn') => this.host.run('smLockLeave', [this.lockKey, this.queueKey], [ticket, why, this.host.channel, this.objectKey, ...(why === 'timeout' ? record : NO_RECORD)]);
      if (!(await leaveAfter(error, leave))) return false;
      this.seen(owner, count);
      this.#held(owner, context);
      return true;
    } finally {
      this.#waiting--;
    }
  }

  /** A session taken over from a manager that is gone holds the lock here, if it holds it in Redis (SPEC 20.4.1). */
  async takenOver(context: CallContext): Promise<void> {
    const owner = this.host.ownerId(ownerOf(context));
    const [holder, count] = (await this.host.run('smLockState', [this.lockKey], [])) as [string | null, number];
    this.seen(holder ?? undefined, count);
    if (holder === owner) this.#held(owner, context);
  }

  #held(owner: string, context: CallContext): void {
    this.#holders.set(owner, context);
    context.hold?.(this);
  }

  /** An acquire whose caller was withdrawn as it succeeded: what it took goes back, and its answer `record` is forgotten. */
  async #undo(owner: string, got: number, record: AnswerRecord): Promise<void> {
    // A call of this manager's: no check of who hosts its session ('' twice).
    if (got === 1) await this.host.run('smLockGiveBack', [this.lockKey, this.queueKey], [owner, 'exact', this.host.channel, this.objectKey, '', '', ...record]);
    else await this.host.run('smLockRelease', [this.lockKey, this.queueKey], [owner, 0, this.host.channel, this.objectKey, ...record]);
  }

  /**
   * Python's `release()`: one level less (a Lock has one); at zero the lock is free.
   * @throws PyException RuntimeError 'release unlocked lock' (a Lock), 'cannot release
   *   un-acquired lock' (an RLock the caller does not hold).
   */
  async release(context: CallContext = {}): Promise<undefined> {
    const caller = this.host.ownerId(ownerOf(context));
    let released: [left: number, before: string | null];
    try {
      released = (await this.host.run('smLockRelease', [this.lockKey, this.queueKey], [caller, this.reentrant ? 0 : 1, this.host.channel, this.objectKey, ...releaseRecord(this.host.answerRecord(context))])) as typeof released;
    } catch (error) {
      // Its reply from Redis lost, it released (its answer recorded, see `redisAnswers.ts`): who holds the lock now is read
      // back (that read failing too, the session lets go of it when it ends, as the lock is given back then).
      if (error instanceof AnsweredInGroup) await this.holdersAgain().catch(() => {});
      throw error;
    }
    const [left, before] = released;
    if (left === -1) throw this.reentrant ? releaseUnacquired() : releaseUnlocked();
    this.seen(left === 0 ? undefined : before!, left);
    if (left === 0) this.freed(before!);
    return undefined;
  }

  /**
   * Reads who holds the lock: an owner whose call acquired it through this manager and who holds it
   * no more lets go of it (after a call that may have freed it, its reply from Redis lost).
   */
  async holdersAgain(): Promise<void> {
    const [owner, count] = (await this.host.run('smLockState', [this.lockKey], [])) as [string | null, number];
    for (const holder of [...this.#holders.keys()]) if (holder !== owner) this.freed(holder);
    this.seen(owner ?? undefined, count);
  }

  /** The lock, held by `owner`, was freed through this manager: that owner's session lets go of it. */
  freed(owner: string): void {
    this.seen(undefined, 0);
    const holder = this.#holders.get(owner);
    this.#holders.delete(owner);
    holder?.letGo?.(this);
  }

  /** The session `sessionId` ended: if it holds the lock, at whatever depth, the lock is freed. */
  ownerLeft(sessionId: string): void {
    const owner = this.host.ownerId(sessionId);
    this.#holders.delete(owner);
    const check = this.host.hostCheck(owner);
    giveBackSoon(() => this.host.run('smLockGiveBack', [this.lockKey, this.queueKey], [owner, 'exact', this.host.channel, this.objectKey, ...check]));
  }

  /** What this manager's last call saw. */
  protected seen(owner: string | undefined, count: number): void {
    this.owner = owner;
    this.count = owner === undefined ? 0 : count;
  }

  /** The lock's state for inspection, as this manager's last call on it left it. */
  describeState(): { details: { locked: boolean; owner: string | null; waiting: number } } {
    return { details: { locked: this.owner !== undefined, owner: this.owner === undefined ? null : shownOwner(this.host, this.owner), waiting: this.#waiting } };
  }
}

/** Python's `threading.Lock` kept in Redis: anyone may release it. */
export class RedisLock extends RedisLockCore {
  static readonly builtin: string = Lock.builtin;
  static readonly exposed: readonly string[] = Lock.exposed;
  static readonly signatures: Readonly<Record<string, Signature>> = Lock.signatures;
  readonly reentrant = false;

  __repr__(): string {
    return lockRepr(this.owner !== undefined, this);
  }
}

/** Python's `threading.RLock` kept in Redis: its owner goes deeper, and only its owner releases it. */
export class RedisRLock extends RedisLockCore {
  static readonly builtin: string = RLock.builtin;
  static readonly exposed: readonly string[] = RLock.exposed;
  static readonly signatures: Readonly<Record<string, Signature>> = RLock.signatures;
  readonly reentrant = true;

  __repr__(): string {
    return rlockRepr(this.owner === undefined ? undefined : shownOwner(this.host, this.owner), this.count, this);
  }

  override describeState(): { details: { locked: boolean; owner: string | null; count: number; waiting: number } } {
    return { details: { ...super.describeState().details, count: this.count } };
  }
}
