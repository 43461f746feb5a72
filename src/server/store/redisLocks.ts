/**
 * Lock and RLock kept in Redis: the same methods, results and errors as the in-memory locks of
 * `../builtins/locks`, each method one atomic script, shared by every manager on the store's
 * prefix. The lock is one hash (`…:lock`: owner, count) holding the owner's global id
 * (`MANAGER/SESSION`, see `redisLeases.ts`), so a session of manager A and one of manager B are
 * different owners even when their session ids are alike.
 *
 * **Waiters.** A blocked acquire waits for the lock's key to be published (a release, a give-back,
 * a Condition's wait giving it up, through any manager) and tries again. Unlike the in-memory
 * lock, which hands itself to its longest waiter, a freed lock goes to whichever waiter's try
 * comes first, as with CPython's own `threading.Lock`, which promises no order either.
 *
 * **Ownership.** As in memory: the session that acquired holds the lock (`context.hold`), its end
 * gives it back (`ownerLeft`, a script), and a release by anybody else clears that record. The
 * acquiring script also writes the lock into this manager's held index, so that if the manager
 * dies, a survivor gives the lock back ({@link reclaimLock}) once its lease runs out.
 */

import { isWithdrawn, ownerOf, type CallContext, type HeldResource, type Signature } from '../calls/methodDispatch';
import { CallCancelled } from '../exceptions';
import { Lock, lockRepr, lockWaitSeconds, releaseUnacquired, releaseUnlocked, RLock, rlockRepr } from '../builtins/locks';
import { heldEntry, type Reclaimer } from './redisLeases';
import type { RedisObjectHost } from './redisStore';
import { NOT_YET } from './redisWakeups';

/** The kind of holding a lock writes into its manager's held index. */
export const LOCK_HOLDING = 'lock';

/** The hash holding a lock's owner and depth, for the lock whose key prefix is `objectKey`. */
export function lockKeyOf(objectKey: string): string {
  return `${objectKey}:lock`;
}

/** The keys of a lock named `name`. */
export function lockKeys(host: RedisObjectHost, name: string): [lock: string] {
  return [lockKeyOf(host.keyOf(name))];
}

/** The deadline of a wait passed: the call answers False. */
export class TimedOut extends Error {}

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

/** An owner as inspection and reprs show it: a session id for this manager's own, the global id for another's. */
export function shownOwner(host: RedisObjectHost, owner: string): string {
  const mine = `${host.managerId}/`;
  return owner.startsWith(mine) ? owner.slice(mine.length) : owner;
}

/** A dead manager's (or one's own, at stop) lock given back: see `redisLeases.ts`. */
export const reclaimLock: Reclaimer = async (host, objectKey, managerId) => {
  await host.run('smLockGiveBack', [lockKeyOf(objectKey)], [`${managerId}/`, 'prefix', host.channel, objectKey]);
};

