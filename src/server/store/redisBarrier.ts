/**
 * Barrier kept in Redis: the same methods, results and errors as the in-memory Barrier of
 * `../builtins/barrier`, with parties on any manager of the store's prefix. Keys: `…:barrier` (a
 * hash: the parties waiting, broken, a generation) and `…:parties` (each waiting party's ticket:
 * `w` waiting, then `r` released or `b` broken until the party takes its outcome). The arrival,
 * a timeout, an abort and a reset are each one script, which settles every waiting party's ticket
 * at once; the parties, woken through the wake channel, take their outcomes.
 *
 * **A party that will never arrive.** As in memory, a waiting party whose call is withdrawn (its
 * client cancelled or left) breaks the barrier, as CPython's barrier breaks when a waiter is
 * interrupted. A waiting party on a manager that dies is the same case: when its lease runs out
 * a survivor breaks the barrier ({@link reclaimBarrierParties}), so the other parties get
 * BrokenBarrierError instead of waiting forever, and `reset()` makes it usable again.
 *
 * Only barriers clients create or share by registration live here; they have no action (a
 * client cannot send one). A barrier with an action is made in the server's code, and stays in
 * that manager's memory.
 */

import { randomUUID } from 'node:crypto';
import { isWithdrawn, ownerOf, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled } from '../exceptions';
import { pyNumber } from '../pythonSemantics';
import { Barrier, barrierAttribute, barrierRepr, barrierSeconds, brokenBarrierError } from '../builtins/barrier';
import { heldEntry, type Reclaimer } from './redisLeases';
import type { RedisObjectHost } from './redisStore';
import { NOT_YET, TimedOut } from './redisWakeups';
import { leaveAfter, leaveSurely } from './redisLocks';

/** The kind of holding a waiting party writes into its manager's held index. */
export const BARRIER_PARTY = 'barrier';

function keysOf(objectKey: string): [barrier: string, parties: string] {
  return [`${objectKey}:barrier`, `${objectKey}:parties`];
}

/** The keys of a barrier named `name`. */
export function barrierKeys(host: RedisObjectHost, name: string): [barrier: string, parties: string] {
  return keysOf(host.keyOf(name));
}

/** A dead manager's waiting parties break the barrier: see the module comment. */
export const reclaimBarrierParties: Reclaimer = async (host, objectKey, managerId) => {
  await host.run('smBarrierGiveBack', keysOf(objectKey), [`${managerId}/`, host.channel, objectKey]);
};

/** Python's `threading.Barrier` kept in Redis. */
export class RedisBarrier {
  static readonly builtin: string = Barrier.builtin;
  static readonly exposed: readonly string[] = Barrier.exposed;
  static readonly signatures: Readonly<Record<string, Signature>> = Barrier.signatures;

  /** `parties` as given (2, 2.0, True), for `__getattribute__` and the repr. */
  readonly #parties: unknown;
  /** The arrival count that releases the barrier, for the script: 0 when none can equal `parties`. */
  readonly #releaseAt: number;
  readonly #timeout: unknown;
  readonly #objectKey: string;
  readonly #keys: [string, string];
  /** The state as this manager last saw it (reprs and inspection). */
  #waiting = 0;
  #broken = false;

  /** @param parties and timeout as `barrierArguments` checked them. */
  constructor(
    private readonly host: RedisObjectHost,
    name: string,
    parties: unknown,
    timeout: unknown = null,
  ) {
    this.#parties = parties;
    const n = Number(pyNumber(parties));
    this.#releaseAt = Number.isInteger(n) ? n : 0;
    this.#timeout = timeout;
    this.#objectKey = host.keyOf(name);
    this.#keys = keysOf(this.#objectKey);
  }

