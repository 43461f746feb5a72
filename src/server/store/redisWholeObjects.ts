/**
 * dict, list, set, Namespace, Value and Array kept in Redis whole: each object is one stored
 * state (its contents as value text) with a version. A method call reads the state, runs the
 * in-memory type's own method on a copy made from it (so every result and error is the
 * in-memory type's), and, when the method changed the copy, stores the new state only if the
 * version is still the one read; otherwise it runs again on the newer state. Each call is thus
 * atomic, across managers, with exactly the in-memory semantics; the cost is reading and
 * writing the whole object per call, which suits the small shared state these types usually
 * hold (queues, the hot path, have their own scripts: `redisQueue.ts`).
 */

import type { Signature } from '../calls/methodDispatch';
import { PyException } from '../exceptions';
import { PyArray, createArray } from '../builtins/array';
import { Dict, createDict } from '../builtins/dict';
import { List, createList } from '../builtins/list';
import { Namespace, createNamespace } from '../builtins/namespace';
import { PySet, createSet } from '../builtins/set';
import { PyIterator } from '../builtins/iterator';
import { Value, createValue } from '../builtins/value';
import { tuple } from '../../common/valueTypes';
import type { BuiltinClass } from '../builtins';
import type { RedisObjectHost } from './redisStore';
import type { RedisTypeFactory } from './redisTypes';
import { textToValue, valueToText } from './valueText';
import { answersRecorded, NO_RECORD, STARTED, type AnswerRecord } from './redisAnswers';
import { SessionCallContext } from '../calls/callContext';
import type { EditsStoredItems, ItemEdit, StoredEditOutcome } from '../itemEdits';

/** How many times a call runs again when other calls changed the object meanwhile. */
const MAX_TRIES = 100;

/** How a type's objects become a stored state and back. */
interface WholeCodec<T extends object> {
  /** The in-memory class: its builtin, exposed methods, signatures, methodToTypeid. */
  readonly Kind: BuiltinClass & { prototype: T };
  create(args: readonly unknown[], kwargs: Readonly<Record<string, unknown>>): T;
  /** The object's contents as a server value. */
  save(obj: T): unknown;
  /** An object from saved contents. */
  load(state: unknown): T;
}

/** The keys of an object named `name`. */
function wholeKeys(host: RedisObjectHost, name: string): [state: string, version: string] {
  const key = host.keyOf(name);
  return [`${key}:state`, `${key}:version`];
}

/** An object kept whole in Redis; its methods are the in-memory type's, run on a copy. */
class WholeObject<T extends object> {
  /** The copy the last call read or wrote: what inspection summarises without a round trip. */
  #last: T;
  readonly #keys: [string, string];
  readonly #initial: string;
  /** This manager's calls on the object, one at a time in arrival order (a session's pipelined calls apply in order). */
  #turn: Promise<unknown> = Promise.resolve();

  constructor(
    readonly host: RedisObjectHost,
    name: string,
    private readonly codec: WholeCodec<T>,
    initial: T,
  ) {
    this.#keys = wholeKeys(host, name);
    this.#last = initial;
    this.#initial = valueToText(codec.save(initial), host.refs);
  }

  /** The copy the last call saw (inspection's summary). */
  lastCopy(): object {
    return this.#last;
  }

  /** A copy of the current state, read from Redis without writing anything (inspection's peek). */
  async freshCopy(): Promise<object> {
    return this.#copyOf((await this.host.run('smWholeRead', [this.#keys[0]], [this.#initial])) as string);
  }

