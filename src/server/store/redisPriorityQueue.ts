/**
 * PriorityQueue kept in Redis. Redis cannot order arbitrary Python values, so the heap is kept
 * whole: one stored state (the in-memory heap's layout and its given-back items, as value text)
 * with a version. A put or get reads the heap, runs the in-memory {@link BinaryHeap} on a copy (so
 * the order, the comparisons made and a TypeError for unorderable items are exactly the in-memory
 * PriorityQueue's), and stores the result only if the version is still the one read (one Lua
 * script, which also counts the unfinished task and publishes the change); otherwise it runs again
 * on the newer heap. Blocking, timeouts, task_done/join and wake-ups across managers are
 * {@link RedisQueue}'s.
 *
 * Acknowledged gets (SPEC 20.3): the save that takes an item also puts it into flight (the
 * in-flight hash of `redisDeliveries.ts`). An item given back (a nack, a timeout, a session's or a
 * manager's end, a get whose answer never reached its caller) goes, as for every queue, to the list `…:items`, by a script that cannot order
 * Python values; the next call reads those items with the heap, gives each its place by priority
 * again as the in-memory PriorityQueue does, and its save drops them from the list. An item that
 * came back keeps its delivery count in the stored heap.
 */

import { PyException } from '../exceptions';
import { BinaryHeap, PriorityQueue } from '../builtins/queue';
import type { Signature } from '../calls/methodDispatch';
import { itemValue, ReturnedItem } from '../builtins/deliveries';
import type { IntoFlight, TakeIntoFlight } from './redisDeliveries';
import type { PeekPage, RedisObjectHost } from './redisStore';
import { queueKeys, RedisQueue } from './redisQueue';
import { textToValue, valueToText } from './valueText';
import type { ItemEdit, StoredEditOutcome } from '../itemEdits';
import { HOSTED_ELSEWHERE, NO_RECORD, type AnswerRecord } from './redisAnswers';

/** The arguments of a save that takes nothing into flight, when an answer record follows them. */
const NOT_INTO_FLIGHT: readonly string[] = ['', '', '', '', '', ''];

/** How many times a put or get runs again when other calls changed the heap in the meantime. */
const MAX_TRIES = 100;

/** The keys of a priority queue named `name`. */
export function priorityQueueKeys(host: RedisObjectHost, name: string): [heap: string, version: string, unfinished: string, givenBack: string, inFlight: string] {
  const key = host.keyOf(name);
  const [givenBack, , inFlight] = queueKeys(host, name);
  return [`${key}:heap`, `${key}:version`, `${key}:unfinished`, givenBack, inFlight];
}

/** The stored heap: its layout and unordered items given back (values), and how often each was delivered (absent: never). */
type StoredHeap = [layout: unknown[], unordered: unknown[], layoutDeliveries?: number[], unorderedDeliveries?: number[]];

const deliveriesOf = (item: unknown): number => (item instanceof ReturnedItem ? item.deliveries : 0);
const withDeliveries = (values: readonly unknown[], counts: readonly number[] = []): unknown[] => values.map((value, i) => ((counts[i] ?? 0) > 0 ? new ReturnedItem(value, counts[i]!) : value));

/** An item given back, as the settling scripts store it: '#COUNT TEXT' (or '#COUNT.PLACE TEXT'), or its text if never delivered (RETURNED_ITEMS in `redisScripts.ts`). */
function givenBackItem(text: string, host: RedisObjectHost): unknown {
  const marked = /^#(\d+)(?:\.\d+)? /.exec(text);
  const value = textToValue(marked ? text.slice(marked[0].length) : text, host.refs);
  return marked ? new ReturnedItem(value, Number(marked[1])) : value;
}

/** A heap as loaded: its version, the heap with the items given back merged in, how many were merged, and the unfinished count. */
interface Loaded {
  readonly version: number;
  readonly heap: BinaryHeap;
  readonly merged: number;
  readonly unfinished: number;
}

/** Python's `queue.PriorityQueue` kept in Redis: the least item (Python's `<`) is the first got. */
export class RedisPriorityQueue extends RedisQueue {
  /** The in-memory PriorityQueue's: a put compares its item. */
  static override readonly signatures: Readonly<Record<string, Signature>> = PriorityQueue.signatures;
  static override readonly builtin: string = 'PriorityQueue';
  readonly #keys: [string, string, string, string, string];

  constructor(host: RedisObjectHost, name: string, maxsize: unknown = 0) {
    super(host, name, maxsize);
    this.#keys = priorityQueueKeys(host, name);
  }

