/**
 * PriorityQueue kept in Redis. Redis cannot order arbitrary Python values, so the heap is kept
 * whole: one stored state (the in-memory heap's layout and its given-back items, as value text)
 * with a version. A put or get reads the heap, runs the in-memory {@link BinaryHeap} on a copy (so
 * the order, the comparisons made and a TypeError for unorderable items are exactly the in-memory
 * PriorityQueue's), and stores the result only if the version is still the one read (one Lua
 * script, which also counts the unfinished task and publishes the change); otherwise it runs again
 * on the newer heap. Blocking, timeouts, task_done/join and wake-ups across managers are
 * {@link RedisQueue}'s.
 */

import { PyException } from '../exceptions';
import { BinaryHeap } from '../builtins/queue';
import type { PeekPage, RedisObjectHost } from './redisStore';
import { RedisQueue } from './redisQueue';
import { textToValue, valueToText } from './valueText';
import type { ItemEdit, StoredEditOutcome } from '../itemEdits';

/** How many times a put or get runs again when other calls changed the heap in the meantime. */
const MAX_TRIES = 100;

/** The keys of a priority queue named `name`. */
export function priorityQueueKeys(host: RedisObjectHost, name: string): [heap: string, version: string, unfinished: string] {
  const key = host.keyOf(name);
  return [`${key}:heap`, `${key}:version`, `${key}:unfinished`];
}

/** Python's `queue.PriorityQueue` kept in Redis: the least item (Python's `<`) is the first got. */
export class RedisPriorityQueue extends RedisQueue {
  static override readonly builtin: string = 'PriorityQueue';
  readonly #keys: [string, string, string];

  constructor(host: RedisObjectHost, name: string, maxsize: unknown = 0) {
    super(host, name, maxsize);
    this.#keys = priorityQueueKeys(host, name);
  }

  async #load(): Promise<[version: number, heap: BinaryHeap, unfinished: number]> {
    const [version, text, unfinished] = (await this.host.run('smHeapLoad', this.#keys, [])) as [number, string | null, number];
    const [layout, unordered] = text === null ? [[], []] : (textToValue(text, this.host.refs) as [unknown[], unknown[]]);
    const heap = BinaryHeap.fromParts(layout, unordered);
    this.seen(heap.length, unfinished);
    return [version, heap, unfinished];
  }

  /**
   * Runs `change` on a copy of the stored heap and stores it (adding `unfinished` to the count)
   * if nothing else changed it meanwhile; `change` returns false when it changed nothing.
   * @throws what `change` throws (a TypeError for unorderable items), having stored nothing.
   */
  async #update<T>(change: (heap: BinaryHeap) => { changed: boolean; result: T; unfinished?: number }): Promise<[T, length: number, unfinished: number]> {
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const [version, heap, unfinished] = await this.#load();
      const outcome = change(heap);
      if (!outcome.changed) return [outcome.result, heap.length, unfinished];
      const state = valueToText(heap.parts(), this.host.refs);
      const [saved, now] = (await this.host.run('smHeapSave', this.#keys, [version, state, outcome.unfinished ?? 0, this.host.channel, this.key])) as [number, number];
      if (saved === 1) {
        this.seen(heap.length, now);
        return [outcome.result, heap.length, now];
      }
    }
    throw new PyException('RuntimeError', `the PriorityQueue gave up after ${MAX_TRIES} tries: other calls kept changing it in the meantime`);
  }

  protected override async readState(): Promise<[length: number, unfinished: number]> {
    const [, heap, unfinished] = await this.#load();
    return [heap.length, unfinished];
  }

  protected override async tryPut(item: unknown): Promise<[done: number, length: number, unfinished: number]> {
    const [done, length, unfinished] = await this.#update((heap) => {
      if (this.maxsize > 0 && heap.length >= this.maxsize) return { changed: false, result: 0 };
      heap.push(item);
      return { changed: true, result: 1, unfinished: 1 };
    });
    return [done, length, unfinished];
  }

  protected override async tryTake(): Promise<[found: boolean, item: unknown, length: number]> {
    const [taken, length] = await this.#update<[boolean, unknown]>((heap) => (heap.length === 0 ? { changed: false, result: [false, undefined] } : { changed: true, result: [true, heap.take()] }));
    return [taken[0], taken[1], length];
  }

  protected override async putBackItem(item: unknown): Promise<number> {
    const [, length] = await this.#update((heap) => {
      heap.putBack(item);
      return { changed: true, result: undefined };
    });
    return length;
  }

  override async peekPage(offset: number, limit: number): Promise<PeekPage> {
    const [, heap] = await this.#load();
    return { kind: 'items', total: heap.length, items: heap.range(offset, offset + limit) };
  }

  /**
   * Inspection's Remove Item and Edit Item on the heap kept whole: checked and changed on a copy,
   * stored only if nothing changed the heap meanwhile (else checked again on the newer one). A
   * replacement is ordered anew; one that cannot be is a TypeError, having stored nothing.
   */
  override async editShownItem(index: number, isShown: (item: unknown) => boolean, edit: ItemEdit): Promise<StoredEditOutcome> {
    const [outcome] = await this.#update<StoredEditOutcome>((heap) => {
      if (index >= heap.length) return { changed: false, result: { done: false, size: heap.length } };
      const [item] = heap.range(index, index + 1);
      if (!isShown(item)) return { changed: false, result: { done: false, size: heap.length, found: { item } } };
      if ('remove' in edit) heap.removeAt(index);
      else heap.replaceAt(index, edit.replace);
      return { changed: true, result: { done: true, size: heap.length }, unfinished: 'remove' in edit ? -1 : 0 };
    });
    return outcome;
  }
}
