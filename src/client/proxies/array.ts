/** The Array proxy. */

import { BaseProxy } from '../baseProxy';
import { sliceOf } from './options';

/**
 * A shared fixed-length array of numbers (Python's `manager.Array(typecode, sequence)`): items
 * can be read and replaced, not added or removed. Negative indices count from the end.
 */
export class ArrayProxy<T = number> extends BaseProxy {
  /** The item at `index`; IndexError if out of range. */
  async at(index: number): Promise<T> {
    return (await this.callMethod('__getitem__', [index])) as T;
  }

  /** A copy of `array[start:stop:step]`, as a plain array. */
  async slice(start?: number | null, stop?: number | null, step?: number | null): Promise<T[]> {
    return (await this.callMethod('__getitem__', [sliceOf(start, stop, step)])) as T[];
  }

  /** Replaces the item at `index`; TypeError if `item` does not fit the typecode. */
  async set(index: number, item: T): Promise<void> {
    await this.callMethod('__setitem__', [index, item]);
  }

  /** `array[start:stop:step] = items`: as many items as the slice has (the length is fixed). */
  async setSlice(start: number | null | undefined, stop: number | null | undefined, items: readonly T[], step?: number | null): Promise<void> {
    await this.callMethod('__setitem__', [sliceOf(start, stop, step), items]);
  }

  async length(): Promise<number> {
    return (await this.callMethod('__len__')) as number;
  }

  /** A copy of every item, in order. */
  async toArray(): Promise<T[]> {
    return this.slice();
  }
}
