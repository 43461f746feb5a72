/**
 * Turns a pickle's node tree into the server's values (see `common/valueTypes.ts`): Python's plain
 * types become their JavaScript counterparts, the allow-listed objects (Token, RebuildProxy,
 * exceptions, set/frozenset/slice/bytes/bytearray as protocol 2 spells them) become values of
 * their own, and any other object an OpaqueValue that re-creates it.
 *
 * A node reached twice gives the same value (shared references survive); a node reached from
 * inside itself is a cycle, which is refused. Nesting is bounded, shared sub-trees included.
 */

import { Float, FrozenSet, OpaqueValue, Slice, tupleFrom } from '../../../common/valueTypes';
import { pickleErrorAt } from './pickleError';
import { globalRole, instanceClass } from './pickleGlobals';
import { opaqueOf, standaloneHeight } from './pickleReemit';
import { latin1Text } from './pickleText';
import { describeNode, nodeText, type DictNode, type GlobalNode, type ObjectNode, type PickleNode, type PyStrNode, type SequenceNode, type StrNode } from './pickleTree';
import { PyExceptionValue, PyProxy, PyToken } from './pickleValues';
import { opaquePickleRefused, tooCostlyToRead } from '../../limits';
import { refusedGlobalIn } from './pickleSafety';
import { bigintBytes, HELD_BYTES, HeldShapes, stringBytes as heldStringBytes } from '../../heldBytes';
import { RecordTemplates } from './recordTemplates';

/** Limits of {@link toValue}. */
export interface ValueLimits {
  /** Deepest nesting of containers (and of the objects inside an opaque value). */
  maxDepth: number;
  /** Most bytes all the OpaqueValues of one pickle may hold together. */
  maxOpaqueBytes: number;
  /** Refuse an object that would become an OpaqueValue holding a global that is not harmless (`--no-opaque-pickles`, see `pickleSafety`). */
  refuseOpaque?: boolean;
  /** What the values built may hold (see {@link HELD}), and the message's bytes, to refuse beyond it naming the rule (SPEC §19). */
  heldBudget?: HeldBudget;
  /** What reading held before the values are built (the tree's nodes), counted against the same budget. */
  heldBefore?: number;
  /** Why the pickle is built whole, for a refusal (`pickleBuiltWhole.ts`; default: every reason there may be). */
  why?: string;
}

/** Most bytes of heap the values built from a message may hold, and the bytes of the message. */
export interface HeldBudget {
  readonly maxHeldBytes: number;
  readonly messageBytes: number;
  /** Set once the values are built: the bytes counted (what the tests compare with what is held). */
  counted?: number;
  /** Called where reading holds the most (all it made alive): once the value is built, or as it refuses; the tests measure the heap there. */
  atPeak?: () => void;
}

/**
 * Bytes of V8 heap each value built holds, on the high side of what
 * `test/server/decode-memory.test.ts` measures (a slot 8 B, a heap number 16 to 17, a boxed float
 * 32, a tuple 92, a `bytes` 104 and its bytes, a set's or a Map's entry 22 or 28 beside its slots,
 * an object of a class some 450 and its pickle): each value counts its slot in its container; a
 * str its header and two bytes a character, rounded as the heap rounds, once however often the
 * memo gives it again; a dict of str keys what a record holds (`heldBytes.ts`: its keys' strings
 * and shapes once a message); a table's entry its spare room; a proxy or a token nothing (the
 * session makes it its one reference to the object). What `heldBytes.ts` also counts (a slot, a
 * heap number, an array, a table's entry) is its figure, so that both readers count alike.
 */
export const HELD = { slot: HELD_BYTES.slot, number: HELD_BYTES.heapNumber, float: 36, buffer: 112, array: HELD_BYTES.array, tuple: 112, set: 80, tableEntry: HELD_BYTES.tableEntry, object: 64, opaque: 480 } as const;

