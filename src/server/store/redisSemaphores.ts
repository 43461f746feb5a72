/**
 * Semaphore and BoundedSemaphore kept in Redis: the same methods, results and errors as the
 * in-memory ones of `../builtins/locks`, each method one atomic script, the permits shared by
 * every manager on the store's prefix. Keys: `…:sem` (a hash: free permits, the initial value,
 * and the permits held), `…:holders` (the permits each owner acquired and did not release
 * itself, by global owner id), and `…:queue` and `…:granted` (the tickets of the waiting
 * acquires, and of those handed a permit, first come first served: `redisPrimitiveScripts.ts`),
 * so that a session's end, or its manager's death, gives back what it
 * held, as in memory (a BoundedSemaphore never past its initial value).
 *
 * The state is made by the first script that finds it missing, from the initial value each
 * manager's object was made with (the same for a `shared` registration on every manager).
 * A blocked acquire, woken by the key's publish, finds whether a permit was handed to it.
 */

import { randomUUID } from 'node:crypto';
import { isWithdrawn, ownerOf, type CallContext, type HeldResource, type Signature } from '../calls/methodDispatch';
import { CallCancelled } from '../exceptions';
import { releaseCount, releasedTooManyTimes, Semaphore, semaphoreBlocks, semaphoreInitial, semaphoreRepr, semaphoreWaitSeconds } from '../builtins/locks';
import { heldEntry, type Reclaimer } from './redisLeases';
import type { RedisObjectHost } from './redisStore';
import { NOT_YET, TimedOut } from './redisWakeups';
import { AnsweredInGroup, answersRecorded, NO_RECORD } from './redisAnswers';
import { giveBackSoon, leaveAfter, releaseRecord, shownOwner } from './redisLocks';

/** The kind of holding a semaphore writes into its manager's held index. */
export const SEMAPHORE_HOLDING = 'sem';

/** The keys of the semaphore whose key prefix is `objectKey`. */
function keysOf(objectKey: string): [semaphore: string, holders: string, queue: string, granted: string] {
  return [`${objectKey}:sem`, `${objectKey}:holders`, `${objectKey}:queue`, `${objectKey}:granted`];
}

/** The keys of a semaphore named `name`. */
export function semaphoreKeys(host: RedisObjectHost, name: string): [semaphore: string, holders: string, queue: string, granted: string] {
  return keysOf(host.keyOf(name));
}

/** A dead manager's (or one's own, at stop) permits given back: see `redisLeases.ts`. */
export const reclaimPermits: Reclaimer = async (host, objectKey, managerId) => {
  await host.run('smSemGiveBack', keysOf(objectKey), [`${managerId}/`, 'prefix', host.channel, objectKey]);
};

/** What the waiting calls of a session whose manager died left on a semaphore, given up (its lease id: `redisSessions.ts`). */
export const withdrawPermitWaiters: Reclaimer = async (host, objectKey, leaseId) => {
  await host.run('smSemGiveBack', keysOf(objectKey), [`${leaseId}/`, 'waiters', host.channel, objectKey]);
};

/** Python's `threading.Semaphore` kept in Redis. */
export class RedisSemaphore implements HeldResource {
  static readonly builtin: string = Semaphore.builtin;
  static readonly exposed: readonly string[] = Semaphore.exposed;
  static readonly signatures: Readonly<Record<string, Signature>> = Semaphore.signatures;

  protected readonly initial: number;
  readonly #objectKey: string;
  readonly #keys: [string, string, string, string];
  /** Free permits as this manager's last call saw them (reprs and inspection). */
  protected value: number;
  #waiting = 0;
  /** Permits this manager's sessions hold, as their last calls saw them (inspection). */
  readonly #mine = new Map<string, number>();
  /** The contexts of this manager's calls that acquired, by owner: told to let go when the owner holds none. */
  readonly #holders = new Map<string, CallContext>();

  /** @throws PyException as the in-memory Semaphore's constructor. */
  constructor(
    protected readonly host: RedisObjectHost,
    name: string,
    value: unknown = 1,
  ) {
    this.initial = semaphoreInitial(value);
    this.value = this.initial;
    this.#objectKey = host.keyOf(name);
    this.#keys = keysOf(this.#objectKey);
  }

