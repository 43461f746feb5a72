/** The list proxy. */

import { BaseProxy } from '../baseProxy';
import { iterateRemote } from './iterator';
import { sliceOf } from './options';

/** A shared list. Negative indices count from the end, as in Python. */
export class ListProxy<T = unknown> extends BaseProxy {
  async append(item: T): Promise<void> {
    await this.callMethod('append', [item]);
  }

  async extend(items: readonly T[]): Promise<void> {
    await this.callMethod('extend', [items]);
  }

  async insert(index: number, item: T): Promise<void> {
    await this.callMethod('insert', [index, item]);
  }

  /** Removes and returns the item at `index` (default the last); IndexError if out of range. */
  async pop(index?: number): Promise<T> {
    return (await this.callMethod('pop', index === undefined ? [] : [index])) as T;
  }

  /** Removes the first item equal to `item`; ValueError if none. */
  async remove(item: T): Promise<void> {
    await this.callMethod('remove', [item]);
  }

  /** The first index of `item`; ValueError if absent. */
  async index(item: T): Promise<number> {
    return (await this.callMethod('index', [item])) as number;
  }

  async count(item: T): Promise<number> {
    return (await this.callMethod('count', [item])) as number;
  }

  async reverse(): Promise<void> {
    await this.callMethod('reverse');
  }

  /** Sorts in place with Python's ordering. */
  async sort(options: { reverse?: boolean } = {}): Promise<void> {
    await this.callMethod('sort', [], options.reverse === undefined ? undefined : { reverse: options.reverse });
  }

  /** The item at `index`; IndexError if out of range. */
  async at(index: number): Promise<T> {
    return (await this.callMethod('__getitem__', [index])) as T;
  }

  async set(index: number, item: T): Promise<void> {
    await this.callMethod('__setitem__', [index, item]);
  }

  async delete(index: number): Promise<void> {
    await this.callMethod('__delitem__', [index]);
  }

  /**
   * A copy of `list[start:stop:step]`, bounds as in Python (negative counts from the end; null or
   * absent is the end). @example await list.slice(-2) // the last two items
   */
  async slice(start?: number | null, stop?: number | null, step?: number | null): Promise<T[]> {
    return (await this.callMethod('__getitem__', [sliceOf(start, stop, step)])) as T[];
  }

  /**
   * `list[start:stop:step] = items`: replaces the slice (a plain slice may change the length; an
   * extended one, with a step, needs as many items as it has, else ValueError).
   */
  async setSlice(start: number | null | undefined, stop: number | null | undefined, items: readonly T[], step?: number | null): Promise<void> {
    await this.callMethod('__setitem__', [sliceOf(start, stop, step), items]);
  }

  /** `del list[start:stop:step]`. */
  async deleteSlice(start?: number | null, stop?: number | null, step?: number | null): Promise<void> {
    await this.callMethod('__delitem__', [sliceOf(start, stop, step)]);
  }

  async length(): Promise<number> {
    return (await this.callMethod('__len__')) as number;
  }

  async includes(item: T): Promise<boolean> {
    return (await this.callMethod('__contains__', [item])) as boolean;
  }

  /** A new array: this list's items followed by `items` (the shared list is unchanged). */
  async concat(items: readonly T[]): Promise<T[]> {
    return (await this.callMethod('__add__', [items])) as T[];
  }

  /** A copy of every item, in order. */
  async toArray(): Promise<T[]> {
    return this.concat([]);
  }

  /**
   * `for await (const item of list)`: the items, one `__next__` call each, through a remote
   * iterator released when the loop ends (also on `break`). It reads the live list by index, as
   * Python's does: items appended meanwhile are seen. For a snapshot, use {@link toArray}.
   */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return iterateRemote<T>(this);
  }

  /** The items last to first, as `for await` gives them (Python's `reversed(list)`), through a remote iterator. */
  reversed(): AsyncGenerator<T, void, undefined> {
    return iterateRemote<T>(this, '__reversed__');
  }
}
