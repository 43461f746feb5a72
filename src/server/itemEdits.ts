/**
 * Inspection's item-level work on queues and lists: Remove Item (`inspect/removeItem`, SPEC 17.9),
 * such as a poison message taken out from the middle of a queue, and Edit Item
 * (`inspect/replaceItem`, SPEC 17.10), one item replaced in its place. No queue method does either,
 * so Python clients see the queue they always did. Either acts only on the item the tool showed,
 * compared in display form in the same turn as the change, so an item a getter took (or a list's
 * items moving) meanwhile cannot cost another item its place or its value.
 */

import type { RemoveItemResult, ReplaceItemResult } from '../common/protocol';
import { PyException } from './exceptions';
import { List } from './builtins/list';
import { Queue } from './builtins/queue';
import type { Inspector } from './inspector';
import type { ObjectEntry } from './objectTable';

/** Why an edit was refused: the request named something that is not there (any more), or an item the queue cannot hold. */
export class ItemEditRefused extends Error {
  override readonly name = 'ItemEditRefused';
}

/** A queue or a list, seen through the three things an item edit needs. */
interface EditableItems {
  readonly kind: 'queue' | 'list';
  readonly size: number;
  at(index: number): unknown;
  remove(index: number): void;
  replace(index: number, item: unknown): void;
}

function editableItems(obj: object): EditableItems | undefined {
  // `size` is read when asked: a put waiting for room in a bounded queue fills the place a removal frees.
  if (obj instanceof Queue) {
    return {
      kind: 'queue',
      get size() {
        return obj.size;
      },
      at: (i) => obj.peekRange(i, 1)[0],
      remove: (i) => obj.removeQueued(i),
      replace: (i, item) => obj.replaceQueued(i, item),
    };
  }
  if (obj instanceof List) {
    return {
      kind: 'list',
      get size() {
        return obj.__len__();
      },
      at: (i) => obj.__getitem__(i),
      remove: (i) => obj.__delitem__(i),
      replace: (i, item) => obj.__setitem__(i, item),
    };
  }
  return undefined;
}

/**
 * The queue or list of `entry`, once checked that its item at `index` is still `expected` in display form.
 * @throws ItemEditRefused naming what `undone` ("removed", "replaced") did not happen and why.
 */
function holdingShownItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown, undone: string): EditableItems {
  const items = editableItems(entry.obj);
  if (!items) throw new ItemEditRefused(`object ${entry.id} (${entry.typeid}) is not a queue or a list: only their items are ${undone} this way`);
  const { kind, size } = items;
  if (index >= size) throw new ItemEditRefused(`${kind} ${entry.id} holds ${size} item${size === 1 ? '' : 's'} now: there is no item at index ${index}; nothing was ${undone}; peek again`);
  const shown = JSON.stringify(inspector.display(items.at(index)));
  if (shown !== JSON.stringify(expected)) {
    throw new ItemEditRefused(`the item at index ${index} of ${kind} ${entry.id} is no longer the one shown (it is ${shown}): nothing was ${undone}; peek again`);
  }
  return items;
}

/**
 * Removes the item at `index` of the queue or list `entry` if its display form equals `expected`.
 * @throws ItemEditRefused when the object is not a queue or a list, the index is out of range, or the item there changed.
 */
export function removeShownItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown): RemoveItemResult {
  const items = holdingShownItem(inspector, entry, index, expected, 'removed');
  items.remove(index);
  return { total: items.size };
}

/**
 * Replaces the item at `index` of the queue or list `entry` with `item` (decoded) if its display form equals `expected`.
 * @throws ItemEditRefused as {@link removeShownItem}, and when a PriorityQueue cannot order `item` against its items.
 */
export function replaceShownItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown, item: unknown): ReplaceItemResult {
  const items = holdingShownItem(inspector, entry, index, expected, 'replaced');
  try {
    items.replace(index, item);
  } catch (error) {
    if (error instanceof PyException) throw new ItemEditRefused(`the new item cannot be ordered against the items of ${items.kind} ${entry.id} (${error.type}: ${error.message}): nothing was replaced`);
    throw error;
  }
  return { total: items.size };
}