  /** '1' for a BoundedSemaphore. */
  protected get bounded(): '0' | '1' {
    return '0';
  }

  /** Whether `method` records its answer in Redis where it has an effect (see `redisAnswers.ts`): an acquire and a release do. */
  [answersRecorded](_method: string): boolean {
    return true;
  }

  /**
   * Python's `acquire(blocking=True, timeout=None)`, as the in-memory Semaphore's: true when a
   * permit was taken; false when not blocking, or once the timeout passed.
   * @throws PyException ValueError "can't specify timeout for non-blocking acquire"; TypeError
   *   for a timeout that is not a number (only when it must wait, as in Python).
   */
  async acquire(blocking: unknown = true, timeout: unknown = null, context: CallContext = {}): Promise<boolean> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const block = semaphoreBlocks(blocking, timeout);
    // Python reads the timeout only once it must wait: a bad one is raised then.
    let seconds: number | null = 0;
    let bad: unknown;
    if (block) {
      try {
        seconds = semaphoreWaitSeconds(timeout);
      } catch (error) {
        bad = error;
      }
    }
    const waits = block && bad === undefined && seconds !== 0;
    // A call that may wait is listed as blocked before its first step (SPEC 8.5): see `RedisQueue`.
    if (waits) context.mayWait?.();
    const owner = this.host.ownerId(ownerOf(context));
    const ticket = waits ? `${owner}#${randomUUID()}` : '';
    // Where its answer is recorded when it takes a permit (SPEC 20.4.1, `redisAnswers.ts`).
    const record = this.host.answerRecord(context);
    const keys = [this.#keys[0], this.#keys[1], this.#keys[2], this.host.heldIndexOf(owner)];
    // Out of the queue; handed a permit meanwhile, a timed-out acquire keeps it and a withdrawn one passes it on.
    const leave = (why: 'timeout' | 'withdrawn') => this.host.run('smSemLeave', this.#keys, [ticket, owner, why, this.host.channel, this.#objectKey, ...(why === 'timeout' ? record : NO_RECORD)]);
    // Its reply from Redis lost, a permit was taken (its answer recorded, see `redisAnswers.ts`): the session holds it here as any other.
    const answered = (error: unknown): boolean => error instanceof AnsweredInGroup && this.#granted(owner, (this.#mine.get(owner) ?? 0) + 1, context);
    let tried: [taken: number, value: number, mine: number];
    try {
      tried = (await this.host.run('smSemAcquire', keys, [this.initial, this.bounded, owner, heldEntry(SEMAPHORE_HOLDING, this.#objectKey), ticket, ...record])) as typeof tried;
    } catch (error) {
      if (answered(error)) return true;
      // Its ticket may be in line (its reply lost): out of it again (this throws `error`) before the call fails.
      if (ticket) await leaveAfter(error, leave);
      throw error;
    }
    const [taken, value, mine] = tried;
    this.value = value;
    if (taken === 1) return this.#granted(owner, mine, context);
    if (bad !== undefined) throw bad;
    if (!waits) return false;
    this.#waiting++;
    try {
      const mineNow = await this.host.wakeups.until({
        key: this.#objectKey,
        seconds,
        context,
        attempt: async () => {
          const [got, value, mine] = (await this.host.run('smSemGranted', [this.#keys[0], this.#keys[1], this.#keys[3]], [ticket, owner, ...record])) as [number, number, number];
          this.value = value;
          return got === 1 ? mine : NOT_YET;
        },
        expiry: () => new TimedOut(),
        // Granted as the caller was withdrawn: the permit goes back (to the next waiter).
        undo: () => this.host.run('smSemRelease', this.#keys, [this.initial, 0, 1, owner, this.host.channel, this.#objectKey, ...record]).then(() => {}),
      });
      return this.#granted(owner, mineNow, context);
    } catch (error) {
      if (answered(error)) return true;
      return (await leaveAfter(error, leave)) ? this.#granted(owner, (this.#mine.get(owner) ?? 0) + 1, context) : false;
    } finally {
      this.#waiting--;
    }
  }

  /** A session taken over from a manager that is gone holds its permits here, if it holds any in Redis (SPEC 20.4.1). */
  async takenOver(context: CallContext): Promise<void> {
    const owner = this.host.ownerId(ownerOf(context));
    const [value, mine] = (await this.host.run('smSemHeld', this.#keys.slice(0, 2), [owner])) as [number, number];
    this.value = value;
    if (mine > 0) this.#granted(owner, mine, context);
  }

  #granted(owner: string, mine: number, context: CallContext): true {
    this.#mine.set(owner, mine);
    this.#holders.set(owner, context);
    context.hold?.(this);
    return true;
  }
  /**
   * Python's `release(n=1)`: n more permits; the caller's own are the ones it gives back, as far
   * as it has any.
   * @throws PyException ValueError 'n must be one or more'; a BoundedSemaphore's 'Semaphore released too many times'.
   */
  async release(n: unknown = 1, context: CallContext = {}): Promise<undefined> {
    const count = releaseCount(n);
    const owner = this.host.ownerId(ownerOf(context));
    let released: [done: number, value: number, left: number, before: number];
    try {
      released = (await this.host.run('smSemRelease', this.#keys, [this.initial, this.bounded, count, owner, this.host.channel, this.#objectKey, ...releaseRecord(this.host.answerRecord(context))])) as typeof released;
    } catch (error) {
      // Its reply from Redis lost, it released (its answer recorded, see `redisAnswers.ts`): the permits the caller holds now are
      // read back (that read failing too, the session lets go of them when it ends, as they are given back then).
      if (error instanceof AnsweredInGroup) await this.#heldAgain(owner).catch(() => {});
      throw error;
    }
    const [done, value, left, before] = released;
    this.value = value;
    if (done === -1) throw releasedTooManyTimes();
    if (before > 0) this.#holding(owner, left);
    return undefined;
  }

  /** Owner `owner` holds `left` permits now: at none, its session lets go of the semaphore. */
  #holding(owner: string, left: number): void {
    if (left > 0) return void this.#mine.set(owner, left);
    this.#mine.delete(owner);
    const holder = this.#holders.get(owner);
    this.#holders.delete(owner);
    holder?.letGo?.(this);
  }

  /** Reads how many permits `owner` holds, after a release whose reply was lost. */
  async #heldAgain(owner: string): Promise<void> {
    const [value, mine] = (await this.host.run('smSemHeld', this.#keys.slice(0, 2), [owner])) as [number, number];
    this.value = value;
    if (this.#mine.has(owner)) this.#holding(owner, mine);
  }

  /** The session `sessionId` ended: the permits it acquired and still holds come back. */
  ownerLeft(sessionId: string): void {
    const owner = this.host.ownerId(sessionId);
    this.#mine.delete(owner);
    this.#holders.delete(owner);
    const check = this.host.hostCheck(owner);
    giveBackSoon(() => this.host.run('smSemGiveBack', this.#keys, [owner, 'exact', this.host.channel, this.#objectKey, ...check]));
  }

  /** Python's repr, with the free permits this manager last saw. */
  __repr__(): string {
    return semaphoreRepr(this.value, this);
  }

  /** The semaphore's state for inspection, as this manager's last calls on it left it. */
  describeState(): { details: Record<string, unknown> } {
    const holders = Object.fromEntries([...this.#mine].map(([owner, n]) => [shownOwner(this.host, owner), n]));
    return { details: { value: this.value, waiting: this.#waiting, holders } };
  }
}

/** Python's `threading.BoundedSemaphore` kept in Redis: never above its initial value. */
export class RedisBoundedSemaphore extends RedisSemaphore {
  static override readonly builtin: string = 'BoundedSemaphore';

  protected override get bounded(): '0' | '1' {
    return '1';
  }

  override __repr__(): string {
    return semaphoreRepr(this.value, this, this.initial);
  }

  override describeState(): { details: Record<string, unknown> } {
    const { details } = super.describeState();
    return { details: { ...details, initial: this.initial } };
  }
}
