/**
 * Typed proxies for the built-in types. Methods take TypeScript names and options objects and call
 * the Python-named remote methods; every method returns a promise. Timeouts are in seconds, as in
 * Python and on the wire.
 */

import { BaseProxy, type CallOptions } from './baseProxy';
import { EmptyError } from './errors';

/** Options of a blocking queue operation. */
export interface BlockingOptions extends CallOptions {
  /** Wait for room or an item (default true); false fails at once with Empty/Full. */
  block?: boolean;
  /** Seconds to wait at most (default: forever); then EmptyError or FullError. */
  timeout?: number | null;
}

function blockingKwargs(options: BlockingOptions | undefined): Record<string, unknown> | undefined {
  if (!options || (options.block === undefined && options.timeout === undefined)) return undefined;
  const kwargs: Record<string, unknown> = {};
  if (options.block !== undefined) kwargs.block = options.block;
  if (options.timeout !== undefined) kwargs.timeout = options.timeout;
  return kwargs;
}

/** A shared FIFO queue (Python's `queue.Queue`). */
export class QueueProxy<T = unknown> extends BaseProxy {
  // put and get return the call's own promise: no async wrapper on the hot path.

  /** Puts an item, waiting for room if the queue is bounded and full. */
  put(item: T, options?: BlockingOptions): Promise<void> {
    return this.callMethod('put', [item], blockingKwargs(options), options) as Promise<void>;
  }

  /** Takes the next item, waiting for one unless `block: false`. A timed-out or cancelled get takes nothing. */
  get(options?: BlockingOptions): Promise<T> {
    return this.callMethod('get', [], blockingKwargs(options), options) as Promise<T>;
  }

  /** Puts without waiting; FullError if there is no room. */
  async putNowait(item: T): Promise<void> {
    await this.callMethod('put_nowait', [item]);
  }

  /** Takes without waiting; EmptyError if there is none. */
  async getNowait(): Promise<T> {
    return (await this.callMethod('get_nowait')) as T;
  }

  /** The number of items (approximate once other clients act on it). */
  async qsize(): Promise<number> {
    return (await this.callMethod('qsize')) as number;
  }

  async empty(): Promise<boolean> {
    return (await this.callMethod('empty')) as boolean;
  }

  async full(): Promise<boolean> {
    return (await this.callMethod('full')) as boolean;
  }

  /** Marks one got item as processed (for `join`). */
  async taskDone(): Promise<void> {
    await this.callMethod('task_done');
  }

  /** Waits until every item put has been marked done. */
  async join(options?: CallOptions): Promise<void> {
    await this.callMethod('join', [], undefined, options);
  }

  /**
   * Iterates over items as they arrive. With a `timeout`, the iteration ends when no item comes
   * within it (the seed worker's loop); without one it waits forever. Breaking out takes nothing more.
   */
  async *iter(options: { timeout?: number; signal?: AbortSignal } = {}): AsyncGenerator<T, void, undefined> {
    for (;;) {
      try {
        yield await this.get({ timeout: options.timeout, signal: options.signal });
      } catch (error) {
        if (error instanceof EmptyError && options.timeout !== undefined) return;
        throw error;
      }
    }
  }

  /** `for await (const item of queue)`: items as they arrive, forever. */
  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return this.iter();
  }
}

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
}

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
}

/** A shared namespace: named attributes. */
export class NamespaceProxy extends BaseProxy {
  /** An attribute's value; AttributeError if it has none. */
  async get<T = unknown>(name: string): Promise<T> {
    return (await this.callMethod('__getattribute__', [name])) as T;
  }

  async set(name: string, value: unknown): Promise<void> {
    await this.callMethod('__setattr__', [name, value]);
  }

  async delete(name: string): Promise<void> {
    await this.callMethod('__delattr__', [name]);
  }
}

/** A shared value (Python's `manager.Value(typecode, value)`). */
export class ValueProxy<T = unknown> extends BaseProxy {
  async get(): Promise<T> {
    return (await this.callMethod('get')) as T;
  }

  async set(value: T): Promise<void> {
    await this.callMethod('set', [value]);
  }
}

/** The typed proxy class for each built-in type name. */
export const builtinProxyClasses: Readonly<Record<string, new (...args: ConstructorParameters<typeof BaseProxy>) => BaseProxy>> = {
  Queue: QueueProxy,
  dict: DictProxy,
  list: ListProxy,
  Namespace: NamespaceProxy,
  Value: ValueProxy,
};
