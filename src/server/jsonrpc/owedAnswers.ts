/**
 * The answers a JSON-RPC session still owes: the requests in flight (an id may not be reused
 * while its request is), the results of calls that settled this turn (written together the next),
 * and, once the session closes, the end of its connection after the last of them is written.
 */

import type { RequestId } from '../calls/sessionCore';

/**
 * How long a closing session waits for its calls to answer before it ends the connection anyway.
 * A withdrawn call answers at once in memory, after a round trip in a store; only a registered
 * type's method that ignores its signal can take longer, and its late answer is then undelivered.
 */
export const CLOSING_ANSWERS_MS = 2000;

/** One session's owed answers. */
export class OwedAnswers {
  readonly #inFlight = new Set<RequestId>();
  readonly #late: { id: RequestId; value: unknown }[] = [];
  /** Ends the connection: set while the session closes and waits for its answers. */
  #end: (() => void) | undefined;
  #checkScheduled = false;

  /** `send` writes one result (it gives back what the call took if the result cannot be written). */
  constructor(private readonly send: (id: RequestId, value: unknown) => void) {}

  /** Whether request `id` is in flight. */
  has(id: RequestId): boolean {
    return this.#inFlight.has(id);
  }

  /** Request `id` will be answered later. */
  started(id: RequestId): void {
    this.#inFlight.add(id);
  }

  /** Request `id` settled with an error, written now (a result goes with {@link settledWith}). */
  settled(id: RequestId): void {
    this.#inFlight.delete(id);
    this.#endIfAnswered();
  }

  /**
   * Request `id` settled with `value`. A waiting call's result goes out a turn later, so that what
   * it took goes back if the client's end of stream came with what woke it; the results of one
   * turn go out together, in one write.
   */
  settledWith(id: RequestId, value: unknown): void {
    this.#inFlight.delete(id);
    this.#late.push({ id, value });
    if (this.#late.length > 1) return;
    setImmediate(() => {
      for (const late of this.#late.splice(0)) this.send(late.id, late.value);
      this.#endIfAnswered();
    });
  }

  /**
   * Calls `end` once every request in flight has its answer written (withdrawn calls answer in a
   * moment, and a call woken in the closing turn a turn later), or after {@link CLOSING_ANSWERS_MS}.
   */
  endWhenAnswered(end: () => void): void {
    const timer = setTimeout(() => this.#finish(), CLOSING_ANSWERS_MS);
    timer.unref();
    this.#end = () => {
      clearTimeout(timer);
      end();
    };
    this.#endIfAnswered();
  }

  /** Checks a turn later, so that answers settled together in this one are written first. */
  #endIfAnswered(): void {
    if (!this.#end || this.#checkScheduled) return;
    this.#checkScheduled = true;
    setImmediate(() => {
      this.#checkScheduled = false;
      if (this.#inFlight.size === 0 && this.#late.length === 0) this.#finish();
    });
  }

  #finish(): void {
    const end = this.#end;
    this.#end = undefined;
    end?.();
  }
}