/** Bytes a string of `length` characters holds: its header, at most two bytes a character, rounded to 8. */
export function stringBytes(length: number): number {
  return heldStringBytes(length, true);
}

/** Bytes a str's text holds: none for an empty or one-character Latin-1 one (V8 gives one string for each), else {@link stringBytes}. */
export function textBytes(text: string): number {
  return text.length === 0 || (text.length === 1 && text.charCodeAt(0) < 256) ? 0 : stringBytes(text.length);
}

/** Bytes an int holds: a small one is the slot itself; a larger one a heap number, or a bigint of its words. */
export function intBytes(value: number | bigint): number {
  return HELD.slot + (typeof value === 'bigint' ? bigintBytes(value) : (value | 0) === value ? 0 : HELD.number);
}

/** Bytes a float holds: an integral one stays a float only if boxed (2.0 would read back as the int 2). */
export function floatBytes(value: number): number {
  return HELD.slot + (Number.isInteger(value) ? HELD.float : HELD.number);
}

/** Why a pickle past its budget is refused, when what it holds that made it built whole is not known yet: what the reader builds whole. */
export const BUILT_WHOLE =
  'an argument holding a proxy, an object of a class, or a value shared through the memo with one, and any argument of a pickle in protocol 0 or 1 or (under --no-opaque-pickles) holding a global other than the listed and harmless ones, is built whole; send the dense part as an argument of its own';

/** The value a node tree stands for. @throws PickleError for cycles, too deep nesting, unhashable keys. */
export function toValue(root: PickleNode, limits: ValueLimits): unknown {
  const builder = new ValueBuilder(limits);
  const value = builder.value(root, 0);
  limits.heldBudget?.atPeak?.();
  if (limits.heldBudget) limits.heldBudget.counted = builder.held;
  return value;
}

/**
 * The record a dict of these str keys becomes, empty (its members to be set in order with
 * {@link setMember}), compact when it can be (`recordTemplates.ts`); and the bytes it holds beyond
 * its members' slots: each key's string and each shape once a message (`heldBytes.ts`).
 */
export function emptyRecord(keys: readonly string[], templates: RecordTemplates, shapes: HeldShapes): [Record<string, unknown>, number] {
  const [compact, template] = templates.make(keys);
  return [compact ?? {}, template + shapes.record(keys, compact ? 'parsed' : 'assigned')];
}

