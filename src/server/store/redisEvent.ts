/**
 * Event kept in Redis: the flag, and a count of the times it was set, in one hash; each method one
 * script. A wait that must block waits for the event's key to be published (a set through any
 * manager), and returns True once the flag is set or the count moved past the one it started
 * with, so a waiter woken by a set returns True even if another caller cleared the flag at once,
 * as with the in-memory Event.
 */

import { isWithdrawn, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { pyAddress, pyNumber, pyTypeName } from '../pythonSemantics';
import { Event } from '../builtins/event';
import { clampSeconds, refuseOverlongTimeout } from '../builtins/waiting';
import type { RedisObjectHost } from './redisStore';
import { NOT_YET, TimedOut } from './redisWakeups';
import { answersRecorded } from './redisAnswers';

/** The keys of an event named `name`. */
export function eventKeys(host: RedisObjectHost, name: string): [event: string] {
  return [`${host.keyOf(name)}:event`];
}

/** Python's `threading.Event` kept in Redis. */
export class RedisEvent {
  static readonly builtin: string = Event.builtin;
  static readonly exposed: readonly string[] = Event.exposed;
  static readonly signatures: Readonly<Record<string, Signature>> = Event.signatures;

  readonly #key: string;
  readonly #keys: [string];
  /** The flag as this manager's last call saw it, and its waiting callers (inspection). */
  #flag = false;
  #waiting = 0;

  constructor(
    private readonly host: RedisObjectHost,
    name: string,
  ) {
    this.#key = host.keyOf(name);
    this.#keys = eventKeys(host, name);
  }

  /** The flag and its count of sets: a read (`effect: 'none'`; an Event's wait has no effect either). */
  async #state(): Promise<[flag: boolean, gen: number]> {
    const [flag, gen] = (await this.host.run('smEventState', this.#keys, [])) as [number, number];
    this.#flag = flag === 1;
    return [this.#flag, gen];
  }

  /** Python's `is_set()`. */
  async is_set(): Promise<boolean> {
    return (await this.#state())[0];
  }

  /** Whether `method` records its answer in Redis where it has an effect (see `redisAnswers.ts`): `set` and `clear` do, the rest only read. */
  [answersRecorded](): boolean {
    return true;
  }

  /** Python's `set()`: sets the flag and wakes every waiter on every manager. */
  async set(context: CallContext = {}): Promise<undefined> {
    await this.host.run('smEventSet', this.#keys, [this.host.channel, this.#key, ...this.host.answerRecord(context)]);
    this.#flag = true;
    return undefined;
  }

  /** Python's `clear()`. */
  async clear(context: CallContext = {}): Promise<undefined> {
    await this.host.run('smEventClear', this.#keys, [...this.host.answerRecord(context)]);
    this.#flag = false;
    return undefined;
  }

  /**
   * Python's `wait(timeout=None)`, as the in-memory Event's: True when the flag is set (at once if
   * it is), False when the timeout passes first, or at once for a timeout of 0, negative or NaN.
   * @throws PyException TypeError for a non-number timeout, OverflowError for one too long.
   */
  async wait(timeout: unknown = null, context: CallContext = {}): Promise<boolean> {
    if (isWithdrawn(context)) throw new CallCancelled();
    // Listed as blocked before the first read, keeping its object in the table from the start
    // (SPEC 8.5), as with a queue's get; its signal is made only if it waits.
    context.mayWait?.();
    // As in memory: a set flag answers True before the timeout is even looked at.
    const [flag, start] = await this.#state();
    if (flag) return true;
    let seconds: number | null = null;
    if (timeout !== null && timeout !== undefined) {
      const n = pyNumber(timeout);
      if (n === undefined) throw new PyException('TypeError', `'>' not supported between instances of '${pyTypeName(timeout)}' and 'int'`);
      seconds = Number(n);
      if (!(seconds > 0)) return false;
      refuseOverlongTimeout(timeout, seconds);
      seconds = clampSeconds(seconds);
    }
    this.#waiting++;
    try {
      return await this.host.wakeups.until({
        key: this.#key,
        seconds,
        context,
        attempt: async () => {
          const [now, gen] = await this.#state();
          return now || gen !== start ? true : NOT_YET;
        },
        expiry: () => new TimedOut(),
      });
    } catch (error) {
      if (error instanceof TimedOut) return false;
      throw error;
    } finally {
      this.#waiting--;
    }
  }

  /** Python's repr, with the flag as this manager last saw it. */
  __repr__(): string {
    return `<threading.Event at ${pyAddress(this)}: ${this.#flag ? 'set' : 'unset'}>`;
  }

  /** The event as this manager's last call saw it, and this manager's waiters (inspection). */
  describeState(): { details: { set: boolean; waiting: number } } {
    return { details: { set: this.#flag, waiting: this.#waiting } };
  }
}