  async #load(): Promise<Loaded> {
    const [version, text, unfinished, ...givenBack] = (await this.host.run('smHeapLoad', this.#keys.slice(0, 4), [])) as [number, string | null, number, ...string[]];
    const [layout, unordered, layoutDeliveries, unorderedDeliveries] = text === null ? [[], []] : (textToValue(text, this.host.refs) as StoredHeap);
    const heap = BinaryHeap.fromParts(withDeliveries(layout, layoutDeliveries), withDeliveries(unordered, unorderedDeliveries));
    // Given back in the order the in-memory queue puts them back; each takes its place by priority again.
    for (const item of givenBack) heap.putBack(givenBackItem(item, this.host));
    this.seen(heap.length, unfinished);
    return { version, heap, merged: givenBack.length, unfinished };
  }

  /**
   * Runs `change` on a copy of the stored heap and stores it (adding `unfinished` to the count)
   * if nothing else changed it meanwhile; `change` returns false when it changed nothing.
   * @throws what `change` throws (a TypeError for unorderable items), having stored nothing.
   */
  async #update<T>(
    change: (heap: BinaryHeap) => { changed: boolean; result: T; unfinished?: number; intoFlight?: readonly (string | number)[] },
    record: AnswerRecord = NO_RECORD,
    answer: (result: T) => string = () => '',
  ): Promise<[T, length: number, unfinished: number, flight: [id: string | null, inFlight: number]]> {
    const host = this.host;
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      // Each try's save before this one changed nothing (another call saved first): its load, a read (`effect: 'none'`), failing here leaves the call not carried out.
      const { version, heap, merged, unfinished } = await this.#load();
      const outcome = change(heap);
      // Items given back were merged: saved even when the call itself changed nothing.
      if (!outcome.changed && merged === 0) return [outcome.result, heap.length, unfinished, [null, 0]];
      const [layout, unordered] = heap.parts();
      const stored: StoredHeap = [layout.map(itemValue), unordered.map(itemValue)];
      // Delivery counts only once some item came back: a queue nobody takes from with ack is stored as it always was.
      if ([...layout, ...unordered].some((item) => item instanceof ReturnedItem)) stored.push(layout.map(deliveriesOf), unordered.map(deliveriesOf));
      const state = valueToText(stored, host.refs);
      // A take into flight names the queue in its owner's held index; any other save names none.
      const keys = [...this.#keys, host.deliveryIdsKey, host.heldIndexOf(String(outcome.intoFlight?.[0] ?? ''))];
      // A call with an effect records its answer with the save (SPEC 20.4.1): `answer`'s text, '' for the delivery made.
      const recording = outcome.changed && record.length > 0 ? [...(outcome.intoFlight ?? NOT_INTO_FLIGHT), ...record, answer(outcome.result)] : (outcome.intoFlight ?? []);
      const [saved, now, id, inFlight] = (await host.run('smHeapSave', keys, [version, state, outcome.unfinished ?? 0, host.channel, this.key, merged, ...recording])) as [number, number, string | null, number];
      if (saved === 1) {
        this.seen(heap.length, now);
        return [outcome.result, heap.length, now, [id, inFlight]];
      }
    }
    throw new PyException('RuntimeError', `the PriorityQueue gave up after ${MAX_TRIES} tries: other calls kept changing it in the meantime`);
  }

  protected override async readState(): Promise<[length: number, unfinished: number]> {
    const { heap, unfinished } = await this.#load();
    return [heap.length, unfinished];
  }

  protected override async tryPut<T>(item: unknown, _text: string, record: AnswerRecord, then: (done: number, length: number, unfinished: number) => T): Promise<T> {
    const [done, length, unfinished] = await this.#update(
      (heap) => {
        if (this.maxsize > 0 && heap.length >= this.maxsize) return { changed: false, result: 0 };
        heap.push(item);
        return { changed: true, result: 1, unfinished: 1 };
      },
      record,
      () => 'null',
    );
    return then(done, length, unfinished);
  }

  protected override async tryTake<T>(record: AnswerRecord, then: (found: boolean, item: unknown, length: number) => T): Promise<T> {
    const [taken, length] = await this.#update<[boolean, unknown]>(
      (heap) => (heap.length === 0 ? { changed: false, result: [false, undefined] } : { changed: true, result: [true, itemValue(heap.take())] }),
      record,
      ([, value]) => valueToText(value, this.host.refs),
    );
    return then(taken[0], taken[1], length);
  }

  protected override async takeIntoFlight(flight: IntoFlight, record: AnswerRecord = NO_RECORD): ReturnType<TakeIntoFlight> {
    const [taken, length, , [id, inFlight]] = await this.#update<[value: unknown, count: number] | undefined>((heap) => {
      if (heap.length === 0) return { changed: false, result: undefined };
      const item = heap.take();
      const [value, count] = [itemValue(item), deliveriesOf(item) + 1];
      return { changed: true, result: [value, count], intoFlight: [flight.owner, flight.since, flight.visibleAt, flight.heldEntry, valueToText(value, this.host.refs), count] };
    }, record);
    if (!taken || id === null) return [undefined, length, inFlight];
    return [{ id, count: taken[1], value: () => taken[0] }, length, inFlight];
  }

  /**
   * A give-back goes to the end of the list of items given back, which the next call merges into
   * the heap (its save drops those it merged from the list's front: an item added meanwhile stays),
   * with a mark, as a Queue's: so it is made once however often it is made again. The heap's
   * length is not known then: -1.
   */
  protected override async putBackItem(item: unknown, record: AnswerRecord, mark: string): Promise<number> {
    const length = await this.putBackAt('R', item, record, mark, undefined);
    return length === HOSTED_ELSEWHERE ? length : -1;
  }

  override async peekPage(offset: number, limit: number): Promise<PeekPage> {
    const { heap } = await this.#load();
    return { kind: 'items', total: heap.length, items: heap.range(offset, offset + limit).map(itemValue) };
  }

  /**
   * Inspection's Remove Item and Edit Item on the heap kept whole: checked and changed on a copy,
   * stored only if nothing changed the heap meanwhile (else checked again on the newer one). A
   * replacement is ordered anew; one that cannot be is a TypeError, having stored nothing.
   */
  override async editShownItem(index: number, isShown: (item: unknown) => boolean, edit: ItemEdit): Promise<StoredEditOutcome> {
    const [outcome] = await this.#update<StoredEditOutcome>((heap) => {
      if (index >= heap.length) return { changed: false, result: { done: false, size: heap.length } };
      const item = itemValue(heap.range(index, index + 1)[0]);
      if (!isShown(item)) return { changed: false, result: { done: false, size: heap.length, found: { item } } };
      if ('remove' in edit) heap.removeAt(index);
      else heap.replaceAt(index, edit.replace);
      return { changed: true, result: { done: true, size: heap.length }, unfinished: 'remove' in edit ? -1 : 0 };
    });
    return outcome;
  }
}
