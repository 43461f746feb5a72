/**
 * The context of one method call, for every protocol's sessions: who calls (the session id, the
 * owner of what the call acquires), what it comes to hold, and a signal that withdraws it. The
 * signal costs an AbortController, so it is made only when the method asks for it, which only
 * a call that must wait does; the session then lists the call as blocked.
 */

import type { Holdings } from './holdings';
import type { ObjectEntry } from '../objectTable';
import type { CallContext, HeldResource } from './methodDispatch';

/** What a call context needs from the session that makes the call. */
export interface CallingSession {
  readonly id: string;
  /** What the session holds, given back when it ends. */
  readonly holdings: Holdings;
  /** The call is about to wait: `controller` withdraws it (the session aborts it when it ends). */
  callBlocked(controller: AbortController, entry: ObjectEntry, method: string, requestId: number | string): void;
  /** If the answer to `requestId` cannot be delivered, `undo(result)` gives back what the call took. */
  onUndelivered(requestId: number | string, undo: (result: unknown) => void): void;
}

/** One call's context. */
export class SessionCallContext implements CallContext {
  #controller: AbortController | undefined;

  constructor(
    private readonly session: CallingSession,
    private readonly requestId: number | string,
    private readonly entry: ObjectEntry,
    private readonly method: string,
  ) {}

  get sessionId(): string {
    return this.session.id;
  }

  get aborted(): boolean {
    return this.#controller?.signal.aborted ?? false;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      this.session.callBlocked(this.#controller, this.entry, this.method, this.requestId);
    }
    return this.#controller.signal;
  }

  hold(resource: HeldResource): void {
    this.session.holdings.hold(resource, this.entry.id);
  }

  letGo(resource: HeldResource): void {
    this.session.holdings.letGo(resource);
  }

  giveBack(undo: (result: unknown) => void): void {
    this.session.onUndelivered(this.requestId, undo);
  }
}
