/** The dict proxy. */

import { BaseProxy } from '../baseProxy';
import { iterateRemote } from './iterator';

/** A shared dict. Keys are strings, numbers, tuples, ...: any hashable value. */
export class DictProxy<V = unknown, K = string> extends BaseProxy {
  /** The value for `key`, or `fallback` (default null) if absent. */
  async get(key: K, fallback: V | null = null): Promise<V | null> {
    return (await this.callMethod('get', [key, fallback])) as V | null;
  }

  /** The value for `key`; KeyError if absent. */
  async getItem(key: K): Promise<V> {
    return (await this.callMethod('__getitem__', [key])) as V;
  }

  async set(key: K, value: V): Promise<void> {
    await this.callMethod('__setitem__', [key, value]);
  }

  async has(key: K): Promise<boolean> {
    return (await this.callMethod('__contains__', [key])) as boolean;
  }

  /** Removes `key`; KeyError if absent. */
  async delete(key: K): Promise<void> {
    await this.callMethod('__delitem__', [key]);
  }

  async size(): Promise<number> {
    return (await this.callMethod('__len__')) as number;
  }

  async keys(): Promise<K[]> {
    return (await this.callMethod('keys')) as K[];
  }

  async values(): Promise<V[]> {
    return (await this.callMethod('values')) as V[];
  }

  /** `[key, value]` pairs (tuples). */
  async items(): Promise<(readonly [K, V])[]> {
    return (await this.callMethod('items')) as (readonly [K, V])[];
  }

  /** Removes `key` and returns its value; without a fallback, KeyError if absent. */
  async pop(key: K, ...fallback: [V?]): Promise<V> {
    return (await this.callMethod('pop', [key, ...fallback])) as V;
  }

  /** Removes and returns the last inserted pair; KeyError if empty. */
  async popitem(): Promise<readonly [K, V]> {
    return (await this.callMethod('popitem')) as readonly [K, V];
  }

  async setdefault(key: K, fallback: V | null = null): Promise<V> {
    return (await this.callMethod('setdefault', [key, fallback])) as V;
  }

  /** Merges entries from an object or a Map. */
  async update(entries: Record<string, V> | Map<K, V>): Promise<void> {
    await this.callMethod('update', [entries]);
  }

  async clear(): Promise<void> {
    await this.callMethod('clear');
  }

  /** A copy of the whole dict: a plain object when every key is a string, else a Map. */
  async copy(): Promise<Record<string, V> | Map<K, V>> {
    return (await this.callMethod('copy')) as Record<string, V> | Map<K, V>;
  }

  /**
   * `for await (const key of dict)`: the keys, one `__next__` call each, through a remote
   * iterator released when the loop ends (also on `break`). The dict must not change size
   * meanwhile: the manager raises Python's RuntimeError. For a snapshot, use {@link keys}.
   */
  [Symbol.asyncIterator](): AsyncGenerator<K, void, undefined> {
    return iterateRemote<K>(this);
  }
}