/** What Lock and RLock share, and what a Condition over one uses. */
export abstract class RedisLockCore implements HeldResource {
  /** The key changes are published under. */
  readonly objectKey: string;
  /** The hash holding owner and depth. */
  readonly lockKey: string;
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
    this.lockKey = lockKeyOf(this.objectKey);
  }

  /** Whether the owner may acquire again, one level deeper (an RLock), and only the owner may release it. */
  abstract readonly reentrant: boolean;

  /** Python's repr, from what this manager last saw. */
  abstract __repr__(): string;

  /** Python's `locked()`. */
  async locked(): Promise<boolean> {
    const [owner, count] = (await this.host.run('smLockState', [this.lockKey], [])) as [string | null, number];
    this.seen(owner ?? undefined, count);
    return owner !== null;
  }

  /**
   * Takes the lock for the caller at depth `count`, waiting up to `seconds` (0: one try, null:
   * forever). True when taken; false when the timeout passed. A call that may wait must come
   * here before its method's first `await`, or have made its signal already. `notified`: a
   * Condition's notified waiter taking the lock back, which spends its notification.
   */
  async acquireAs(context: CallContext, count: number, seconds: number | null, reentrant: boolean, notified?: { key: string; ticket: string }): Promise<boolean> {
    // A call that may wait makes its signal before its first step (SPEC 8.5): see `RedisQueue`.
    if (seconds !== 0) void context.signal;
    const owner = this.host.ownerId(ownerOf(context));
    const entry = heldEntry(LOCK_HOLDING, this.objectKey);
    const attempt = async (): Promise<number | typeof NOT_YET> => {
      const got = (
        notified
          ? await this.host.run('smCondReacquire', [this.lockKey, this.host.heldIndexKey, notified.key], [owner, count, entry, notified.ticket])
          : await this.host.run('smLockAcquire', [this.lockKey, this.host.heldIndexKey], [owner, count, reentrant ? 1 : 0, entry])
      ) as number;
      if (got === 0) return NOT_YET;
      this.seen(owner, got === 1 ? count : this.count + 1);
      return got;
    };
    this.#waiting++;
    try {
      const got = await this.host.wakeups.until({ key: this.objectKey, seconds, context, attempt, expiry: () => new TimedOut(), undo: (got) => this.#undo(owner, got) });
      if (got === 1) {
        this.#holders.set(owner, context);
        context.hold?.(this);
      }
      return true;
    } catch (error) {
      if (error instanceof TimedOut) return false;
      throw error;
    } finally {
      this.#waiting--;
    }
  }

  /** An acquire whose caller was withdrawn as it succeeded: what it took goes back. */
  async #undo(owner: string, got: number): Promise<void> {
    if (got === 1) await this.host.run('smLockGiveBack', [this.lockKey], [owner, 'exact', this.host.channel, this.objectKey]);
    else await this.host.run('smLockRelease', [this.lockKey], [owner, 0, 0, this.host.channel, this.objectKey]);
  }

  /**
   * Python's `release()`: one level less (a Lock has one); at zero the lock is free.
   * @throws PyException RuntimeError 'release unlocked lock' (a Lock), 'cannot release
   *   un-acquired lock' (an RLock the caller does not hold).
   */
  async release(context: CallContext = {}): Promise<undefined> {
    const caller = this.host.ownerId(ownerOf(context));
    const [left, before] = (await this.host.run('smLockRelease', [this.lockKey], [caller, 0, this.reentrant ? 0 : 1, this.host.channel, this.objectKey])) as [number, string | null];
    if (left === -1) throw this.reentrant ? releaseUnacquired() : releaseUnlocked();
    this.seen(left === 0 ? undefined : before!, left);
    if (left === 0) this.freed(before!);
    return undefined;
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
    giveBackSoon(() => this.host.run('smLockGiveBack', [this.lockKey], [owner, 'exact', this.host.channel, this.objectKey]));
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

  /**
   * Python's `acquire(blocking=True, timeout=-1)`, as the in-memory Lock's.
   * @throws PyException ValueError, TypeError or OverflowError for bad arguments.
   */
  async acquire(blocking: unknown = true, timeout: unknown = -1, context: CallContext = {}): Promise<boolean> {
    if (isWithdrawn(context)) throw new CallCancelled();
    return this.acquireAs(context, 1, lockWaitSeconds(blocking, timeout), false);
  }

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

  /**
   * Python's `acquire(blocking=True, timeout=-1)`, as the in-memory RLock's.
   * @throws PyException ValueError, TypeError or OverflowError for bad arguments.
   */
  async acquire(blocking: unknown = true, timeout: unknown = -1, context: CallContext = {}): Promise<boolean> {
    if (isWithdrawn(context)) throw new CallCancelled();
    return this.acquireAs(context, 1, lockWaitSeconds(blocking, timeout), true);
  }

  __repr__(): string {
    return rlockRepr(this.owner === undefined ? undefined : shownOwner(this.host, this.owner), this.count, this);
  }

  override describeState(): { details: { locked: boolean; owner: string | null; count: number; waiting: number } } {
    return { details: { ...super.describeState().details, count: this.count } };
  }
}
