/**
 * The value builder: a pickle's values made straight from its opcodes, with no tree, for every
 * pickle made only of what the reader knows (None, bool, int, float, str, bytes, list, tuple,
 * dict, set, frozenset, the memo, and the proxies Python's clients send: `RebuildProxy`, `Token`).
 * Each value is counted as it is made, with what reading holds beside it (the memo, the stack),
 * so that a pickle past its budget is refused before it holds more (SPEC §19): a tree would hold
 * some 100 to 150 bytes per object of its own before any value is made.
 *
 * It makes the values the tree path (`pickleToValue.ts`) makes, counted the same way. What it does
 * not follow it leaves to the tree path, which reads the pickle again from the start
 * ({@link ReadAsTree}): an object of a class it does not know (kept as it was pickled), an
 * allow-listed object other than a proxy, a token or a set, anything the tree path refuses with an
 * error of its own (a cycle, an unhashable key, nesting too deep, an opcode applied to what it
 * cannot apply to), and a change to an object after the pickle used it again (only then can a
 * value change after it was placed, or hold itself). So every value, once placed in another, is
 * final, as the tree path's values are.
 */

import { Float, FrozenSet, isTuple, tupleFrom } from '../../../common/valueTypes';
import type { PickleBuilder, PickleCursor, PickleMachine } from './pickleBuilder';
import { pickleErrorAt } from './pickleError';
import { displayModule, globalRole, harmlessGlobal } from './pickleGlobals';
import { runPickle } from './pickleParser';
import { latin1Text } from './pickleText';
import { emptyRecord, floatBytes, HELD, intBytes, setMember, textBytes, type HeldBudget } from './pickleToValue';
import { PyProxy, PyToken } from './pickleValues';
import { RecordTemplates } from './recordTemplates';
import type { BuiltWhole } from './pickleBuiltWhole';
import { GROWN_SPARE, HELD_BYTES, HeldShapes } from '../../heldBytes';
import { opaquePickleRefused, tooCostlyToRead } from '../../limits';

/** The value builder met what it leaves to the tree path: the pickle is read again, as a tree. */
export class ReadAsTree extends Error {
  override name = 'ReadAsTree';
}

/**
 * The value of a pickle, made straight from its opcodes.
 * @throws ReadAsTree when it holds what only the tree path reads; PickleError as the parser does, or past the budget.
 */
export function readValues(data: Uint8Array, maxMarks: number, maxValues: number, maxDepth: number, refuseOpaque: boolean, budget: HeldBudget | undefined, builtWhole: BuiltWhole): unknown {
  const builder = new ValueBuilder(maxDepth, refuseOpaque, budget, builtWhole);
  const value = runPickle(data, maxMarks, maxValues, builder);
  if (budget) budget.counted = builder.held;
  return value;
}

/** An empty list or dict, or a token, while what it becomes is not known: before its first items (or its state). */
interface Pending {
  readonly kind: 'list' | 'dict' | 'token';
  /** What it became, once known. */
  value: unknown;
  /** The memo indexes it was put at, to put what it becomes there instead. */
  puts: number[] | undefined;
  /** Pushed again (memo GET, DUP) before it became anything. */
  reused: boolean;
}

/**
 * The prototype marking a {@link Pending}: made as an object literal, it is exactly its four
 * fields (56 bytes), where a class's instances may keep room for more (V8 sizes them by guess first).
 */
const PENDING_PROTO = Object.freeze(Object.create(null) as object);

function pending(kind: Pending['kind']): Pending {
  return { __proto__: PENDING_PROTO, kind, value: undefined, puts: undefined, reused: false } as unknown as Pending;
}

function isPending(value: unknown): value is Pending {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === PENDING_PROTO;
}

/** A global, which only a call may use (as its callee, or RebuildProxy's first argument). */
class GlobalRef {
  /** Put in the memo, so held after the call that used it. */
  memoized = false;

  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

/** A tuple holding a global: only a call's arguments. */
class CallArgs {
  /** Put in the memo, so held after the call that used it. */
  memoized = false;

