/**
 * What a call took and gives back in Redis because its answer never reached its caller (a queue's
 * item to the front; a delivery made undelivered), and the deliveries a session held when it
 * ended or whose visibility timeout passed, kept until Redis has it. A give-back made while
 * the manager's connection to Redis is down (refused, or sent and its reply lost), or refused by a
 * Redis that refuses for now (a replica after a failover, out of memory, busy with a long script,
 * loading its data), would otherwise lose the item for good: nobody but this manager knows it. So
 * each is kept, in the order the give-backs were asked for, and those that failed are made again
 * once the connection is ready (the store calls {@link GiveBacks.retry} on each reconnection), or
 * soon while it is, in that same order (a queue's give-back carries the item's place in the take
 * order, so its item comes out in that order whenever it is made: see RETURNED_ITEMS in
 * `redisScripts.ts`). A give-back asked for while earlier ones wait waits behind them. Every
 * give-back is one Redis can be asked to make twice (a queue's carries a mark, see
 * `smQueuePutBack`; settling a delivery checks its owner). Only a refusal Redis will repeat
 * however often it is asked (a key of another type) gives up, and says so. At most
 * {@link MAX_KEPT} are kept: past that, one is lost, and logged. A store closing gracefully waits
 * a little for those still kept ({@link GiveBacks.drain}); what is left then is lost, and logged.
 */

import { PyException } from '../exceptions';

/** How many give-backs are kept waiting for Redis at most (each holds its item in memory). */
export const MAX_KEPT = 10_000;

/**
 * How long Redis remembers a give-back it made (its mark, in ms), so that one made again after its
 * reply was lost is not made twice: far longer than Redis is away while a manager keeps serving.
 */
export const GIVE_BACK_MARK_MS = 3_600_000;

/** How long a give-back that failed while the connection looked ready waits before it is made again. */
const RETRY_MS = 1000;

/** How long a store closing waits for the give-backs still kept to be made (ms). */
export const DRAIN_MS = 5000;

interface Kept {
  /** What is given back, as the log names it. */
  readonly what: string;
  readonly make: () => Promise<unknown>;
  /** Being made now (sent, or about to be), or waiting for Redis. */
  making: boolean;
}

/** Whether `error` is the store's: Redis could not be used (the give-back may be made again), not a refusal. */
function storeAway(error: unknown): boolean {
  return error instanceof PyException && error.type === 'ConnectionError';
}

/** One store's give-backs, in order. */
export class GiveBacks {
  readonly #kept: Kept[] = [];
  /** How many wait for Redis (failed, not made again yet). */
  #waiting = 0;
  /** Whether some give-back failed since the last time none waited (what is said of the stretch is said once). */
  #stalled = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Called each time a give-back is made or given up: {@link drain} waits for none to be kept. */
  #changed: (() => void) | undefined;

  constructor(
    private readonly log: (message: string) => void,
    /** Whether the connection to Redis is ready now (a failure while it is gets a later retry of its own). */
    private readonly ready: () => boolean,
    /** Whether `error` is Redis refusing for now what it will take later (see `redisStore.ts`): kept, as when Redis is away. */
    private readonly refusedForNow: (error: unknown) => boolean,
    private readonly limit = MAX_KEPT,
  ) {}

  /**
   * Gives back `what` by `make` (which resolves once Redis made it): at once, unless earlier
   * give-backs wait for Redis, and again once Redis takes it if it fails because Redis is away
   * or refuses for now.
   */
  add(what: string, make: () => Promise<unknown>): void {
    if (this.#kept.length >= this.limit) {
      this.log(`Redis store: ${what} is lost: ${this.limit} give-backs already wait for Redis to be reachable again`);
      return;
    }
    const kept: Kept = { what, make, making: false };
    // The store closed: one try, not kept (see #make).
    if (this.#stopped) return this.#make(kept);
    this.#kept.push(kept);
    if (this.#waiting > 0) this.#waiting++;
    else this.#make(kept);
  }

  /** The connection to Redis is ready again (or Redis may take now what it refused): every give-back waiting is made again, in order. */
  retry(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiting === 0 || this.#stopped) return;
    this.#waiting = 0;
    for (const kept of this.#kept) if (!kept.making) this.#make(kept);
  }

  /**
   * Waits, at most `ms`, for the give-backs kept to be made (the store closing gracefully): made
   * again at once if the connection is ready, else once it is. Resolves with how many are still
   * kept then (lost once the store stops them, see {@link stop}).
   */
  async drain(ms = DRAIN_MS): Promise<number> {
    if (this.#kept.length === 0 || this.#stopped) return this.#kept.length;
    this.log(`Redis store: closing; waiting up to ${ms / 1000} s for the ${this.#kept.length} give-backs not made yet`);
    if (this.ready()) this.retry();
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#changed = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#changed = () => {
        if (this.#kept.length === 0) done();
      };
    });
    return this.#kept.length;
  }

  /** Stops retrying; logs what is lost (the store closes). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    // One being made says what became of it as it settles (see #make).
    for (const kept of this.#kept.splice(0)) if (!kept.making) this.log(`Redis store: ${kept.what} is lost: Redis did not take it before the store closed`);
    this.#waiting = 0;
  }

  #make(kept: Kept): void {
    kept.making = true;
    kept.make().then(
      () => this.#forget(kept),
      (error: unknown) => {
        kept.making = false;
        const reason = (error as Error).message;
        if (this.#stopped) return this.log(`Redis store: ${kept.what} is lost: giving it back failed as the store closed (${reason})`);
        if (!storeAway(error) && !this.refusedForNow(error)) {
          this.#forget(kept);
          this.log(`Redis store: ${kept.what} is lost: Redis refused giving it back, as it will however often it is asked (${reason})`);
          return;
        }
        this.#waiting++;
        if (!this.#stalled) {
          this.#stalled = true;
          this.log(`Redis store: giving back ${kept.what} failed (${reason}); it is kept, with what is given back after it, and given back once Redis takes it`);
        }
        // A failure while the connection looks ready (a refusal for now) has no reconnection to wait for: tried again soon.
        if (this.ready() && this.#timer === undefined) {
          this.#timer = setTimeout(() => this.retry(), RETRY_MS);
          this.#timer.unref();
        }
      },
    );
  }

  #forget(kept: Kept): void {
    const at = this.#kept.indexOf(kept);
    if (at >= 0) this.#kept.splice(at, 1);
    if (this.#stalled && this.#kept.length === 0) {
      this.#stalled = false;
      this.log('Redis store: no give-back waits for Redis any more');
    }
    this.#changed?.();
  }
}
