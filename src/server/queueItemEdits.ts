/**
 * Inspection's item-level work on queues: Remove Item (`inspect/removeItem`, SPEC 17.9), a poison
 * message taken out from the middle of a queue, and Edit Item (`inspect/replaceItem`, SPEC 17.10),
 * one item replaced in its place. No queue method does either, so Python clients see the queue they
 * always did. Either acts only on the item the tool showed, compared in display form in the same
 * turn as the change, so an item a getter took meanwhile cannot cost another item its place.
 */

import type { RemoveItemResult, ReplaceItemResult } from '../common/protocol';
import { PyException } from './exceptions';
import { Queue } from './builtins/queue';
import type { Inspector } from './inspector';
import type { ObjectEntry } from './objectTable';

/** Why an edit was refused: the request named something that is not there (any more), or an item the queue cannot hold. */
export class ItemEditRefused extends Error {
  override readonly name = 'ItemEditRefused';
}

/**
 * The queue of `entry`, once checked that its item at `index` is still `expected` in display form.
 * @throws ItemEditRefused naming what `undone` ("removed", "replaced") did not happen and why.
 */
function queueHoldingShownItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown, undone: string): Queue {
  const queue = entry.obj;
  if (!(queue instanceof Queue)) throw new ItemEditRefused(`object ${entry.id} (${entry.typeid}) is not a queue: only a queue's items are ${undone} this way`);
  if (index >= queue.size) throw new ItemEditRefused(`queue ${entry.id} holds ${queue.size} item${queue.size === 1 ? '' : 's'} now: there is no item at index ${index}; nothing was ${undone}; peek again`);
  const [current] = queue.peekRange(index, 1);
  const shown = JSON.stringify(inspector.display(current));
  if (shown !== JSON.stringify(expected)) {
    throw new ItemEditRefused(`the item at index ${index} of queue ${entry.id} is no longer the one shown (it is ${shown}): nothing was ${undone}; peek again`);
  }
  return queue;
}

/**
 * Removes the item at `index` of the queue `entry` if its display form equals `expected`.
 * @throws ItemEditRefused when the object is not a queue, the index is out of range, or the item there changed.
 */
export function removeQueueItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown): RemoveItemResult {
  const queue = queueHoldingShownItem(inspector, entry, index, expected, 'removed');
  queue.removeQueued(index);
  return { total: queue.size };
}

/**
 * Replaces the item at `index` of the queue `entry` with `item` (decoded) if its display form equals `expected`.
 * @throws ItemEditRefused as {@link removeQueueItem}, and when a PriorityQueue cannot order `item` against its items.
 */
export function replaceQueueItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown, item: unknown): ReplaceItemResult {
  const queue = queueHoldingShownItem(inspector, entry, index, expected, 'replaced');
  try {
    queue.replaceQueued(index, item);
  } catch (error) {
    if (error instanceof PyException) throw new ItemEditRefused(`the new item cannot be ordered against the items of queue ${entry.id} (${error.type}: ${error.message}): nothing was replaced`);
    throw error;
  }
  return { total: queue.size };
}
