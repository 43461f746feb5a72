/**
 * Inspection's Remove Item for queues (`inspect/removeItem`, SPEC 17.9): a poison message taken
 * out from the middle of a queue. No queue method does this, so Python clients see the queue they
 * always did. The item is removed only if it is still the one the tool showed, compared in display
 * form in the same turn as the removal, so a getter served meanwhile cannot lose another item.
 */

import type { RemoveItemResult } from '../common/protocol';
import { Queue } from './builtins/queue';
import type { Inspector } from './inspector';
import type { ObjectEntry } from './objectTable';

/** Why a removal was refused: the request named something that is not there (any more). */
export class RemovalRefused extends Error {
  override readonly name = 'RemovalRefused';
}

/**
 * Removes the item at `index` of the queue `entry` if its display form equals `expected`.
 * @throws RemovalRefused when the object is not a queue, the index is out of range, or the item there changed.
 */
export function removeQueueItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown): RemoveItemResult {
  const queue = entry.obj;
  if (!(queue instanceof Queue)) throw new RemovalRefused(`object ${entry.id} (${entry.typeid}) is not a queue: only a queue's items are removed this way`);
  if (index >= queue.size) throw new RemovalRefused(`queue ${entry.id} holds ${queue.size} item${queue.size === 1 ? '' : 's'} now: there is no item at index ${index}; peek again`);
  const [current] = queue.peekRange(index, 1);
  if (JSON.stringify(inspector.display(current)) !== JSON.stringify(expected)) {
    throw new RemovalRefused(`the item at index ${index} of queue ${entry.id} is no longer the one shown (it is ${JSON.stringify(inspector.display(current))}); peek again`);
  }
  queue.removeQueued(index);
  return { total: queue.size };
}