  async #state(): Promise<void> {
    const [waiting, broken] = (await this.host.run('smBarrierState', [this.#keys[0]], [])) as [number, number];
    this.#broken = broken === 1;
    this.#waiting = this.#broken ? 0 : waiting;
  }

  /**
   * Reads `parties`, `n_waiting` or `broken`, as BarrierProxy does.
   * @throws PyException AttributeError for any other name, TypeError for a name that is not a str.
   */
  async __getattribute__(name: unknown): Promise<unknown> {
    const attribute = barrierAttribute(name);
    if (attribute === 'parties') return this.#parties;
    await this.#state();
    return attribute === 'broken' ? this.#broken : this.#waiting;
  }

  /**
   * Python's `wait(timeout=None)`, as the in-memory Barrier's: the caller's arrival index, once
   * all parties have arrived. A wait that times out, or is withdrawn, breaks the barrier.
   * @throws PyException BrokenBarrierError; TypeError, OverflowError for a bad timeout.
   */
  async wait(timeout: unknown = null, context: CallContext = {}): Promise<number> {
    if (isWithdrawn(context)) throw new CallCancelled();
    let mode: 'wait' | 'zero' | 'error' = 'wait';
    let seconds: number | null = null;
    let bad: unknown;
    try {
      seconds = barrierSeconds(timeout ?? this.#timeout);
      if (seconds !== null && seconds <= 0) mode = 'zero';
    } catch (error) {
      mode = 'error';
      bad = error;
    }
    // Listed as blocked from the start, as the in-memory wait is.
    if (mode === 'wait') context.mayWait?.();
    const owner = this.host.ownerId(ownerOf(context));
    const ticket = `${owner}#${randomUUID()}`;
    let arrived: [outcome: number, index: number];
    try {
      arrived = (await this.host.run(
        'smBarrierArrive',
        [...this.#keys, this.host.heldIndexOf(owner)],
        [this.#releaseAt, mode, ticket, heldEntry(BARRIER_PARTY, this.#objectKey), this.host.channel, this.#objectKey],
      )) as typeof arrived;
    } catch (error) {
      // Its reply lost, the arrival may have been counted: this party, failing, will not wait, and
      // leaves as a withdrawn one does (the barrier breaks), lest the others go on without it.
      if (mode === 'wait') await leaveSurely(() => this.#leave(ticket, 'withdrawn'));
      throw error;
    }
    const [outcome, index] = arrived;
    if (outcome === 1) {
      this.#waiting = 0;
      return index;
    }
    if (outcome === 2) throw bad;
    if (outcome === -1) {
      this.#broken = true;
      this.#waiting = 0;
      throw brokenBarrierError();
    }
    this.#waiting = index + 1;
    // Its arrival counted: failing from here on (the barrier broken as it leaves), the wait is not one that was not carried out.
    const released = await this.#outcome(ticket, seconds, context).catch((error: unknown) => Promise.reject(this.host.afterAnEffect(error)));
    return released ? index : Promise.reject(brokenBarrierError());
  }

  /** Waits for a waiting party's outcome: true released, false broken (or reset). */
  async #outcome(ticket: string, seconds: number | null, context: CallContext): Promise<boolean> {
    try {
      return await this.host.wakeups.until({
        key: this.#objectKey,
        seconds,
        context,
        attempt: async () => {
          const outcome = (await this.host.run('smBarrierOutcome', [this.#keys[1]], [ticket])) as number;
          return outcome === 0 ? NOT_YET : outcome === 1;
        },
        expiry: () => new TimedOut(),
      });
    } catch (error) {
      // Timed out, withdrawn, or Redis away: this party will not arrive, and the barrier breaks
      // (unless it released this party meanwhile).
      const released = await leaveAfter(error, (why) => this.#leave(ticket, why));
      // Released, its outcome was kept for a leave made again (see smBarrierLeave): taken now. Redis
      // away, it stays until this manager's holdings are given back (smBarrierGiveBack).
      if (released) await this.host.run('smBarrierOutcome', [this.#keys[1]], [ticket]).catch(() => {});
      return released;
    }
  }

  /** A waiting party leaves (see smBarrierLeave): 1 when it had been released meanwhile, else -1. */
  #leave(ticket: string, why: 'timeout' | 'withdrawn'): Promise<unknown> {
    return this.host.run('smBarrierLeave', this.#keys, [ticket, this.host.channel, this.#objectKey, why]);
  }

  /** Python's `abort()`: breaks the barrier; waiters and later waits get BrokenBarrierError. */
  async abort(): Promise<undefined> {
    await this.host.run('smBarrierEnd', this.#keys, ['b', this.host.channel, this.#objectKey]);
    this.#broken = true;
    this.#waiting = 0;
    return undefined;
  }

  /** Python's `reset()`: the waiters get BrokenBarrierError, and the barrier is ready for a new cycle. */
  async reset(): Promise<undefined> {
    await this.host.run('smBarrierEnd', this.#keys, ['r', this.host.channel, this.#objectKey]);
    this.#broken = false;
    this.#waiting = 0;
    return undefined;
  }

  /** Python's repr, as this manager last saw the barrier. */
  __repr__(): string {
    return barrierRepr(this.#broken, this.#waiting, this.#parties, this);
  }

  /** The barrier's state for inspection, as this manager last saw it. */
  describeState(): { details: { parties: number; waiting: number; broken: boolean } } {
    return { details: { parties: Number(pyNumber(this.#parties)), waiting: this.#waiting, broken: this.#broken } };
  }
}