  constructor(readonly items: readonly unknown[]) {}
}

/** What a pending value holds until it becomes what it is (measured: an object of four fields, 56 bytes, and the spare room of the stack it is on), given back then. */
const PENDING = 64;
/** Items in a full batch of CPython's pickler (`pickle._BATCHSIZE`): a list is made again for each. */
const FULL_BATCH = 1000;
/** A smaller batch makes the list again only while the list is at most this many times the batch, so that remaking it costs each item a bounded number of copies. */
const REMADE_UP_TO = 8;
/** A global: its object and its two names. */
const GLOBAL = HELD.object;

class ValueBuilder implements PickleBuilder<unknown> {
  private cursor!: PickleCursor;
  private machine!: PickleMachine<unknown>;
  /** Estimated bytes held so far, and the most they may. */
  held = 0;
  private readonly maxHeld: number;
  /** Levels of containers of each container holding a container (one holding none is 1, a scalar 0). */
  private readonly heights = new Map<object, number>();
  /** The containers the pickle pushed again (memo GET, DUP): changing one could make a cycle, or change a value already placed. */
  private readonly reused = new Set<object>();
  /** The list whose first items came last, with its memo indexes: its next batch remakes it (see `append`). */
  private growing: { list: unknown[]; puts: number[] | undefined; exact?: boolean } | undefined = undefined;
  /** Sets made by a call (protocol 2's `set([...])`), which the tree path keeps as they were made. */
  private readonly madeByCall = new Set<object>();
  /** The strings and shapes the message's dicts share. */
  private readonly shapes = new HeldShapes();
  private readonly templates = new RecordTemplates();

  constructor(
    private readonly maxDepth: number,
    /** Refuse an object of a class the reader does not know (`--no-opaque-pickles`), as the tree path would. */
    private readonly refuseOpaque: boolean,
    private readonly budget: HeldBudget | undefined,
    /** What made the pickle built whole, for a refusal to name. */
    private readonly builtWhole: BuiltWhole,
  ) {
    this.maxHeld = budget?.maxHeldBytes ?? Infinity;
  }

  attach(machine: PickleMachine<unknown> & PickleCursor): void {
    this.cursor = machine;
    this.machine = machine;
  }

  /** Counts `bytes` more held, refusing the pickle past its budget. */
  private hold(bytes: number): void {
    if ((this.held += bytes) <= this.maxHeld) return;
    this.budget!.atPeak?.();
    throw pickleErrorAt(this.cursor.op, this.cursor.at, tooCostlyToRead(this.budget!.messageBytes, this.held, this.builtWhole.why(this.cursor.protocol)));
  }

  // -- what a value is -----------------------------------------------------------------------

  /** Levels of containers in a placed value. */
  private height(value: unknown): number {
    if (typeof value !== 'object' || value === null || value instanceof Float || value instanceof Uint8Array) return 0;
    // As the tree path counts them: a proxy holds its token, which holds its address.
    if (value instanceof PyProxy) return 1 + this.height(value.token);
    if (value instanceof PyToken) return 1 + this.height(value.address);
    return this.heights.get(value) ?? 1;
  }

  /** A container's height from its items' (and its own so far); past the depth limit, the tree path says so. */
  private setHeight(container: object, items: readonly unknown[], from = 1): void {
    let h = from;
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (typeof item === 'object' && item !== null) h = Math.max(h, this.height(item) + 1);
    }
    if (h > this.maxDepth) throw new ReadAsTree('nested too deep');
    if (h < 2) return;
    if (!this.heights.has(container)) this.hold(HELD_BYTES.tableEntry);
    this.heights.set(container, h);
  }

  /** What a value becomes where it is placed (in a container, a call's arguments, the result): a pending one is made, a global is the tree path's. */
  private place(value: unknown): unknown {
    if (isPending(value)) {
      if (value.value === undefined) {
        if (value.kind === 'token') throw new ReadAsTree('a token without its state');
        this.become(value, value.kind === 'list' ? this.newList([]) : this.newDict([]));
      }
      return value.value;
    }
    if (value instanceof GlobalRef || value instanceof CallArgs) throw new ReadAsTree('a global as a value');
    return value;
  }

  private placeAll(items: unknown[]): unknown[] {
    for (let i = 0; i < items.length; i++) items[i] = this.place(items[i]);
    return items;
  }

  /** A pending value becomes `value`, in the memo too; its own bytes are given back. */
  private become(made: Pending, value: unknown): unknown {
    made.value = value;
    for (const index of made.puts ?? []) this.machine.memoSwap(index, made, value);
    made.puts = undefined;
    this.held -= PENDING;
    return value;
  }

  /** A container that may still change: one not pushed again. */
  private changeable(target: unknown): boolean {
    return typeof target === 'object' && target !== null && !this.reused.has(target);
  }

