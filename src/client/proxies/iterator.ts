/**
 * Iteration through the manager, as Python's proxies iterate: `__iter__` on a list, dict or set
 * hands back a shared Iterator object, whose `__next__` gives one item per call until its
 * StopIteration. Items are fetched one call at a time, in order: nothing is skipped or
 * prefetched, so a loop that breaks has taken exactly the items it saw.
 */

import { BaseProxy, type CallOptions } from '../baseProxy';
import { ManagerError, RemoteError } from '../errors';

/** Whether an error is the remote iterator's end. */
function isStopIteration(error: unknown): boolean {
  return error instanceof RemoteError && error.type === 'StopIteration';
}

/**
 * A shared iterator (SyncManager's `Iterator` typeid): what `__iter__` of a list, dict or set
 * returns. Iterating it does not release it: its owner does, with `release()` or `await using`.
 */
export class IteratorProxy<T = unknown> extends BaseProxy {
  /** The next item, or `done` at the end (the remote StopIteration). */
  async next(options?: CallOptions): Promise<IteratorResult<T, undefined>> {
    try {
      return { done: false, value: (await this.callMethod('__next__', [], undefined, options)) as T };
    } catch (error) {
      if (isStopIteration(error)) return { done: true, value: undefined };
      throw error;
    }
  }

  /** `for await (const item of iterator)`: the remaining items. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      const step = await this.next();
      if (step.done) return;
      yield step.value;
    }
  }
}

/**
 * Iterates a container proxy through a fresh remote Iterator (from `method`: `__iter__`, or a
 * list's `__reversed__`), and releases that Iterator when the loop ends, however it ends
 * (exhausted, `break`, or an error), so the manager does not keep it.
 */
export async function* iterateRemote<T>(container: BaseProxy, method = '__iter__'): AsyncGenerator<T, void, undefined> {
  const iterator = await container.callMethod(method);
  if (!(iterator instanceof IteratorProxy)) {
    if (iterator instanceof BaseProxy) await iterator.release();
    throw new ManagerError(`${method} of ${container.typeid} object ${container.id} did not return an Iterator proxy`);
  }
  try {
    for (;;) {
      const step = (await iterator.next()) as IteratorResult<T, undefined>;
      if (step.done) return;
      yield step.value;
    }
  } finally {
    // A failed decref means the connection or the object is gone: the reference goes with it,
    // and the loop's own outcome (its error, if any) is what the caller needs to see.
    await iterator.release().catch(() => {});
  }
}
