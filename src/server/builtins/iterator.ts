/**
 * The shared `Iterator`: what `iter(d)` on a dict proxy (or a list or set proxy) hands back, as
 * SyncManager's `Iterator` typeid does. Each `__next__` call returns the next item, and the end
 * is a StopIteration error, as Python's IteratorProxy sees it. It walks the live container, so a
 * dict or set that changes size while it is iterated raises Python's RuntimeError.
 */

import { PyException } from '../exceptions';
import { sig, type CallContext, type Signature } from '../calls/methodDispatch';
import { pyAddress } from '../pythonSemantics';

/** A source of items: `next()` gives the next one, or `done` at the end. */
export type ItemSource = () => { done: true } | { done: false; value: unknown };

/** An iterator shared through the manager (IteratorProxy's methods). */
export class PyIterator {
  /** The SyncManager typeid and the type name clients see. */
  static readonly builtin = 'Iterator';
  /** IteratorProxy's methods. `send` and `throw` are exposed as Python exposes them, and fail as a plain iterator's do. */
  static readonly exposed: readonly string[] = ['__next__', 'send', 'throw', 'close'];
  /** Python signatures of the exposed methods. */
  static readonly signatures: Readonly<Record<string, Signature>> = {
    __next__: sig(),
    send: sig('value'),
    throw: sig('*args'),
    close: sig(),
  };

  #next: ItemSource | undefined;
  /** Items handed out whose answers never reached their callers: handed out again first. */
  readonly #givenBack: unknown[] = [];

  /**
   * @param source gives items one at a time.
   * @param kind Python's name for this iterator's type (`dict_keyiterator`, `list_iterator`), for messages.
   */
  constructor(
    source: ItemSource,
    private readonly kind: string,
  ) {
    this.#next = source;
  }

  /** The next item. @throws PyException StopIteration at the end (and every call after it). */
  __next__(context: CallContext = {}): unknown {
    if (this.#givenBack.length > 0) return this.#step(this.#givenBack.pop(), context);
    if (!this.#next) throw new PyException('StopIteration', '');
    const step = this.#next();
    if (step.done) {
      // Exhausted for good, as Python's iterators are: the container may grow, the iterator stays done.
      this.#next = undefined;
      throw new PyException('StopIteration', '');
    }
    return this.#step(step.value, context);
  }

  /** An item handed out: if its answer never reaches the caller, it is the next one again. */
  #step(item: unknown, context: CallContext): unknown {
    context.giveBack?.(this.#giveBack);
    return item;
  }

  readonly #giveBack = (item: unknown): void => {
    this.#givenBack.push(item);
  };

  /** @throws PyException AttributeError: a container's iterator is not a generator. */
  send(_value: unknown): never {
    throw new PyException('AttributeError', `'${this.kind}' object has no attribute 'send'`);
  }

  /** @throws PyException AttributeError: a container's iterator is not a generator. */
  throw(): never {
    throw new PyException('AttributeError', `'${this.kind}' object has no attribute 'throw'`);
  }

  /** @throws PyException AttributeError: a container's iterator is not a generator. */
  close(): never {
    throw new PyException('AttributeError', `'${this.kind}' object has no attribute 'close'`);
  }

  /** For inspection: which kind of iterator it is; it has no contents to show (reading one would advance it). */
  describeState(): { details: Record<string, unknown> } {
    return { details: { kind: this.kind, exhausted: this.#next === undefined && this.#givenBack.length === 0 } };
  }

  /** Python's repr: `<dict_keyiterator object at 0x...>`. */
  __repr__(): string {
    return `<${this.kind} object at ${pyAddress(this)}>`;
  }
}

/**
 * An item source over a live container that Python forbids to change size while iterated (dict,
 * set): `size()` is read at each step, and a change is Python's RuntimeError.
 * @param what 'dictionary' or 'Set', as Python's message names it.
 */
export function sizeCheckedSource(items: () => Iterator<unknown>, size: () => number, what: string): ItemSource {
  const expected = size();
  const it = items();
  let done = false;
  return () => {
    if (done) return { done: true };
    if (size() !== expected) {
      done = true;
      throw new PyException('RuntimeError', `${what} changed size during iteration`);
    }
    const step = it.next();
    if (step.done) {
      done = true;
      return { done: true };
    }
    return { done: false, value: step.value };
  };
}

/** An item source over a live list: by index, as Python's list_iterator reads it, so changes show. */
export function indexSource(length: () => number, at: (index: number) => unknown): ItemSource {
  let index = 0;
  return () => (index < length() ? { done: false, value: at(index++) } : { done: true });
}