  /** A dict key or set member Python hashes; anything else is the tree path's (its error, or a value it knows). */
  private hashable(value: unknown): void {
    if (typeof value !== 'object' || value === null || value instanceof Float || value instanceof FrozenSet || value instanceof PyProxy || value instanceof PyToken) return;
    if (isTuple(value)) {
      for (const item of value) this.hashable(item);
      return;
    }
    throw new ReadAsTree('a key or member that may be unhashable');
  }

  // -- scalars -------------------------------------------------------------------------------

  none(): unknown {
    this.hold(HELD.slot);
    return null;
  }

  bool(value: boolean): unknown {
    this.hold(HELD.slot);
    return value;
  }

  int(value: number | bigint): unknown {
    this.hold(intBytes(value));
    return value;
  }

  float(value: number): unknown {
    this.hold(floatBytes(value));
    return Number.isInteger(value) ? new Float(value) : value;
  }

  str(value: string): unknown {
    this.hold(HELD.slot + textBytes(value));
    return value;
  }

  pystr(bytes: Uint8Array): unknown {
    return this.str(latin1Text(bytes));
  }

  bytes(_kind: 'bytes' | 'bytearray', bytes: Uint8Array): unknown {
    this.hold(HELD.slot + HELD.buffer + bytes.length);
    // A copy: the value must not keep the whole message alive, nor change with it.
    return Buffer.from(bytes);
  }

  // -- containers ----------------------------------------------------------------------------

  private newList(items: unknown[]): unknown[] {
    this.hold(HELD.array);
    this.setHeight(items, this.placeAll(items));
    return items;
  }

  list(items: unknown[]): unknown {
    return this.container('list', items);
  }

  /** A list or dict: made of its items, or pending while it has none (what it is is known from its first items). */
  private container(kind: 'list' | 'dict', items: unknown[]): unknown {
    this.hold(HELD.slot);
    if (items.length > 0) return kind === 'list' ? this.newList(items) : this.newDict(items);
    this.hold(PENDING);
    return pending(kind);
  }

  tuple(items: unknown[]): unknown {
    this.hold(HELD.slot + HELD.tuple);
    let global = false;
    for (let i = 0; i < items.length; i++) {
      if (items[i] instanceof GlobalRef) global = true;
      else items[i] = this.place(items[i]);
    }
    if (global) return new CallArgs(items);
    this.setHeight(items, items);
    return tupleFrom(items);
  }

  /** A dict of these keys and values (alternating): a record when every key is a str, else a Map. */
  private newDict(items: unknown[]): object {
    this.placeAll(items);
    const n = items.length / 2;
    const keys: string[] = [];
    for (let i = 0; i < items.length && typeof items[i] === 'string'; i += 2) keys.push(items[i] as string);
    let dict: object;
    if (keys.length === n) {
      const [out, bytes] = emptyRecord(keys, this.templates, this.shapes);
      // A key is no member's slot (each is its value's): its string is the record's, counted there.
      this.hold(bytes - HELD.slot * n);
      for (let i = 0; i < n; i++) setMember(out, keys[i], items[2 * i + 1]);
      dict = out;
    } else {
      this.hold(HELD.set + HELD.tableEntry * n);
      const map = new Map<unknown, unknown>();
      for (let i = 0; i < items.length; i += 2) {
        this.hashable(items[i]);
        map.set(items[i], items[i + 1]);
      }
      dict = map;
    }
    this.setHeight(dict, items);
    return dict;
  }

  dict(items: unknown[]): unknown {
    return this.container('dict', items);
  }

  emptySet(): unknown {
    this.hold(HELD.slot + HELD.set);
    return new Set();
  }

  frozenset(items: unknown[]): unknown {
    this.hold(HELD.slot + HELD.set + HELD.tableEntry * items.length);
    for (const item of this.placeAll(items)) this.hashable(item);
    const set = new FrozenSet(items);
    this.setHeight(set, items);
    return set;
  }

  // -- changes to the stack's top --------------------------------------------------------------