/** Sets a member of a record: a key named __proto__ is a key, not the prototype, so it is defined (assignment would not). */
export function setMember(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

const LATIN1_NAMES = new Set(['latin1', 'latin-1', 'latin_1', 'iso-8859-1', 'iso8859-1', 'iso_8859_1', 'l1']);


function tupleItems(node: PickleNode): readonly PickleNode[] | undefined {
  return node.kind === 'tuple' ? node.items : undefined;
}

class ValueBuilder {
  private readonly values = new Map<PickleNode, unknown>();
  /** Container levels below each built node: a shared node reached deeper must still fit. */
  private readonly heights = new Map<PickleNode, number>();
  private readonly active = new Set<PickleNode>();
  private readonly hashable = new Set<PickleNode>();
  /** Container levels below the node being built, so far. */
  private height = 0;
  private opaqueBytes = 0;
  /** The strings and shapes the message's dicts share. */
  private readonly shapes = new HeldShapes();
  private readonly templates = new RecordTemplates();
  /** Estimated bytes held by the values built so far ({@link HELD}), and the most they may. */
  held = 0;
  private readonly maxHeld: number;

  constructor(private readonly limits: ValueLimits) {
    this.maxHeld = limits.heldBudget?.maxHeldBytes ?? Infinity;
    this.held = limits.heldBefore ?? 0;
  }

  /** A buffer made of an allow-listed call, counted. */
  private heldBuffer(buffer: Buffer | undefined, node: PickleNode): Buffer | undefined {
    if (buffer) this.hold(HELD.buffer + buffer.length, node);
    return buffer;
  }

  /** A str's text, counted; one the memo gives again is the same string, counted once. */
  private text(node: StrNode | PyStrNode): string {
    const known = node.reused ? (this.values.get(node) as string | undefined) : undefined;
    if (known !== undefined) {
      this.hold(HELD.slot, node);
      return known;
    }
    const text = node.kind === 'str' ? node.value : latin1Text(node.bytes);
    this.hold(HELD.slot + textBytes(text), node);
    if (node.reused) this.values.set(node, text);
    return text;
  }

  /** Counts `bytes` more held, refusing the pickle past its budget. */
  private hold(bytes: number, node: PickleNode): void {
    if ((this.held += bytes) <= this.maxHeld) return;
    this.limits.heldBudget!.atPeak?.();
    throw pickleErrorAt(node.op, node.at, tooCostlyToRead(this.limits.heldBudget!.messageBytes, this.held, this.limits.why ?? BUILT_WHOLE));
  }

  /** The value of a node `depth` levels down. */
  value(node: PickleNode, depth: number): unknown {
    switch (node.kind) {
      case 'none':
      case 'bool':
        this.hold(HELD.slot, node);
        return node.kind === 'none' ? null : node.value;
      case 'int':
        this.hold(intBytes(node.value), node);
        return node.value;
      case 'str':
      case 'pystr':
        return this.text(node);
      case 'float':
        this.hold(floatBytes(node.value), node);
        return Number.isInteger(node.value) ? new Float(node.value) : node.value;
      case 'bytes':
      case 'bytearray':
        this.hold(HELD.slot + HELD.buffer + node.bytes.length, node);
        // A copy: the value must not keep the whole message alive, nor change with it.
        return Buffer.from(node.bytes);
    }
    this.hold(HELD.slot, node);
    // Only a shared node can be met twice, or inside itself: only those are remembered.
    const shared = node.kind !== 'global' && node.shared;
    if (shared && this.values.has(node)) {
      const h = this.heights.get(node)!;
      if (depth + h > this.limits.maxDepth) throw this.tooDeep(node);
      if (h + 1 > this.height) this.height = h + 1;
      return this.values.get(node);
    }
    if (depth > this.limits.maxDepth) throw this.tooDeep(node);
    if (shared) {
      if (this.active.has(node)) throw pickleErrorAt(node.op, node.at, `${describeNode(node)} contains itself: cyclic values are not supported`);
      this.active.add(node);
    }
    const outer = this.height;
    this.height = 0;
    const value = this.build(node, depth);
    const h = this.height;
    this.height = Math.max(outer, h + 1);
    if (shared) {
      this.values.set(node, value);
      this.heights.set(node, h);
      this.active.delete(node);
    }
    return value;
  }

  private tooDeep(node: PickleNode) {
    return pickleErrorAt(node.op, node.at, `${describeNode(node)} is nested deeper than ${this.limits.maxDepth} levels`);
  }

  private build(node: SequenceNode | DictNode | ObjectNode | GlobalNode, depth: number): unknown {
    const inner = (item: PickleNode) => this.value(item, depth + 1);
    switch (node.kind) {
      case 'list':
        this.hold(HELD.array, node);
        return node.items.map(inner);
      case 'tuple':
        this.hold(HELD.tuple, node);
        return tupleFrom(node.items.map(inner));
      case 'set':
      case 'frozenset':
        this.hold(HELD.set + HELD.tableEntry * node.items.length, node);
        return node.kind === 'set' ? new Set(node.items.map((item) => this.member(item, depth + 1))) : new FrozenSet(node.items.map((item) => this.member(item, depth + 1)));
      case 'dict':
        return this.dict(node, depth);
      case 'object':
        return this.known(node, depth) ?? this.opaque(node, depth);
      case 'global':
        return this.opaque(node, depth);
    }
  }

  /** A dict: a plain object when every key is a str, else a Map. */
  private dict(node: DictNode, depth: number): unknown {
    const texts = node.keys.map(nodeText);
    if (texts.every((k) => k !== undefined)) {
      const [out, bytes] = emptyRecord(texts as string[], this.templates, this.shapes);
      this.hold(bytes, node);
      for (let i = 0; i < texts.length; i++) setMember(out, texts[i]!, this.value(node.values[i], depth + 1));
      return out;
    }
    this.hold(HELD.set + HELD.tableEntry * node.keys.length, node);
    const map = new Map<unknown, unknown>();
    node.keys.forEach((key, i) => map.set(this.member(key, depth + 1), this.value(node.values[i], depth + 1)));
    return map;
  }

  /** A set member or dict key: Python refuses the unhashable ones (a list, a dict...). */
  private member(node: PickleNode, depth: number): unknown {
    const value = this.value(node, depth);
    this.checkHashable(node);
    return value;
  }

  private checkHashable(node: PickleNode): void {
    if (this.hashable.has(node)) return;
    if (node.kind === 'list' || node.kind === 'dict' || node.kind === 'set' || node.kind === 'bytearray') {
      throw pickleErrorAt(node.op, node.at, `${describeNode(node)} is used as a dict key or set member, but it is unhashable`);
    }
    if (node.kind === 'tuple') for (const item of node.items) this.checkHashable(item);
    this.hashable.add(node);
  }

  private opaque(node: PickleNode, depth: number): OpaqueValue {
    const refused = this.limits.refuseOpaque ? refusedGlobalIn(node) : undefined;
    if (refused !== undefined) throw pickleErrorAt(node.op, node.at, opaquePickleRefused(refused));
    const value = opaqueOf(node, this.limits.maxOpaqueBytes - this.opaqueBytes, this.limits.maxDepth, depth);
    this.opaqueBytes += value.data.length;
    this.hold(HELD.opaque + value.data.length + stringBytes(value.type.length), node);
    // Its inside counts, as the writer counts it, if it is met again deeper.
    this.height = Math.max(this.height, standaloneHeight(value) ?? 0);
    return value;
  }

  /** The value of an allow-listed object in the shape Python's pickler gives it; undefined for any other. */
  private known(node: ObjectNode, depth: number): unknown {
    const cls = node.callee.kind === 'global' ? node.callee : undefined;
    const args = tupleItems(node.args);
    if (!cls || !args) return undefined;
    const role = globalRole(cls.module, cls.name);
    const inner = (item: PickleNode) => this.value(item, depth + 1);
    const plainCall = node.how === 'REDUCE' && node.after.length === 0;
    switch (role) {
      case 'set':
      case 'frozenset': {
        if (!plainCall || args.length > 1) return undefined;
        const source = args[0];
        if (source && source.kind !== 'list' && source.kind !== 'tuple') return undefined;
        // The members belong to the set: they count one level below it, like EMPTY_SET's.
        this.hold(HELD.set + HELD.tableEntry * (source?.items.length ?? 0), node);
        const members = source ? source.items.map((item) => this.member(item, depth + 1)) : [];
        return role === 'set' ? new Set(members) : new FrozenSet(members);
      }
      case 'slice':
        if (!plainCall || args.length < 1 || args.length > 3) return undefined;
        this.hold(HELD.object, node);
        if (args.length === 1) return new Slice(null, inner(args[0]), null);
        return new Slice(inner(args[0]), inner(args[1]), args[2] ? inner(args[2]) : null);
      case 'bytes':
        return plainCall && args.length === 0 ? this.heldBuffer(Buffer.alloc(0), node) : undefined;
      case 'encode':
        return plainCall ? this.heldBuffer(latin1Bytes(args), node) : undefined;
      case 'bytearray':
        return plainCall ? this.heldBuffer(this.bytearray(args, depth), node) : undefined;
      case 'Token':
      case 'instance':
        return this.token(node, depth);
      case 'RebuildProxy':
        return plainCall ? this.proxy(args, depth) : undefined;
      case 'exception': {
        if (node.how !== 'REDUCE' || node.after.length > 1 || node.after.some((m) => m.op !== 'BUILD')) return undefined;
        this.hold(HELD.object, node);
        const state = node.after[0]?.op === 'BUILD' ? inner(node.after[0].state) : undefined;
        return new PyExceptionValue(cls.module, cls.name, tupleFrom(args.map(inner)), state);
      }
      default:
        return undefined;
    }
  }

  /** `bytearray()`, `bytearray(bytes)` (Python 3) or `bytearray(text, 'latin-1')` (Python 2). */
  private bytearray(args: readonly PickleNode[], depth: number): Buffer | undefined {
    if (args.length === 0) return Buffer.alloc(0);
    if (args.length === 2) return latin1Bytes(args);
    if (args.length !== 1) return undefined;
    const [source] = args;
    if (source.kind === 'pystr' || source.kind === 'bytes') return Buffer.from(source.bytes);
    const value = source.kind === 'object' ? this.value(source, depth + 1) : undefined;
    return value instanceof Uint8Array ? Buffer.from(value) : undefined;
  }

  /**
   * A Token: `Token.__new__(Token)` (NEWOBJ, or copyreg's helpers in protocols 0 and 1) then BUILD
   * with the state tuple `(typeid, address, id)`, as `Token.__getstate__` gives it; or a direct
   * `Token(typeid, address, id)`.
   */
  private token(node: ObjectNode, depth: number): PyToken | undefined {
    const cls = instanceClass(node);
    if (!cls || globalRole(cls.module, cls.name) !== 'Token') return undefined;
    let state: readonly PickleNode[] | undefined;
    const direct = node.how === 'REDUCE' && node.callee === cls;
    if (direct) {
      if (node.after.length === 0) state = tupleItems(node.args);
    } else if (node.after.length === 1 && node.after[0].op === 'BUILD') {
      state = tupleItems(node.after[0].state);
    }
    if (!state || state.length !== 3) return undefined;
    const [typeid, address, id] = state.map((item) => this.value(item, depth + 1));
    if (typeof typeid !== 'string' || typeof id !== 'string') return undefined;
    return new PyToken(typeid, address, id);
  }

  /** `RebuildProxy(func, token, serializer, kwds)` with kwds `{}` or `{'exposed': (...)}`. */
  private proxy(args: readonly PickleNode[], depth: number): PyProxy | undefined {
    if (args.length !== 4) return undefined;
    const [func, tokenNode, serializerNode, kwds] = args;
    if (func.kind !== 'global' || kwds.kind !== 'dict') return undefined;
    const token = this.value(tokenNode, depth + 1);
    const serializer = nodeText(serializerNode);
    if (!(token instanceof PyToken) || serializer === undefined) return undefined;
    let exposed: string[] | undefined;
    for (let i = 0; i < kwds.keys.length; i++) {
      if (nodeText(kwds.keys[i]) !== 'exposed') return undefined;
      const names = kwds.values[i];
      if (names.kind !== 'tuple' && names.kind !== 'list') return undefined;
      const texts = names.items.map(nodeText);
      if (!texts.every((t) => t !== undefined)) return undefined;
      exposed = texts as string[];
    }
    return new PyProxy(token, func.name, exposed, serializer, func.module);
  }
}

/** `(text, 'latin1')` as bytes: protocol 2's spelling of bytes. Undefined for any other encoding. */
function latin1Bytes(args: readonly PickleNode[]): Buffer | undefined {
  if (args.length !== 2 || args[0].kind !== 'str') return undefined;
  const encoding = nodeText(args[1])?.toLowerCase();
  const text = args[0].value;
  // A character beyond Latin-1 would make Python raise: leave that call to Python, as opaque.
  if (encoding === undefined || !LATIN1_NAMES.has(encoding) || /[^\u0000-\u00ff]/.test(text)) return undefined;
  return Buffer.from(text, 'latin1');
}
