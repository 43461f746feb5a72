/**
 * Condition kept in Redis, over a Lock or RLock kept in Redis (its own RLock, or the one it was
 * made with): the same methods, results and errors as the in-memory Condition of
 * `../builtins/condition`, across managers. Keys: `…:waiters` (the tickets of the waiting
 * callers, a list in arrival order) and `…:notified` (tickets notified, not yet taken up).
 *
 * `wait()` is three steps: one script checks that the caller holds the lock, frees it and adds
 * the caller's ticket to the waiters; the caller then waits for its ticket to be notified (or its
 * timeout); then it takes the lock back at the depth it had, like any acquire, before its result
 * is delivered, spending its notification in the same script. `notify(n)` moves the n longest
 * waiters' tickets to the notified set, in one script that checks the notifier holds the lock.
 *
 * **A waiter that leaves**, as in memory: before it is notified it simply leaves the line; once
 * notified, its notification passes to the longest waiter still waiting. A ticket carries its
 * owner's global id, so when a manager dies a survivor removes its waiters' tickets (passing on
 * the notifications they had not spent, {@link reclaimConditionWaiters}); the lock a dead
 * waiter held is the lock's own holding (`redisLocks.ts`).
 */

import { randomUUID } from 'node:crypto';
import { isWithdrawn, ownerOf, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled } from '../exceptions';
import { pyNumber } from '../pythonSemantics';
import { cannotNotify, cannotWait, Condition, conditionRepr, notifyCount, waitTimeout } from '../builtins/condition';
import { heldEntry, type Reclaimer } from './redisLeases';
import type { RedisObjectHost } from './redisStore';
import { NOT_YET, TimedOut } from './redisWakeups';
import { leaveAfter, leaveSurely, lockKeys, RedisLockCore, RedisRLock } from './redisLocks';
import { answersRecorded } from './redisAnswers';

/** The kind of holding a condition's waiter writes into its manager's held index. */
export const CONDITION_WAITER = 'condwait';

function keysOf(objectKey: string): [waiters: string, notified: string] {
  return [`${objectKey}:waiters`, `${objectKey}:notified`];
}

/** The name of a condition's own RLock. */
function ownLockName(name: string): string {
  return `${name}:lock`;
}

/** The keys of a condition named `name` (with its own lock's). */
export function conditionKeys(host: RedisObjectHost, name: string): string[] {
  return [...keysOf(host.keyOf(name)), ...lockKeys(host, ownLockName(name))];
}

/** A dead manager's waiters leave the condition: see `redisLeases.ts`. */
export const reclaimConditionWaiters: Reclaimer = async (host, objectKey, managerId) => {
  await host.run('smCondGiveBack', keysOf(objectKey), [`${managerId}/`, host.channel, objectKey]);
};

/** What `notify`'s n asks the script for: a count, `all`, or `bad` (not a number). */
function notifyArgument(n: unknown): number | 'all' | 'bad' {
  const count = pyNumber(n);
  if (count === undefined) return 'bad';
  const x = Number(count);
  if (!(x > 0)) return 0;
  // Python's loop takes 1 from n per waiter woken while n > 0: n = 1.5 wakes two.
  return Number.isFinite(x) ? Math.ceil(x) : 'all';
}

/** Python's `threading.Condition` kept in Redis. */
export class RedisCondition {
  static readonly builtin: string = Condition.builtin;
  static readonly exposed: readonly string[] = Condition.exposed;
  static readonly signatures: Readonly<Record<string, Signature>> = Condition.signatures;

  /** Its lock: a Lock or RLock kept in Redis. */
  readonly #lock: RedisLockCore;
  readonly #objectKey: string;
  readonly #keys: [string, string];
  /** This manager's callers waiting for a notify (reprs and inspection). */
  #waiting = 0;

  /** @param lock the lock to use; a new RLock kept in Redis when absent, as in Python. */
  constructor(
    private readonly host: RedisObjectHost,
    name: string,
    lock?: RedisLockCore,
  ) {
    this.#lock = lock ?? new RedisRLock(host, ownLockName(name));
    this.#objectKey = host.keyOf(name);
    this.#keys = keysOf(this.#objectKey);
  }

  /**
   * Whether `method` records its answer in Redis where it has an effect (see `redisAnswers.ts`): a
   * notify does (`smCondNotify`); a wait, three steps, does not.
   */
  [answersRecorded](method: string): boolean {
    return method === 'notify' || method === 'notify_all';
  }

  /** Python's `acquire(blocking=True, timeout=-1)`: the lock's. */
  acquire(blocking: unknown = true, timeout: unknown = -1, context: CallContext = {}): Promise<boolean> {
    return this.#lock.acquire(blocking, timeout, context);
  }

  /** Python's `release()`: the lock's. */
  release(context: CallContext = {}): Promise<undefined> {
    return this.#lock.release(context);
  }