  /**
   * The stored state, its version and a copy made from it: a read (`effect: 'none'`: its one
   * write, the initial state where there is none, is the same whoever makes it).
   */
  async #load(): Promise<[version: number, copy: T, text: string]> {
    const [version, text] = (await this.host.run('smWholeLoad', this.#keys, [this.#initial])) as [number, string];
    return [version, this.#copyOf(text), text];
  }

  /** The object a stored state makes, kept as the last copy seen. */
  #copyOf(text: string): T {
    const copy = this.codec.load(textToValue(text, this.host.refs));
    this.#last = copy;
    return copy;
  }

  /**
   * Runs `method` of the in-memory type on the current state, storing what it changed; after this
   * manager's earlier calls. A session's call (its context last in `args`) records its answer
   * with the change (see `redisAnswers.ts`).
   */
  call(method: string, args: unknown[]): Promise<unknown> {
    const context = args.at(-1);
    const record = context instanceof SessionCallContext ? this.host.answerRecord(context) : NO_RECORD;
    return this.change(`${method}()`, (copy) => (copy as Record<string, (...a: unknown[]) => unknown>)[method](...args), record);
  }

  /** Every method records its answer with the change it makes; one that changes nothing only read. */
  [answersRecorded](): boolean {
    return true;
  }

  /**
   * Runs `run` on a copy of the current state, storing what it changed, atomically as a method
   * call (`what` names it in an error); after this manager's earlier calls. `record`: where the
   * answer is recorded with the change.
   */
  protected change<R>(what: string, run: (copy: T) => R, record = NO_RECORD): Promise<R> {
    const done = this.#turn.then(() => this.#apply(what, run, record));
    this.#turn = done.catch(() => undefined);
    return done;
  }

  /**
   * An Iterator over the live object, as the in-memory type's `__iter__`/`__reversed__` gives:
   * each `__next__` reads the current state, so a list's changes show and a dict or set that
   * changed size raises Python's RuntimeError.
   */
  iterate(method: '__iter__' | '__reversed__'): Promise<StoredIterator> {
    return this.call('__len__' in (this.codec.Kind.prototype as object) ? '__len__' : '__repr__', []).then(() => {
      const copy = this.#last as unknown as Record<string, () => PyIterator>;
      const kind = String(copy[method]().describeState().details.kind);
      const size = sizeOf(this.#last);
      const reversed = method === '__reversed__';
      let index = reversed ? size - 1 : 0;
      // list iterators read by position and see changes; dict and set iterators refuse a change of size.
      const checked = !(this.#last instanceof List);
      const what = this.#last instanceof Dict ? 'dictionary' : 'Set';
      return new StoredIterator(kind, async () => {
        const now = (await this.#turnCopy()) as object;
        const items = itemsOf(now);
        if (checked && items.length !== size) throw new PyException('RuntimeError', `${what} changed size during iteration`);
        if (reversed ? index < 0 || index >= items.length : index >= items.length) return { done: true };
        return { done: false, value: items[reversed ? index-- : index++] };
      });
    });
  }

  /** A fresh copy, read in this manager's turn. */
  #turnCopy(): Promise<object> {
    const run = this.#turn.then(() => this.freshCopy());
    this.#turn = run.catch(() => undefined);
    return run;
  }

  #recording(record: AnswerRecord, failed: boolean, result: unknown): AnswerRecord {
    return record.length === 0 ? record : [...record, answerText(failed, result, this.host)];
  }

  async #apply<R>(what: string, run: (copy: T) => R, record: AnswerRecord): Promise<R> {
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const [version, copy, before] = await this.#load();
      let result: R | undefined;
      let failure: unknown;
      let failed = false;
      try {
        result = run(copy);
      } catch (error) {
        failed = true;
        failure = error;
      }
      const after = valueToText(this.codec.save(copy), this.host.refs);
      if (after !== before && (await this.host.run('smWholeSave', this.#keys, [version, after, ...this.#recording(record, failed, result)])) !== 1) continue;
      if (failed) throw failure;
      return result as R;
    }
    throw new PyException('RuntimeError', `${what} gave up after ${MAX_TRIES} tries: other calls kept changing the object in the meantime`);
  }
}

/** What an answer is recorded as (its value text): a failure, or a result a store cannot hold, as unknown (`redisAnswers.ts`). */
function answerText(failed: boolean, result: unknown, host: RedisObjectHost): string {
  if (failed) return STARTED;
  try {
    return valueToText(result, host.refs);
  } catch {
    return STARTED;
  }
}

/** The items an iterator of an in-memory container walks: a list's items, a dict's keys, a set's members. */
function itemsOf(obj: object): unknown[] {
  if (obj instanceof Dict) return obj.entries().map(([k]) => k);
  if (obj instanceof List || obj instanceof PySet) return obj.snapshot();
  return [];
}

function sizeOf(obj: object): number {
  return itemsOf(obj).length;
}

/** An Iterator over an object kept in a store: `__next__` reads the store (see {@link WholeObject.iterate}). */
export class StoredIterator extends PyIterator {
  #step: (() => Promise<{ done: true } | { done: false; value: unknown }>) | undefined;

  constructor(kind: string, step: () => Promise<{ done: true } | { done: false; value: unknown }>) {
    super(() => ({ done: true }), kind);
    this.#step = step;
  }

  /** The next item. @throws PyException StopIteration at the end (and every call after it), RuntimeError as the in-memory iterator. */
  override async __next__(): Promise<unknown> {
    const step = this.#step;
    if (!step) throw new PyException('StopIteration', '');
    let next;
    try {
      next = await step();
    } catch (error) {
      if (error instanceof PyException) this.#step = undefined;
      throw error;
    }
    if (next.done) {
      this.#step = undefined;
      throw new PyException('StopIteration', '');
    }
    return next.value;
  }

  override describeState(): { details: Record<string, unknown> } {
    return { details: { ...super.describeState().details, exhausted: this.#step === undefined } };
  }
}

/** Makes the class a whole-kept type's objects have: the in-memory class's statics, each method a {@link WholeObject.call}. */
function wholeClass<T extends object>(codec: WholeCodec<T>): WholeClass<T> {
  const Kind = codec.Kind;
  class Kept extends WholeObject<T> {
    static readonly builtin: string = Kind.builtin;
    static readonly exposed: readonly string[] = Kind.exposed;
    static readonly signatures: Readonly<Record<string, Signature>> = Kind.signatures;
    static readonly methodToTypeid = Kind.methodToTypeid;
    constructor(host: RedisObjectHost, name: string, initial: T) {
      super(host, name, codec, initial);
    }
  }
  const own = new Set(Object.getOwnPropertyNames(WholeObject.prototype));
  for (const method of [...Kind.exposed, '__repr__', '__str__', '__getvalue__']) {
    if (own.has(method) || typeof (Kind.prototype as Record<string, unknown>)[method] !== 'function') continue;
    const iterates = Kind.methodToTypeid?.[method] === 'Iterator' && (method === '__iter__' || method === '__reversed__');
    Object.defineProperty(Kept.prototype, method, {
      value(this: Kept, ...args: unknown[]) {
        return iterates ? this.iterate(method as '__iter__' | '__reversed__') : this.call(method, args);
      },
    });
  }
  return Kept;
}

/** The class of a whole-kept type's objects. */
type WholeClass<T extends object> = new (host: RedisObjectHost, name: string, initial: T) => WholeObject<T>;

function wholeType<T extends object>(codec: WholeCodec<T>, extend: (Kept: WholeClass<T>) => WholeClass<T> = (Kept) => Kept): RedisTypeFactory {
  const Kept = extend(wholeClass(codec));
  return {
    type: Kept as unknown as BuiltinClass,
    create: (host, name, args, kwargs) => new Kept(host, name, codec.create(args, kwargs)),
    keys: (host, name) => wholeKeys(host, name),
  };
}

/** dict: its `(key, value)` pairs in order. */
const dictCodec: WholeCodec<Dict> = {
  Kind: Dict,
  create: createDict,
  save: (d) => d.entries().map(([k, v]) => tuple(k, v)),
  load: (pairs) => {
    const d = new Dict();
    for (const [k, v] of pairs as [unknown, unknown][]) d.__setitem__(k, v);
    return d;
  },
};

/** list: its items. */
const listCodec: WholeCodec<List> = { Kind: List, create: createList, save: (l) => l.snapshot(), load: (items) => new List(items) };

/** set: its members. */
const setCodec: WholeCodec<PySet> = { Kind: PySet, create: createSet, save: (s) => s.snapshot(), load: (members) => new PySet(members) };

/** Namespace: its `(name, value)` attributes in order. */
const namespaceCodec: WholeCodec<Namespace> = {
  Kind: Namespace,
  create: createNamespace,
  save: (ns) => Object.entries(ns.snapshot()).map(([k, v]) => tuple(k, v)),
  load: (pairs) => new Namespace(Object.fromEntries(pairs as [string, unknown][])),
};

/** Value: its typecode and value. */
const valueCodec: WholeCodec<Value> = {
  Kind: Value,
  create: createValue,
  save: (v) => tuple(v.typecode, v.get()),
  load: (state) => {
    const [typecode, value] = state as [unknown, unknown];
    return new Value(typecode, value);
  },
};

/** Array: its typecode and items. */
const arrayCodec: WholeCodec<PyArray> = {
  Kind: PyArray,
  create: createArray,
  save: (a) => tuple<unknown>(a.typecode, a.snapshot()),
  load: (state) => {
    const [typecode, items] = state as [unknown, unknown];
    return new PyArray(typecode, items);
  },
};

/**
 * A list kept whole, with inspection's Remove Item and Edit Item (itemEdits.ts): the item at an
 * index checked and changed on a copy, stored only if nothing changed the list meanwhile (else
 * checked again on the newer list).
 */
function withItemEdits(Kept: WholeClass<List>): WholeClass<List> {
  return class extends Kept implements EditsStoredItems {
    readonly itemKind = 'list';

    editShownItem(index: number, isShown: (item: unknown) => boolean, edit: ItemEdit): Promise<StoredEditOutcome> {
      return this.change<StoredEditOutcome>("inspection's item edit", (copy) => {
        const size = copy.size;
        if (index >= size) return { done: false, size };
        const item = copy.__getitem__(index);
        if (!isShown(item)) return { done: false, size, found: { item } };
        if ('remove' in edit) copy.__delitem__(index);
        else copy.__setitem__(index, edit.replace);
        return { done: true, size: copy.size };
      });
    }
  };
}

/** The types kept whole, by SyncManager typeid. */
export const wholeTypes = {
  dict: wholeType(dictCodec),
  list: wholeType(listCodec, withItemEdits),
  set: wholeType(setCodec),
  Namespace: wholeType(namespaceCodec),
  Value: wholeType(valueCodec),
  Array: wholeType(arrayCodec),
} as const;
