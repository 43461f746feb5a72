/** The set proxy. */

import { BaseProxy } from '../baseProxy';
import { iterateRemote } from './iterator';

/** Items to combine with a shared set: an array or a Set (sent as a list or a set). */
export type SetItems<T> = readonly T[] | ReadonlySet<T>;

/**
 * A shared set. Members are hashable values (strings, numbers, tuples, ...), compared as Python
 * compares them. The set algebra takes JavaScript's Set method names and returns new local Sets.
 */
export class SetProxy<T = unknown> extends BaseProxy {
  async add(item: T): Promise<void> {
    await this.callMethod('add', [item]);
  }

  /** Removes `item` if present. */
  async discard(item: T): Promise<void> {
    await this.callMethod('discard', [item]);
  }

  /** Removes `item`; KeyError if absent. */
  async remove(item: T): Promise<void> {
    await this.callMethod('remove', [item]);
  }

  /** Removes and returns an arbitrary member; KeyError if empty. */
  async pop(): Promise<T> {
    return (await this.callMethod('pop')) as T;
  }

  async clear(): Promise<void> {
    await this.callMethod('clear');
  }

  /** Adds every member of each of `others`. */
  async update(...others: SetItems<T>[]): Promise<void> {
    await this.callMethod('update', others);
  }

  async has(item: T): Promise<boolean> {
    return (await this.callMethod('__contains__', [item])) as boolean;
  }

  async size(): Promise<number> {
    return (await this.callMethod('__len__')) as number;
  }

  /** A new Set: the members of this set and of `others`. */
  async union(...others: SetItems<T>[]): Promise<Set<T>> {
    return (await this.callMethod('union', others)) as Set<T>;
  }

  /** A new Set: the members of this set that are in every one of `others`. */
  async intersection(...others: SetItems<T>[]): Promise<Set<T>> {
    return (await this.callMethod('intersection', others)) as Set<T>;
  }

  /** A new Set: the members of this set in none of `others`. */
  async difference(...others: SetItems<T>[]): Promise<Set<T>> {
    return (await this.callMethod('difference', others)) as Set<T>;
  }

  /** A new Set: the members in exactly one of this set and `other`. */
  async symmetricDifference(other: SetItems<T>): Promise<Set<T>> {
    return (await this.callMethod('symmetric_difference', [other])) as Set<T>;
  }

  /** Python's `issubset`: every member is in `other`. */
  async isSubsetOf(other: SetItems<T>): Promise<boolean> {
    return (await this.callMethod('issubset', [other])) as boolean;
  }

  /** Python's `issuperset`: every member of `other` is in this set. */
  async isSupersetOf(other: SetItems<T>): Promise<boolean> {
    return (await this.callMethod('issuperset', [other])) as boolean;
  }

  /** Python's `isdisjoint`: no member in common with `other`. */
  async isDisjointFrom(other: SetItems<T>): Promise<boolean> {
    return (await this.callMethod('isdisjoint', [other])) as boolean;
  }

  /** Python's `difference_update`: removes every member of each of `others`. */
  async differenceUpdate(...others: SetItems<T>[]): Promise<void> {
    await this.callMethod('difference_update', others);
  }

  /** Python's `intersection_update`: keeps only the members in every one of `others`. */
  async intersectionUpdate(...others: SetItems<T>[]): Promise<void> {
    await this.callMethod('intersection_update', others);
  }

  /** Python's `symmetric_difference_update`: keeps the members in exactly one of this set and `other`. */
  async symmetricDifferenceUpdate(other: SetItems<T>): Promise<void> {
    await this.callMethod('symmetric_difference_update', [other]);
  }

  /** A copy of every member, as a local Set (Python's `copy`). */
  async toSet(): Promise<Set<T>> {
    return (await this.callMethod('copy')) as Set<T>;
  }

  /**
   * `for await (const item of set)`: the members, one `__next__` call each, through a remote
   * iterator released when the loop ends (also on `break`). The set must not change size
   * meanwhile: the manager raises Python's RuntimeError. For a snapshot, use {@link toSet}.
   */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return iterateRemote<T>(this);
  }
}
