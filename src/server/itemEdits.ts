/**
 * Inspection's item-level work on queues and lists: Remove Item (`inspect/removeItem`, SPEC 17.9),
 * such as a poison message taken out from the middle of a queue, and Edit Item
 * (`inspect/replaceItem`, SPEC 17.10), one item replaced in its place. No queue method does either,
 * so Python clients see the queue they always did. Either acts only on the item the tool showed,
 * compared in display form in the same turn as the change, so an item a getter took (or a list's
 * items moving) meanwhile cannot cost another item its place or its value. The in-memory types
 * answer at once; a queue or list kept in a store (Redis) makes the check and the change one
 * atomic step there, and answers with a promise (a refusal rejects it with {@link ItemEditRefused}).
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

/** What an edit does to the item it acts on. */
export type ItemEdit = { readonly remove: true } | { readonly replace: unknown };

/** How an edit of an item kept in a store went: done, or not, with what is at the index now. */
export type StoredEditOutcome = { readonly done: true; readonly size: number } | { readonly done: false; readonly size: number; readonly found?: { item: unknown } };

/**
 * A queue or a list kept in a store (Redis): it checks the item at an index and changes it in one
 * atomic step there, since the items may change through another manager at any time.
 */
export interface EditsStoredItems {
  readonly itemKind: 'queue' | 'list';
  /**
   * Removes or replaces the item at `index` (a queue's in get order) if `isShown` holds for it,
   * in one step with the check. Not done: `size` and, when the index is in range, the item there.
   * @throws PyException a PriorityQueue's TypeError for a replacement it cannot order, having changed nothing.
   */
  editShownItem(index: number, isShown: (item: unknown) => boolean, edit: ItemEdit): Promise<StoredEditOutcome>;
}

function editsStoredItems(obj: object): obj is EditsStoredItems {
  return typeof (obj as Partial<EditsStoredItems>).editShownItem === 'function' && (obj.constructor as { builtin?: unknown }).builtin !== undefined;
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
  if (!items) throw notEditable(entry, undone);
  const { kind, size } = items;
  if (index >= size) throw noItemAt(kind, entry, index, size, undone);
  const shown = JSON.stringify(inspector.display(items.at(index)));
  if (shown !== JSON.stringify(expected)) throw notTheOneShown(kind, entry, index, shown, undone);
  return items;
}

function notEditable(entry: ObjectEntry, undone: string): ItemEditRefused {
  return new ItemEditRefused(`object ${entry.id} (${entry.typeid}) is not a queue or a list: only their items are ${undone} this way`);
}

function noItemAt(kind: string, entry: ObjectEntry, index: number, size: number, undone: string): ItemEditRefused {
  return new ItemEditRefused(`${kind} ${entry.id} holds ${size} item${size === 1 ? '' : 's'} now: there is no item at index ${index}; nothing was ${undone}; peek again`);
}

function notTheOneShown(kind: string, entry: ObjectEntry, index: number, shown: string, undone: string): ItemEditRefused {
  return new ItemEditRefused(`the item at index ${index} of ${kind} ${entry.id} is no longer the one shown (it is ${shown}): nothing was ${undone}; peek again`);
}

function unorderable(kind: string, entry: ObjectEntry, error: PyException): ItemEditRefused {
  return new ItemEditRefused(`the new item cannot be ordered against the items of ${kind} ${entry.id} (${error.type}: ${error.message}): nothing was replaced`);
}

/**
 * The edit of an item kept in a store: the store checks, in one step with the change, that the
 * item is still one whose display form is `expected` (compared here, as for the in-memory types).
 */
async function editStoredItem(inspector: Inspector, entry: ObjectEntry, obj: EditsStoredItems, index: number, expected: unknown, edit: ItemEdit): Promise<{ total: number }> {
  const undone = 'remove' in edit ? 'removed' : 'replaced';
  const wanted = JSON.stringify(expected);
  let outcome: StoredEditOutcome;
  try {
    outcome = await obj.editShownItem(index, (item) => JSON.stringify(inspector.display(item)) === wanted, edit);
  } catch (error) {
    if (error instanceof PyException && error.type === 'TypeError') throw unorderable(obj.itemKind, entry, error);
    throw error;
  }
  if (outcome.done) return { total: outcome.size };
  if (!outcome.found) throw noItemAt(obj.itemKind, entry, index, outcome.size, undone);
  throw notTheOneShown(obj.itemKind, entry, index, JSON.stringify(inspector.display(outcome.found.item)), undone);
}

/**
 * Removes the item at `index` of the queue or list `entry` if its display form equals `expected`;
 * a promise when the object is kept in a store.
 * @throws ItemEditRefused when the object is not a queue or a list, the index is out of range, or the item there changed.
 */
export function removeShownItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown): RemoveItemResult | Promise<RemoveItemResult> {
  if (editsStoredItems(entry.obj)) return editStoredItem(inspector, entry, entry.obj, index, expected, { remove: true });
  const items = holdingShownItem(inspector, entry, index, expected, 'removed');
  items.remove(index);
  return { total: items.size };
}

/**
 * Replaces the item at `index` of the queue or list `entry` with `item` (decoded) if its display form equals `expected`;
 * a promise when the object is kept in a store.
 * @throws ItemEditRefused as {@link removeShownItem}, and when a PriorityQueue cannot order `item` against its items.
 */
export function replaceShownItem(inspector: Inspector, entry: ObjectEntry, index: number, expected: unknown, item: unknown): ReplaceItemResult | Promise<ReplaceItemResult> {
  if (editsStoredItems(entry.obj)) return editStoredItem(inspector, entry, entry.obj, index, expected, { replace: item });
  const items = holdingShownItem(inspector, entry, index, expected, 'replaced');
  try {
    items.replace(index, item);
  } catch (error) {
    if (error instanceof PyException) throw unorderable(items.kind, entry, error);
    throw error;
  }
  return { total: items.size };
}
