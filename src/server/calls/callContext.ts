/**
 * The context of one method call, for every protocol's sessions: who calls (the session id, the
 * owner of what the call acquires), what it comes to hold, and a signal that withdraws it. The
 * signal costs an AbortController, so it is made only when the method asks for it, which only
 * a call that must wait does; the session then lists the call as blocked. A call that may wait
 * only after a first try elsewhere (a Redis-backed object) says so with `mayWait()`: it is listed
 * and withdrawable from then on, and its signal is made only if it does wait.
 */

import type { Holdings } from './holdings';
import type { ObjectEntry, ObjectTable } from '../objectTable';
import type { AckRequest, CallContext, HeldResource } from './methodDispatch';

/** What a call context needs from the session that makes the call. */
export interface CallingSession {
  readonly id: string;
  /** What the session holds, given back when it ends. */
  readonly holdings: Holdings;
  /** The call is about to wait: `withdrawable.abort()` withdraws it (the session calls it when it ends). */
  callBlocked(withdrawable: Withdrawable, entry: ObjectEntry, method: string, requestId: number | string): void;
  /** Whether the call was cancelled before it could wait (it is then withdrawn as it is listed as blocked). */
  cancelledEarly(requestId: number | string): boolean;
  /** If the answer to `requestId` cannot be delivered, `undo(result)` gives back what the call took. */
  onUndelivered(requestId: number | string, undo: (result: unknown) => void): void;
  /** The answer to `requestId` will not be delivered: what `onUndelivered` registered gives back `result`. */
  undelivered(requestId: number | string, result: unknown): boolean;
}

/** What withdraws a blocked call. */
export interface Withdrawable {
  abort(): void;
}

/** One call's context. */
export class SessionCallContext implements CallContext, Withdrawable {
  /** Made when the method asks for the signal (an AbortController costs more than the rest of a call's context). */
  #controller: AbortController | undefined;
  /** Listed as blocked: withdrawable, and keeping its object. */
  #blocked = false;
  #withdrawn = false;
  /** Lets the object leave the table again: set while the call waits (SPEC 8.5, since 1.3). */
  #unkeep: (() => void) | undefined;

  constructor(
    private readonly session: CallingSession,
    readonly requestId: number | string,
    private readonly entry: ObjectEntry,
    private readonly method: string,
    /** The table the object is in: a blocked call and a holding keep it there (SPEC 8.5, since 1.3). */
    private readonly table: ObjectTable,
    /** The call asked for its item delivered (SPEC 20.3). */
    readonly ack?: AckRequest,
  ) {}

  get sessionId(): string {
    return this.session.id;
  }

  get aborted(): boolean {
    return this.#withdrawn || this.session.cancelledEarly(this.requestId);
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#withdrawn) this.#controller.abort();
      this.mayWait();
    }
    return this.#controller.signal;
  }

  mayWait(): void {
    if (this.#blocked) return;
    this.#blocked = true;
    // A call that waits holds its object as a reference would, so that the object cannot leave
    // the table under it when its last holder goes (SPEC 8.5, since 1.3).
    this.#unkeep = this.table.keep(this.entry);
    this.session.callBlocked(this, this.entry, this.method, this.requestId);
  }

  /** Withdraws the call: its signal, made now or later, is aborted. */
  abort(): void {
    if (this.#withdrawn) return;
    this.#withdrawn = true;
    this.#controller?.abort();
  }

  /**
   * The method returned `result` (a promise, for a call that waits) or threw (`undefined`): what
   * the wait kept lets the object go once the call is over.
   */
  returned(result: unknown): void {
    const unkeep = this.#unkeep;
    if (!unkeep) return;
    if (result instanceof Promise) result.then(unkeep, unkeep);
    else unkeep();
  }

  hold(resource: HeldResource): void {
    this.session.holdings.hold(resource, this.entry.id, () => this.table.keep(this.entry));
  }

  letGo(resource: HeldResource): void {
    this.session.holdings.letGo(resource);
  }

  giveBack(undo: (result: unknown) => void): void {
    this.session.onUndelivered(this.requestId, undo);
  }

  undelivered(result: unknown): void {
    this.session.undelivered(this.requestId, result);
  }
}