  append(target: unknown, items: unknown[]): unknown {
    if (isPending(target) && target.kind === 'list' && target.value === undefined && !target.reused) {
      // A list's first items are its array, as the tree path's are.
      const puts = target.puts;
      const list = this.become(target, this.newList(items)) as unknown[];
      this.growing = { list, puts, exact: true };
      return list;
    }
    if (!Array.isArray(target) || isTuple(target) || !this.changeable(target)) throw new ReadAsTree('an append the tree path reads');
    this.placeAll(items);
    const growing = this.growing;
    if (growing?.list === target && (items.length >= FULL_BATCH || target.length <= REMADE_UP_TO * items.length)) {
      // The list's next batch (CPython writes a thousand items a batch): the list is on the stack
      // and in the memo only, so it is made again of exactly its items, without the spare room
      // an array grown item by item keeps (up to half its slots). Each item counted its slot.
      // Only for a batch that is not small beside the list: remade for each of many small ones
      // (protocol 0 appends one item at a time), a list would be copied whole for each item.
      const list = target.concat(items);
      for (const index of growing.puts ?? []) this.machine.memoSwap(index, target, list);
      this.heights.delete(target);
      this.setHeight(list, list);
      growing.list = list;
      growing.exact = true;
      return list;
    }
    // Grown in place from here: an array made at its exact length gets up to half its slots spare
    // at its first push, counted once; each item pushed counts its share of that room after.
    if (growing?.list === target && growing.exact) {
      this.hold(GROWN_SPARE * target.length);
      growing.exact = false;
    }
    this.hold(GROWN_SPARE * items.length);
    for (const item of items) target.push(item);
    this.setHeight(target, items, this.height(target));
    return undefined;
  }

  setItems(target: unknown, items: unknown[]): unknown {
    if (isPending(target) && target.kind === 'dict' && target.value === undefined && !target.reused) {
      // Which a dict is (a record or a Map) is known from its first items: CPython sends each dict's items at once, in batches of a thousand.
      return this.become(target, this.newDict(items));
    }
    if (!this.changeable(target)) throw new ReadAsTree('a change the tree path reads');
    this.placeAll(items);
    if (target instanceof Map) {
      this.hold(HELD.tableEntry * (items.length / 2));
      for (let i = 0; i < items.length; i += 2) {
        this.hashable(items[i]);
        target.set(items[i], items[i + 1]);
      }
    } else if (Object.getPrototypeOf(target) === Object.prototype) {
      // A record's later batch: a member as a table's (a dict this large is one), its key's string once a message.
      const record = target as Record<string, unknown>;
      for (let i = 0; i < items.length; i += 2) {
        const key = items[i];
        if (typeof key !== 'string') throw new ReadAsTree('a dict of str keys given another key');
        this.hold(HELD_BYTES.dictionaryEntry + this.shapes.internalized(key));
        setMember(record, key, items[i + 1]);
      }
    } else {
      throw new ReadAsTree('a change the tree path reads');
    }
    this.setHeight(target as object, items, this.height(target));
    return undefined;
  }

  addItems(target: unknown, items: unknown[]): unknown {
    if (!(target instanceof Set) || target instanceof FrozenSet || this.madeByCall.has(target) || !this.changeable(target)) throw new ReadAsTree('a change the tree path reads');
    this.hold(HELD.tableEntry * items.length);
    for (const item of this.placeAll(items)) {
      this.hashable(item);
      target.add(item);
    }
    this.setHeight(target, items, this.height(target));
    return undefined;
  }

  build(target: unknown, state: unknown): unknown {
    if (!(isPending(target)) || target.kind !== 'token' || target.value !== undefined || target.reused) throw new ReadAsTree('a BUILD the tree path reads');
    // `Token.__new__(Token)` then its state `(typeid, address, id)`, as `Token.__getstate__` gives it.
    return this.become(target, this.token(this.place(state)));
  }

  // -- globals and the calls the reader knows ----------------------------------------------------

  global(module: string, name: string): unknown {
    this.hold(HELD.slot + GLOBAL);
    return new GlobalRef(module, name);
  }

  globalPart(value: unknown): string | undefined {
    return typeof value === 'string' ? value : undefined;
  }

  object(how: 'REDUCE' | 'NEWOBJ' | 'NEWOBJ_EX' | 'INST' | 'OBJ', callee: unknown, args: unknown): unknown {
    if (!(callee instanceof GlobalRef)) throw new ReadAsTree('a call of no global');
    const role = globalRole(callee.module, callee.name);
    this.usedUp(callee);
    this.hold(HELD.slot);
    if (how === 'NEWOBJ' && role === 'Token' && isTuple(args)) {
      this.hold(PENDING);
      return pending('token');
    }
    if (role === undefined && this.refuseOpaque && (how === 'REDUCE' || how === 'NEWOBJ' || how === 'NEWOBJ_EX')) {
      // A harmless class is kept opaque, which the tree path does, looking at all it holds.
      if (harmlessGlobal(callee.module, callee.name)) throw new ReadAsTree('an object of a harmless class');
      // The tree path's refusal, where it would make the object: its class is the callee.
      throw this.cursor.fail(opaquePickleRefused(`${displayModule(callee.module)}.${callee.name}`));
    }
    if (how !== 'REDUCE') throw new ReadAsTree('an object the tree path reads');
    if (role === 'RebuildProxy' && args instanceof CallArgs) {
      this.usedUp(args);
      return this.proxy(args.items);
    }
    if (!isTuple(args)) throw new ReadAsTree('a call the tree path reads');
    if (role === 'Token') return this.token(args);
    if ((role === 'set' || role === 'frozenset') && args.length <= 1) return this.set(role, args[0]);
    throw new ReadAsTree('an object the tree path reads');
  }

