/**
 * Queue, JoinableQueue and LifoQueue kept in Redis: the same methods, results and errors as the
 * in-memory queues of `../builtins/queue`, each method one atomic script, and a put through any
 * manager waking a getter waiting on any other. Items are a Redis list (`…:items`, got from the
 * left for a FIFO, from the right for a LIFO); the unfinished-task count of `task_done`/`join` is
 * `…:unfinished`.
 */

import { isWithdrawn, type CallContext, type Signature } from '../calls/methodDispatch';
import { CallCancelled, PyException } from '../exceptions';
import { pyAddress, pyTruthy } from '../pythonSemantics';
import { nanTimeout, Queue, queueMaxsize, tooManyTaskDone } from '../builtins/queue';
import { timeoutSeconds } from '../builtins/waiting';
import type { RedisObjectHost } from './redisStore';
import { NOT_YET } from './redisWakeups';
import { textToValue, valueToText } from './valueText';

/** The keys of a queue named `name`. */
export function queueKeys(host: RedisObjectHost, name: string): [items: string, unfinished: string] {
  const key = host.keyOf(name);
  return [`${key}:items`, `${key}:unfinished`];
}

const full = (): PyException => new PyException('Full', '');
const empty = (): PyException => new PyException('Empty', '');

/** A FIFO queue kept in Redis, with Python's `queue.Queue` methods. */
export class RedisQueue {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin: string = 'Queue';
  static readonly exposed: readonly string[] = Queue.exposed;
  static readonly signatures: Readonly<Record<string, Signature>> = Queue.signatures;

  /** The end items are got from: the left of the list for a FIFO. */
  protected readonly end: 'L' | 'R' = 'L';
  readonly #maxsize: number;
  readonly #key: string;
  readonly #items: string;
  readonly #unfinished: string;

  constructor(
    private readonly host: RedisObjectHost,
    name: string,
    maxsize: unknown = 0,
  ) {
    this.#maxsize = queueMaxsize(maxsize);
    this.#key = host.keyOf(name);
    [this.#items, this.#unfinished] = queueKeys(host, name);
  }

  /** The bound given at construction (0 or less: unbounded). */
  get maxsize(): number {
    return this.#maxsize;
  }

  /** Python's repr: `<queue.Queue object at 0x...>`. */
  __repr__(): string {
    return `<queue.${(this.constructor as typeof RedisQueue).builtin} object at ${pyAddress(this)}>`;
  }

  async #state(): Promise<[length: number, unfinished: number]> {
    return (await this.host.run('smQueueState', [this.#items, this.#unfinished], [])) as [number, number];
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
    const text = valueToText(item);
    const attempt = async (): Promise<undefined | typeof NOT_YET> => {
      const done = await this.host.run('smQueuePut', [this.#items, this.#unfinished], [this.#maxsize, text, this.host.channel, this.#key]);
      return done === 1 ? undefined : NOT_YET;
    };
    if (this.#maxsize > 0 && !pyTruthy(block)) return attempt().then((r) => (r === NOT_YET ? Promise.reject(full()) : r));
    // Python checks the timeout only for a bounded queue, even when there is room.
    const seconds = this.#maxsize > 0 ? timeoutSeconds(timeout) : null;
    return this.host.wakeups.until({ key: this.#key, seconds, context, attempt, expiry: full, beforeWait: () => this.#refuseNaN(seconds) });
  }

  /** Python's `put_nowait(item)`. */
  put_nowait(item: unknown, context: CallContext = {}): Promise<undefined> {
    return this.put(item, false, null, context);
  }

  /** Python's `get(block=True, timeout=None)`, as the in-memory Queue's. */
  get(block: unknown = true, timeout: unknown = null, context: CallContext = {}): Promise<unknown> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const attempt = async (): Promise<string | typeof NOT_YET> => {
      const text = (await this.host.run('smQueueTake', [this.#items], [this.end, this.host.channel, this.#key])) as string | null;
      return text === null ? NOT_YET : text;
    };
    // An item whose answer never reaches this caller goes back to the front.
    context.giveBack?.((item) => void this.#putBack(valueToText(item)).catch(() => {}));
    if (!pyTruthy(block)) return attempt().then((r) => (r === NOT_YET ? Promise.reject(empty()) : textToValue(r)));
    const seconds = timeoutSeconds(timeout);
    return this.host.wakeups
      .until({ key: this.#key, seconds, context, attempt, expiry: empty, undo: (text) => this.#putBack(text), beforeWait: () => this.#refuseNaN(seconds) })
      .then(textToValue);
  }

  /** Python's `get_nowait()`. */
  get_nowait(context: CallContext = {}): Promise<unknown> {
    return this.get(false, null, context);
  }

  /** Python's `task_done()`. @throws PyException ValueError when no task is unfinished. */
  async task_done(): Promise<undefined> {
    const left = await this.host.run('smQueueTaskDone', [this.#unfinished], [this.host.channel, this.#key]);
    if (left === -1) throw tooManyTaskDone();
    return undefined;
  }

  /** Python's `join()`: returns when every item put has been marked done. */
  join(context: CallContext = {}): Promise<undefined> {
    if (isWithdrawn(context)) throw new CallCancelled();
    const attempt = async (): Promise<undefined | typeof NOT_YET> => ((await this.#state())[1] === 0 ? undefined : NOT_YET);
    return this.host.wakeups.until({ key: this.#key, seconds: null, context, attempt, expiry: empty });
  }

  #putBack(text: string): Promise<void> {
    return this.host.run('smQueuePutBack', [this.#items], [this.end, text, this.host.channel, this.#key]).then(() => undefined);
  }

  #refuseNaN(seconds: number | null): void {
    if (seconds !== null && Number.isNaN(seconds)) throw nanTimeout();
  }
}

/** Python's `queue.LifoQueue` kept in Redis: the last item put is the first got. */
export class RedisLifoQueue extends RedisQueue {
  static override readonly builtin: string = 'LifoQueue';
  protected override readonly end: 'L' | 'R' = 'R';
}
