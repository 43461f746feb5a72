/** What every built-in type's tests share: calls through the server's own path, and exception checks. */

import assert from 'node:assert/strict';
import { PyException } from '../../../src/server/exceptions';
import { invokeMethod, type CallContext, type HeldResource } from '../../../src/server/calls/methodDispatch';

/** Calls a method as the server does for `object/call`, with wire arguments. */
export function call(obj: object, method: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}, context: CallContext = {}): unknown {
  return invokeMethod(obj, method, args, kwargs, context);
}

/** An `assert.throws` check: a PyException of `type` whose message is (or matches) `message`, with `args` if given. */
export function pyError(type: string, message: string | RegExp, args?: unknown[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof PyException, `expected a PyException, got ${String(e)}`);
    assert.equal(e.type, type);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    if (args) assert.deepEqual(e.args, args);
    return true;
  };
}

/**
 * A client connection as the server sees it: each call gets a context with its own signal (so one
 * call can be cancelled), hold/letGo keep the set of what the connection holds, and close()
 * does what the server does when a connection closes: withdraw its calls, then ownerLeft.
 */
export class FakeSession {
  readonly held = new Set<HeldResource>();
  readonly #calls: AbortController[] = [];
  constructor(readonly id: string) {}

  /** A context for one call; `cancel()` withdraws it as $/cancelRequest would. */
  ctx(): CallContext & { cancel(): void } {
    const controller = new AbortController();
    this.#calls.push(controller);
    return {
      sessionId: this.id,
      signal: controller.signal,
      hold: (r) => void this.held.add(r),
      letGo: (r) => void this.held.delete(r),
      cancel: () => controller.abort(),
    };
  }

  close(): void {
    for (const c of this.#calls) c.abort();
    const held = [...this.held];
    this.held.clear();
    for (const r of held) r.ownerLeft(this.id);
  }
}

/** Whether a call's promise has settled, checked after the pending callbacks have run. */
export async function settled(p: unknown): Promise<boolean> {
  let done = false;
  (p as Promise<unknown>).then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** A call's result that must be a waiting call (a Promise). */
export function pending(v: unknown): Promise<unknown> {
  assert.ok(v instanceof Promise, `expected a waiting call, got ${String(v)}`);
  return v;
}

/** Every item of an Iterator object, by `__next__` until StopIteration (at most `limit`). */
export function drain(it: unknown, limit = 100): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      out.push(call(it as object, '__next__'));
    } catch (error) {
      pyError('StopIteration', '')(error);
      return out;
    }
  }
  throw new Error(`more than ${limit} items`);
}