  /** A Token of its state `(typeid, address, id)`. */
  private token(state: unknown): PyToken {
    if (!isTuple(state) || state.length !== 3) throw new ReadAsTree('a token the tree path reads');
    const [typeid, address, id] = state;
    if (typeof typeid !== 'string' || typeof id !== 'string') throw new ReadAsTree('a token the tree path reads');
    return new PyToken(typeid, address, id);
  }

  /** `RebuildProxy(func, token, serializer, kwds)` with kwds `{}` or `{'exposed': (...)}`. */
  private proxy(args: readonly unknown[]): PyProxy {
    if (args.length !== 4) throw new ReadAsTree('a proxy the tree path reads');
    const [func, token, serializer, kwds] = args;
    if (!(func instanceof GlobalRef) || !(token instanceof PyToken) || typeof serializer !== 'string') throw new ReadAsTree('a proxy the tree path reads');
    this.usedUp(func);
    this.builtWhole.note('a proxy');
    if (typeof kwds !== 'object' || kwds === null || Object.getPrototypeOf(kwds) !== Object.prototype) throw new ReadAsTree('a proxy the tree path reads');
    let exposed: string[] | undefined;
    for (const [key, names] of Object.entries(kwds)) {
      if (key !== 'exposed' || !Array.isArray(names) || !names.every((name) => typeof name === 'string')) throw new ReadAsTree('a proxy the tree path reads');
      exposed = [...(names as string[])];
    }
    return new PyProxy(token, func.name, exposed, serializer, func.module);
  }

  /** `set(items)`, `frozenset(items)` as protocol 2 writes them, or of nothing. */
  private set(role: 'set' | 'frozenset', source: unknown): Set<unknown> {
    if (source !== undefined && !Array.isArray(source)) throw new ReadAsTree('a set the tree path reads');
    const members = source ?? [];
    this.hold(HELD.set + HELD.tableEntry * members.length);
    for (const member of members) this.hashable(member);
    const set = role === 'set' ? new Set(members) : new FrozenSet(members);
    if (role === 'set') {
      this.hold(HELD_BYTES.tableEntry);
      this.madeByCall.add(set);
    }
    this.setHeight(set, members, 2);
    return set;
  }

  // -- the memo and the stack --------------------------------------------------------------------

  reuse(value: unknown): void {
    this.hold(HELD.slot);
    if (isPending(value)) {
      value.reused = true;
    } else if (typeof value === 'object' && value !== null && !this.reused.has(value) && !isTuple(value) && !(value instanceof FrozenSet)) {
      this.hold(HELD_BYTES.tableEntry);
      this.reused.add(value);
      this.builtWhole.note('a value shared through the memo');
    }
  }

  memoPut(value: unknown, index: number, bytes: number): void {
    this.hold(bytes);
    const growing = this.growing;
    if (isPending(value) && value.value === undefined) (value.puts ??= []).push(index);
    else if (growing !== undefined && value === growing.list) (growing.puts ??= []).push(index);
    else if (value instanceof GlobalRef || value instanceof CallArgs) value.memoized = true;
  }

  /** A global or a call's arguments a call used: what it held is given back unless the memo keeps it. */
  private usedUp(value: GlobalRef | CallArgs): void {
    if (!value.memoized) this.held -= value instanceof GlobalRef ? HELD.slot + GLOBAL : HELD.slot + HELD.tuple;
  }

  result(value: unknown): unknown {
    const placed = this.place(value);
    if (this.height(placed) > this.maxDepth) throw new ReadAsTree('nested too deep');
    this.budget?.atPeak?.();
    return placed;
  }

  describe(): string {
    // Only a message names what the tree path describes: it reads the pickle again and says it.
    throw new ReadAsTree('an error the tree path words');
  }
}