  /**
   * Python's `wait(timeout=None)`, as the in-memory Condition's: true when notified, false when
   * the timeout passed; delivered once the lock is held again at its depth.
   * @throws PyException RuntimeError 'cannot wait on un-acquired lock'; TypeError, OverflowError
   *   for a bad timeout (the lock kept, as in Python).
   */
  async wait(timeout: unknown = null, context: CallContext = {}): Promise<boolean> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const caller = this.host.ownerId(ownerOf(context));
    let seconds: number | null = 0;
    let bad: unknown;
    try {
      seconds = waitTimeout(timeout);
    } catch (error) {
      bad = error;
    }
    const how = bad !== undefined ? 'check' : seconds === 0 ? 'once' : 'park';
    // Listed as blocked from the start, as the in-memory wait is (taking the lock back may wait too).
    if (how !== 'check') context.mayWait?.();
    const ticket = `${caller}#${randomUUID()}`;
    const lock = this.#lock;
    let parked: [saved: number, before: string | null];
    try {
      parked = (await this.host.run(
        'smCondWait',
        [lock.lockKey, lock.queueKey, this.#keys[0], this.host.heldIndexOf(caller)],
        [caller, lock.reentrant ? 0 : 1, ticket, how, heldEntry(CONDITION_WAITER, this.#objectKey), this.host.channel, lock.objectKey],
      )) as typeof parked;
    } catch (error) {
      // Its reply lost, the step may have put the ticket in line: out of it again (a notify spent on it
      // would reach nobody); and it may have freed the lock: who holds it is read back. Both tried
      // again a few times while Redis is away.
      if (how === 'park') await leaveSurely(() => this.#leave(ticket, 'withdrawn'));
      if (how !== 'check') await leaveSurely(() => lock.holdersAgain());
      throw error;
    }
    const [saved, before] = parked;
    if (saved === -1) throw cannotWait();
    if (bad !== undefined) throw bad;
    lock.freed(before!);
    // The lock freed: failing from here on, the wait is not one that was not carried out.
    try {
      const notified = how === 'park' ? await this.#untilNotified(ticket, seconds, context) : false;
      // Takes the lock back; a notified waiter that leaves first passes its notification on.
      try {
        if (isWithdrawn(context)) throw new CallCancelled();
        await lock.acquireAs(context, saved, null, false, notified ? { key: this.#keys[1], ticket } : undefined);
      } catch (error) {
        if (notified) await leaveSurely(() => this.#leave(ticket, 'withdrawn'));
        throw error;
      }
      return notified;
    } catch (error) {
      throw this.host.afterAnEffect(error);
    }
  }

  /** Waits for the ticket to be notified: true; false once the timeout passed first. */
  async #untilNotified(ticket: string, seconds: number | null, context: CallContext): Promise<boolean> {
    this.#waiting++;
    try {
      return await this.host.wakeups.until({
        key: this.#objectKey,
        seconds,
        context,
        attempt: async () => ((await this.host.run('smCondNotified', [this.#keys[1]], [ticket])) === 1 ? true : NOT_YET),
        expiry: () => new TimedOut(),
        undo: () => this.#leave(ticket, 'withdrawn').then(() => {}),
      });
    } catch (error) {
      // Out of the line, as any waiter (leaveAfter): timed out, it was notified after all if a notify came
      // first; withdrawn, or Redis away even at the timeout, a notification it got passes on.
      return await leaveAfter(error, async (why) => ((await this.#leave(ticket, why)) ? 1 : 0));
    } finally {
      this.#waiting--;
    }
  }

  /** The ticket leaves the line (see smCondLeave); true when it had been notified. */
  async #leave(ticket: string, why: 'timeout' | 'withdrawn'): Promise<boolean> {
    return (await this.host.run('smCondLeave', this.#keys, [ticket, why, this.host.channel, this.#objectKey])) === 1;
  }

  /**
   * Python's `notify(n=1)`: the n longest waiters are notified; each takes the lock back once the
   * caller releases it.
   * @throws PyException RuntimeError 'cannot notify on un-acquired lock'; TypeError for an n that
   *   is not a number (only when somebody waits, as in Python).
   */
  async notify(n: unknown = 1, context: CallContext = {}): Promise<undefined> {
    return this.#notify(notifyArgument(n), context, n);
  }

  /** Python's `notify_all()`. */
  async notify_all(context: CallContext = {}): Promise<undefined> {
    return this.#notify('all', context);
  }

  async #notify(count: number | 'all' | 'bad', context: CallContext, n?: unknown): Promise<undefined> {
    const lock = this.#lock;
    const caller = this.host.ownerId(ownerOf(context));
    const done = (await this.host.run('smCondNotify', [lock.lockKey, ...this.#keys], [caller, lock.reentrant ? 0 : 1, count, this.host.channel, this.#objectKey, ...this.host.answerRecord(context)])) as number;
    if (done === -1) throw cannotNotify();
    if (done === -2) notifyCount(n);
    return undefined;
  }

  /** Python's repr, with this manager's waiters. */
  __repr__(): string {
    return conditionRepr(this.#lock.__repr__(), this.#waiting);
  }

  /** The condition's state for inspection, as this manager last saw it. */
  describeState(): { details: { lock: 'Lock' | 'RLock'; locked: boolean; owner: string | null; waiting: number } } {
    const { locked, owner } = this.#lock.describeState().details;
    return { details: { lock: this.#lock.reentrant ? 'RLock' : 'Lock', locked, owner, waiting: this.#waiting } };
  }
}
