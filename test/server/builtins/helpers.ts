/** What every built-in type's tests share: calls through the server's own path, and exception checks. */

import assert from 'node:assert/strict';
import { PyException } from '../../../src/server/exceptions';
import { invokeMethod, type CallContext } from '../../../src/server/signature';

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
