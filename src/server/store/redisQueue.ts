/**
 * Queue, JoinableQueue and LifoQueue kept in Redis: the same methods, results and errors as the
 * in-memory queues of `../builtins/queue`, each method one atomic script, and a put through any
 * manager waking a getter waiting on any other. Items are a Redis list (`…:items`, got from the
 * left for a FIFO, from the right for a LIFO); the unfinished-task count of `task_done`/`join` is
 * `…:unfinished`; deliveries of acknowledged gets in flight are `…:inflight` (`redisDeliveries.ts`).
 */

import { randomUUID } from 'node:crypto';
import { isWithdrawn, ownerOf, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { pyAddress, pyTruthy } from '../pythonSemantics';
import { nanTimeout, Queue, queueMaxsize, tooManyTaskDone } from '../builtins/queue';
import { TIMEOUT_MAX, timeoutSeconds } from '../builtins/waiting';
import type { HeldDelivery } from '../calls/methodDispatch';
import type { Delivery } from '../builtins/deliveries';
import type { Reclaimer } from './redisLeases';
import { RedisDeliveries, returnDeliveriesOf, type DeliveryKeys, type IntoFlight, type TakeIntoFlight } from './redisDeliveries';
import type { PeekPage, RedisObjectHost } from './redisStore';
import { NOT_YET, type BlockedCall } from './redisWakeups';
import type { EditsStoredItems, ItemEdit, StoredEditOutcome } from '../itemEdits';
import { textToValue, valueToText } from './valueText';
import { answersRecorded, HOSTED_ELSEWHERE, NO_RECORD, type AnswerRecord } from './redisAnswers';
import { GIVE_BACK_MARK_MS } from './redisGiveBacks';

/** The keys of a queue named `name`. */
export function queueKeys(host: RedisObjectHost, name: string): [items: string, unfinished: string, inFlight: string] {
  const key = host.keyOf(name);
  const { items, inFlight } = deliveryKeysOf(key);
  return [items, `${key}:unfinished`, inFlight];
}

/** The keys of the queue whose key is `key` that acknowledged gets use. */
export function deliveryKeysOf(key: string): DeliveryKeys {
  return { key, items: `${key}:items`, inFlight: `${key}:inflight` };
}

/** Gives back a dead manager's deliveries of the queue whose key is `objectKey` (see `redisReclaimers.ts`). */
export const reclaimQueueDeliveries: Reclaimer = (host, objectKey, managerId) => returnDeliveriesOf(host, deliveryKeysOf(objectKey), managerId);

const full = (): PyException => new PyException('Full', '');
const empty = (): PyException => new PyException('Empty', '');

/** How many times an item edit checks again when the item at its index changed since it was read. */
const MAX_EDIT_TRIES = 100;

/** A FIFO queue kept in Redis, with Python's `queue.Queue` methods. */
export class RedisQueue implements EditsStoredItems {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin: string = 'Queue';
  static readonly exposed: readonly string[] = Queue.exposed;
  static readonly signatures: Readonly<Record<string, Signature>> = Queue.signatures;

  /** The end items are got from: the left of the list for a FIFO. */
  protected readonly end: 'L' | 'R' = 'L';
  readonly #maxsize: number;
  /** The key prefix of this queue's keys: changes are published under it. */
  protected readonly key: string;
  readonly #items: string;
  readonly #unfinished: string;
  readonly #inFlight: string;
  /** The keys of a put and of a take (the same each call). */
  readonly #putKeys: readonly string[];
  readonly #takeKeys: readonly string[];
  /** The length and unfinished count as this manager's last call on the queue left them (inspection reads them). */
  #length = 0;
  #unfinishedCount = 0;
  #waitingGetters = 0;
  #waitingPutters = 0;
  /** Deliveries of acknowledged gets to this manager's sessions (made on first use: most queues never see one). */
  #deliveriesMade: RedisDeliveries | undefined;

  constructor(
    protected readonly host: RedisObjectHost,
    name: string,
    maxsize: unknown = 0,
  ) {
    this.#maxsize = queueMaxsize(maxsize);
    this.key = host.keyOf(name);
    [this.#items, this.#unfinished, this.#inFlight] = queueKeys(host, name);
    this.#putKeys = [this.#items, this.#unfinished];
    this.#takeKeys = [this.#items, host.deliveryIdsKey];
  }

  /** The bound given at construction (0 or less: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
  }

  get #deliveries(): RedisDeliveries {
    return (this.#deliveriesMade ??= new RedisDeliveries(this.host, this, deliveryKeysOf(this.key), (flight, record) => this.takeIntoFlight(flight, record), (length) => (this.#length = length)));
  }

  /** One atomic acknowledged take: the next item into flight (see `redisDeliveries.ts`). */
  protected async takeIntoFlight(flight: IntoFlight, record: AnswerRecord = NO_RECORD): ReturnType<TakeIntoFlight> {
    const host = this.host;
    const [id, text, count, length, inFlight] = (await host.run(
      'smQueueTakeAck',
      [this.#items, this.#inFlight, host.deliveryIdsKey, host.heldIndexOf(flight.owner)],
      [this.end, flight.owner, flight.since, flight.visibleAt, flight.heldEntry, host.channel, this.key, ...record],
    )) as [string | null, string | null, number, number, number];
    const taken = id === null || text === null ? undefined : { id, count, value: () => textToValue(text, host.refs) };
    return [taken, length, inFlight];
  }

  /** Python's repr: `<queue.Queue object at 0x...>`. */
  __repr__(): string {
    return `<queue.${(this.constructor as typeof RedisQueue).builtin} object at ${pyAddress(this)}>`;
  }

  async #state(): Promise<[length: number, unfinished: number]> {
    const state = await this.readState();
    this.seen(...state);
    return state;
  }

  /** What this manager's last call saw: the length, and the unfinished count when it read it. */
  protected seen(length: number, unfinished?: number): void {
    this.#length = length;
    if (unfinished !== undefined) this.#unfinishedCount = unfinished;
  }

  /** The queue's length and unfinished count, read from Redis. */
  protected async readState(): Promise<[length: number, unfinished: number]> {
    return (await this.host.run('smQueueState', [this.#items, this.#unfinished], [])) as [number, number];
  }

  /**
   * One atomic put, whose outcome `then` reads (done 1, or 0 when a bounded queue is full; the
   * length and unfinished count after it) as it comes, the call's promise settling with what it
   * returns. `record`: where its answer is recorded.
   */
  protected tryPut<T>(_item: unknown, text: string, record: AnswerRecord, then: (done: number, length: number, unfinished: number) => T): Promise<T> {
    return this.host.run('smQueuePut', this.#putKeys, [this.#maxsize, text, this.host.channel, this.key, ...record], (reply) => {
      const [done, length, unfinished] = reply as [number, number, number];
      return then(done, length, unfinished);
    });
  }

  /**
   * One atomic take, whose outcome `then` reads (found and the item, or false when the queue is
   * empty; the length after it; the item's place in the take order, see `smQueueTake`) as it
   * comes, as {@link tryPut}'s. `record`: where its answer is recorded.
   */
  protected tryTake<T>(record: AnswerRecord, then: (found: boolean, item: unknown, length: number, place?: number) => T): Promise<T> {
    return this.host.run('smQueueTake', this.#takeKeys, [this.end, this.host.channel, this.key, ...record], (reply) => {
      const [text, length, place] = reply as [string | null, number, number?];
      return text === null ? then(false, undefined, length) : then(true, textToValue(text, this.host.refs), length, place);
    });
  }

  /**
   * Puts back an item taken whose caller never received it, where the next get finds it first,
   * at its `place` in the take order among the items given back there (undefined: unknown, to
   * the very front), forgetting its get's answer (`record`: its give-back record, see
   * `RedisObjectHost.giveBack`), once whatever the times it is made (`mark`: what tells Redis it
   * was made); returns the length, or -1 when it was made already (or the length is not known),
   * or HOSTED_ELSEWHERE when another manager hosts the get's session now (nothing made).
   */
  protected async putBackItem(item: unknown, record: AnswerRecord, mark: string, place: number | undefined): Promise<number> {
    return this.putBackAt(this.end, item, record, mark, place);
  }

  /** Puts back `item` at `end` of the list `…:items` (see {@link putBackItem}), once whatever the times it is made; returns the list's length, or as {@link putBackItem}. */
  protected async putBackAt(end: 'L' | 'R', item: unknown, record: AnswerRecord, mark: string, place: number | undefined): Promise<number> {
    const args = [end, valueToText(item, this.host.refs), this.host.channel, this.key, GIVE_BACK_MARK_MS, place ?? '', ...record];
    return (await this.host.run('smQueuePutBack', [this.#items, mark], args)) as number;
  }

  /** The number of items as this manager last saw it (inspection; a call reads Redis). */
  get size(): number {
    return this.#length;
  }

  /**
   * The queue's state for the inspection sidebar, as this manager's last call on it left it (a
   * change made through another manager shows after this manager's next call).
   */
  describeState(): { size: number; details: Record<string, unknown> } {
    return {
      size: this.#length,
      details: {
        maxsize: this.#maxsize,
        unfinishedTasks: this.#unfinishedCount,
        waitingGetters: this.#waitingGetters,
        waitingPutters: this.#waitingPutters,
        // Only when there are some, as the in-memory queue shows it.
        ...(this.#deliveriesMade?.inFlight ? { deliveriesInFlight: this.#deliveriesMade.inFlight } : {}),
      },
    };
  }

  /** A page of the items in get order, read from Redis, taking nothing (inspection's peek). */
  async peekPage(offset: number, limit: number): Promise<PeekPage> {
    const [total, ...page] = (await this.host.run('smQueuePeek', [this.#items], [this.end, offset, limit])) as [number, ...string[]];
    this.#length = total;
    return { kind: 'items', total, items: page.map((text) => textToValue(text, this.host.refs)) };
  }

  /** Whether `method` records its answer in Redis where it has an effect (see `redisAnswers.ts`): every queue method does, or only reads. */
  [answersRecorded](_method: string): boolean {
    return true;
  }

  /** Python's `qsize()`. */
  async qsize(): Promise<number> {
    return (await this.#state())[0];
  }

  /** Python's `empty()`. */
  async empty(): Promise<boolean> {
    return (await this.#state())[0] === 0;
  }

  /** Python's `full()`. */
  async full(): Promise<boolean> {
    return this.#maxsize > 0 && (await this.#state())[0] >= this.#maxsize;
  }

  /** Python's `put(item, block=True, timeout=None)`, as the in-memory Queue's. */
  put(item: unknown, block: unknown = true, timeout: unknown = null, context: CallContext = {}): Promise<undefined> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const text = valueToText(item, this.host.refs);
    const record = this.host.answerRecord(context);
    if (this.#maxsize <= 0 || !pyTruthy(block)) return this.#putOnce(item, text, record);
    const attempt = (): Promise<undefined | typeof NOT_YET> =>
      this.tryPut(item, text, record, (done, length, unfinished) => {
        this.seen(length, unfinished);
        return done === 1 ? undefined : NOT_YET;
      });
    // Python checks the timeout only for a bounded queue, even when there is room.
    const seconds = timeoutSeconds(timeout);
    return this.#waiting('putters', { key: this.key, seconds, context, attempt, expiry: full, beforeWait: () => this.#refuseNaN(seconds) });
  }

  /** One put that does not wait: Full when a bounded queue has no room. */
  #putOnce(item: unknown, text: string, record: AnswerRecord): Promise<undefined> {
    return this.tryPut(item, text, record, (done, length, unfinished) => {
      this.seen(length, unfinished);
      if (done !== 1) throw full();
      return undefined;
    });
  }

  /** Python's `put_nowait(item)`. */
  put_nowait(item: unknown, context: CallContext = {}): Promise<undefined> {
    return this.put(item, false, null, context);
  }

  /**
   * Python's `get(block=True, timeout=None)`, as the in-memory Queue's. With `ack` in the
   * context (SPEC 20.3) the item is delivered: a {@link Delivery} in flight, held by the session.
   */
  get(block: unknown = true, timeout: unknown = null, context: CallContext = {}): Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const ack = context.ack;
    const session = ownerOf(context);
    const record = this.host.answerRecord(context);
    // Where the item taken goes back, should it (see `smQueueTake`).
    let taken: number | undefined;
    // The item, or NOT_YET (a symbol no stored value can be).
    const attempt = (): Promise<unknown> => {
      if (ack) return this.#deliveries.take(context, ack, record).then((delivery) => delivery ?? NOT_YET);
      return this.tryTake(record, (found, item, length, place) => {
        this.#length = length;
        taken = place;
        return found ? item : NOT_YET;
      });
    };
    // An item whose answer never reaches this caller goes back to the front (a delivery: as if not made),
    // made again once Redis is back if it is away then (see `redisGiveBacks.ts`): settling a delivery
    // is made once however often it is asked for, as a put-back is by its mark.
    // Its answer recorded in the group is forgotten with it: sent again, the get is carried out again.
    const putBack = ack
      ? (delivery: unknown) => this.host.giveBack(`delivery ${(delivery as Delivery).deliveryId} of ${this.key}`, (giveBack) => this.#deliveries.undelivered((delivery as Delivery).deliveryId, session, giveBack), record)
      : (item: unknown) => this.#putBack(item, record, taken);
    context.giveBack?.(putBack);
    if (!pyTruthy(block)) return attempt().then((r) => (r === NOT_YET ? Promise.reject(empty()) : r));
    const seconds = timeoutSeconds(timeout);
    // A get withdrawn once its try took an item (its client left) gives it back through its session,
    // in order with the others given back in the same turn: each goes in front.
    const undo = context.undelivered ? (item: unknown) => context.undelivered!(item) : putBack;
    return this.#waiting('getters', { key: this.key, seconds, context, attempt, expiry: empty, undo, beforeWait: () => this.#refuseNaN(seconds) });
  }

  /**
   * Acknowledges delivery `deliveryId` (gone for good), or gives it back (`nack`: to the front,
   * counted as delivered). Resolves false when session `ownerId` does not hold it.
   */
  settleDelivery(deliveryId: string, ownerId: string, how: 'ack' | 'nack'): Promise<boolean> {
    return this.#deliveries.settle(deliveryId, ownerId, how === 'ack' ? 'ack' : 'back');
  }

  /** A session taken over from a manager of the group that is gone holds its deliveries of this queue here (SPEC 20.4.1). */
  takenOver(context: CallContext): Promise<void> {
    return this.#deliveries.takenOver(context);
  }

  /** A session ended: the deliveries it held go back to the front, counted as delivered. */
  ownerLeft(ownerId: string): void {
    this.#deliveriesMade?.ownerLeft(ownerId);
  }

  /** The deliveries session `ownerId` holds, for inspection. */
  deliveriesOf(ownerId: string): HeldDelivery[] {
    return this.#deliveriesMade?.deliveriesOf(ownerId) ?? [];
  }

  /** Python's `get_nowait()`. */
  get_nowait(context: CallContext = {}): Promise<unknown> {
    return this.get(false, null, context);
  }

  /** Python's `task_done()`. @throws PyException ValueError when no task is unfinished. */
  async task_done(context: CallContext = {}): Promise<undefined> {
    const left = (await this.host.run('smQueueTaskDone', [this.#unfinished], [this.host.channel, this.key, ...this.host.answerRecord(context)])) as number;
    if (left === -1) throw tooManyTaskDone();
    this.#unfinishedCount = left;
    return undefined;
  }

  /** Python's `join()`: returns when every item put has been marked done. */
  join(context: CallContext = {}): Promise<undefined> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const attempt = async (): Promise<undefined | typeof NOT_YET> => ((await this.#state())[1] === 0 ? undefined : NOT_YET);
    return this.#waiting('joiners', { key: this.key, seconds: null, context, attempt, expiry: empty });
  }

  /**
   * Runs a call that may wait, counted among this queue's waiters here. The call is listed as
   * blocked before the first try, and keeps its object in the table from the start (SPEC 8.5),
   * as the table lets it go only once the returned promise settles; its signal (an
   * AbortController) is made only if a try finds nothing and it does wait.
   */
  #waiting<T>(kind: 'getters' | 'putters' | 'joiners', call: BlockedCall<T>): Promise<T> {
    call.context.mayWait?.();
    // Most calls need no wait: a first try before registering with the wake-ups costs them nothing
    // more. One that finds nothing registers, and tries again once the queue is marked as waited
    // on (at once, when this manager's mark is there already), so no change made meanwhile is
    // missed. On a queue this manager's callers wait on (marked now), a call registers first and
    // tries once. (A timeout past TIMEOUT_MAX is refused by `until` before any try.)
    if ((call.seconds !== null && call.seconds > TIMEOUT_MAX) || this.host.wakeups.waitedOn(call.key)) return this.#registered(kind, call, false);
    return call.attempt().then((result) => {
      if (result === NOT_YET) {
        if (call.seconds !== null && call.seconds <= 0) throw call.expiry();
        return this.#registered(kind, call, true);
      }
      if (!isWithdrawn(call.context)) return result;
      return Promise.resolve(call.undo?.(result)).then(() => Promise.reject(new CallCancelled()));
    });
  }

  /** Waits with the wake-ups until a try succeeds (see {@link Wakeups.until}), counted among this queue's waiters here. */
  async #registered<T>(kind: 'getters' | 'putters' | 'joiners', call: BlockedCall<T>, triedOnce: boolean): Promise<T> {
    if (kind === 'getters') this.#waitingGetters++;
    else if (kind === 'putters') this.#waitingPutters++;
    try {
      return await this.host.wakeups.until(call, triedOnce);
    } finally {
      if (kind === 'getters') this.#waitingGetters--;
      else if (kind === 'putters') this.#waitingPutters--;
    }
  }

  /** Gives back `item` to the front, at its `place` in the take order (see {@link get}), kept until Redis has it. */
  #putBack(item: unknown, record: AnswerRecord, place: number | undefined): void {
    const mark = `${this.key}:givenback:${randomUUID()}`;
    this.host.giveBack(
      `an item of ${this.key}`,
      async (giveBack) => {
        const length = await this.putBackItem(item, giveBack, mark, place);
        if (length === HOSTED_ELSEWHERE) return false;
        if (length >= 0) this.#length = length;
        return true;
      },
      record,
    );
  }

  #refuseNaN(seconds: number | null): void {
    if (seconds !== null && Number.isNaN(seconds)) throw nanTimeout();
  }

  // Inspection's item edits (itemEdits.ts): no queue method; Python clients never see them.

  /** What inspection's item edits call the items: a queue's. */
  readonly itemKind = 'queue';

  /**
   * Inspection's Remove Item and Edit Item: the item at `index` in get order, removed or replaced
   * if `isShown` holds for it. The check is made here on the item read, and the script changes
   * the item only if it is still that stored text; when items moved meanwhile (a getter on any
   * manager), the item now at the index is checked again. A removal counts as a task done and
   * wakes a putter waiting for room on any manager.
   */
  async editShownItem(index: number, isShown: (item: unknown) => boolean, edit: ItemEdit): Promise<StoredEditOutcome> {
    const replacement = 'replace' in edit ? valueToText(edit.replace, this.host.refs) : '';
    let checked = '';
    for (let tries = 0; tries < MAX_EDIT_TRIES; tries++) {
      const args = [this.end, index, checked, replacement, this.host.channel, this.key];
      const [done, length, stored, unfinished, text] = (await this.host.run('smQueueEditItem', [this.#items, this.#unfinished], args)) as [number, number, string | null, number, string?];
      this.seen(length, unfinished);
      if (done === 1) return { done: true, size: length };
      if (stored === null || text === undefined) return { done: false, size: length };
      const item = textToValue(text, this.host.refs);
      if (!isShown(item)) return { done: false, size: length, found: { item } };
      checked = stored;
    }
    throw new PyException('RuntimeError', `the item edit gave up after ${MAX_EDIT_TRIES} tries: other calls kept changing the queue in the meantime`);
  }
}

/** Python's `queue.LifoQueue` kept in Redis: the last item put is the first got. */
export class RedisLifoQueue extends RedisQueue {
  static override readonly builtin: string = 'LifoQueue';
  protected override readonly end: 'L' | 'R' = 'R';
}
