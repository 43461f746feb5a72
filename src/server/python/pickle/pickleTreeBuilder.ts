/**
 * The tree builder: each opcode's object as a node (`pickleTree.ts`), for the pickles the value
 * builder does not read straight (an object of a class the reader does not know is kept as the
 * calls that made it, and written back exactly from them: `pickleReemit.ts`).
 *
 * A tree holds far more than its pickle (an EMPTY_DICT, one byte, is a node of some 146 bytes), and
 * it is alive while its values are built: with a budget, each node is counted as it is made, at
 * what `test/server/decode-memory.test.ts`'s method measures it holds (heap used after collection,
 * the least of three reads; Node 20, 64-bit), its slot in its parent's array with it. Mutations
 * count the arrays they grow item by item (17 slots at first, half as many again spare).
 */

import { type PickleBuilder, type PickleCursor, type PickleMachine } from './pickleBuilder';
import { pickleErrorAt } from './pickleError';
import { displayModule, globalRole } from './pickleGlobals';
import type { BuiltWhole } from './pickleBuiltWhole';
import { describeNode, nodeText, type DictNode, type Mutation, type ObjectNode, type PickleNode, type SequenceNode } from './pickleTree';
import { runPickle } from './pickleParser';
import { DEFAULT_MAX_MESSAGE_VALUES, tooCostlyToRead } from '../../limits';
import { bigintBytes, GROWN_ARRAY, GROWN_SPARE, HELD_BYTES } from '../../heldBytes';

/** Bytes each node holds, its slot in its parent's array with it (measured: see the file's comment). */
const NODE = { none: 64, scalar: 72, float: 88, bytes: 168, sequence: 112, dict: 152, global: 80, object: 160 } as const;
/** What a mutation holds: an array grown from empty for each of a dict's keys and values, or a mutation's record and its items. */
const MUTATION = 2 * GROWN_ARRAY;
/** Each item a mutation adds, with the spare room of an array grown item by item. */
const MUTATION_ITEM = HELD_BYTES.slot + GROWN_SPARE;

/** What the tree may hold: the budget's bytes, and how a refusal says what was built whole. */
export interface TreeBudget {
  readonly maxHeldBytes: number;
  readonly messageBytes: number;
  /** What made the pickle built whole, for a refusal to name. */
  readonly builtWhole: BuiltWhole;
}

/**
 * Reads a pickle into its tree (see `runPickle` for `maxValues`); with a budget, the tree's nodes are
 * counted and the pickle refused past it.
 * @returns the tree and the bytes it was counted to hold.
 */
export function parsePickleCounted(data: Uint8Array, maxMarks: number, maxValues: number, budget?: TreeBudget): { root: PickleNode; held: number; protocol: number } {
  const builder = new TreeBuilder(budget);
  const root = runPickle(data, maxMarks, maxValues, builder);
  return { root, held: builder.held, protocol: builder.protocol };
}

/**
 * Reads a pickle into its tree (uncounted). `seeGlobal` is told of every global the pickle makes,
 * in the pickle's order, whether or not the tree's root holds it (unpickling runs a call it pops).
 * @throws PickleError naming the opcode and offset of what is wrong.
 */
export function parsePickle(data: Uint8Array, maxMarks: number, maxValues = DEFAULT_MAX_MESSAGE_VALUES, seeGlobal?: (module: string, name: string) => void): PickleNode {
  return runPickle(data, maxMarks, maxValues, new TreeBuilder(undefined, seeGlobal));
}

class TreeBuilder implements PickleBuilder<PickleNode> {
  private cursor!: PickleCursor;
  held = 0;
  private readonly maxHeld: number;

  constructor(
    private readonly budget: TreeBudget | undefined,
    private readonly seeGlobal?: (module: string, name: string) => void,
  ) {
    this.maxHeld = budget?.maxHeldBytes ?? Infinity;
  }

  attach(machine: PickleMachine<PickleNode> & PickleCursor): void {
    this.cursor = machine;
  }

  /** The pickle's protocol, once read. */
  get protocol(): number {
    return this.cursor.protocol;
  }

  /** Counts `bytes` more held, refusing the pickle past its budget. */
  private hold(bytes: number): void {
    if ((this.held += bytes) <= this.maxHeld) return;
    throw pickleErrorAt(this.cursor.op, this.cursor.at, tooCostlyToRead(this.budget!.messageBytes, this.held, this.budget!.builtWhole.why(this.cursor.protocol)));
  }

  none(): PickleNode {
    this.hold(NODE.none);
    return { kind: 'none', op: this.cursor.op, at: this.cursor.at };
  }

  bool(value: boolean): PickleNode {
    this.hold(NODE.scalar);
    return { kind: 'bool', value, op: this.cursor.op, at: this.cursor.at };
  }

  int(value: number | bigint): PickleNode {
    this.hold(NODE.scalar + (typeof value === 'bigint' ? bigintBytes(value) : 0));
    return { kind: 'int', value, op: this.cursor.op, at: this.cursor.at };
  }

  float(value: number): PickleNode {
    this.hold(NODE.float);
    return { kind: 'float', value, op: this.cursor.op, at: this.cursor.at };
  }

  str(value: string): PickleNode {
    // Its text is the value's: the value builder counts it.
    this.hold(NODE.scalar);
    return { kind: 'str', value, op: this.cursor.op, at: this.cursor.at };
  }

  pystr(bytes: Uint8Array): PickleNode {
    this.hold(NODE.bytes);
    return { kind: 'pystr', bytes, op: this.cursor.op, at: this.cursor.at };
  }

  bytes(kind: 'bytes' | 'bytearray', bytes: Uint8Array): PickleNode {
    this.hold(NODE.bytes);
    return { kind, bytes, op: this.cursor.op, at: this.cursor.at };
  }

  private sequence(kind: SequenceNode['kind'], items: PickleNode[]): SequenceNode {
    this.hold(NODE.sequence);
    return { kind, items, shared: false, op: this.cursor.op, at: this.cursor.at };
  }

  list(items: PickleNode[]): PickleNode {
    return this.sequence('list', items);
  }

  tuple(items: PickleNode[]): PickleNode {
    return this.sequence('tuple', items);
  }

  emptySet(): PickleNode {
    return this.sequence('set', []);
  }

  frozenset(items: PickleNode[]): PickleNode {
    return this.sequence('frozenset', items);
  }

  dict(items: PickleNode[]): PickleNode {
    this.hold(NODE.dict);
    const dict: DictNode = { kind: 'dict', keys: [], values: [], shared: false, op: this.cursor.op, at: this.cursor.at };
    if (items.length) this.setItems(dict, items, 'SETITEMS');
    return dict;
  }

  private grow(items: number): void {
    this.hold(MUTATION + MUTATION_ITEM * items);
  }

  append(target: PickleNode, items: PickleNode[], op: 'APPEND' | 'APPENDS'): undefined {
    if (target.kind === 'list') {
      this.grow(items.length);
      for (const item of items) target.items.push(item);
    } else if (target.kind === 'object') {
      this.mutate(target, { op, items });
    } else {
      throw this.cursor.fail(`cannot append to ${describeNode(target)}`);
    }
    return undefined;
  }

  setItems(target: PickleNode, items: PickleNode[], op: 'SETITEM' | 'SETITEMS'): undefined {
    if (target.kind === 'dict') {
      this.grow(items.length);
      for (let i = 0; i < items.length; i += 2) {
        target.keys.push(items[i]);
        target.values.push(items[i + 1]);
      }
    } else if (target.kind === 'object') {
      this.mutate(target, { op, items });
    } else {
      throw this.cursor.fail(`cannot set items of ${describeNode(target)}`);
    }
    return undefined;
  }

  addItems(target: PickleNode, items: PickleNode[]): undefined {
    if (target.kind === 'set') {
      this.grow(items.length);
      for (const item of items) target.items.push(item);
    } else {
      this.mutate(target, { op: 'ADDITEMS', items });
    }
    return undefined;
  }

  build(target: PickleNode, state: PickleNode): undefined {
    this.mutate(target, { op: 'BUILD', state });
    return undefined;
  }

  private mutate(target: PickleNode, mutation: Mutation): void {
    if (target.kind !== 'object') throw this.cursor.fail(`cannot apply ${mutation.op} to ${describeNode(target)}`);
    this.grow('items' in mutation ? mutation.items.length : 1);
    target.after.push(mutation);
  }

  global(module: string, name: string): PickleNode {
    this.hold(NODE.global);
    this.seeGlobal?.(module, name);
    if (globalRole(module, name) === undefined) this.budget?.builtWhole.note(`an object of ${displayModule(module)}.${name}`);
    return { kind: 'global', module, name, op: this.cursor.op, at: this.cursor.at };
  }

  globalPart(node: PickleNode): string | undefined {
    return nodeText(node);
  }

  object(how: ObjectNode['how'], callee: PickleNode, args: PickleNode, kwargs?: PickleNode): PickleNode {
    this.hold(NODE.object);
    return { kind: 'object', how, callee, args, kwargs, after: [], shared: false, op: this.cursor.op, at: this.cursor.at };
  }

  /** A node pushed again is shared from now on: one value when built. */
  reuse(node: PickleNode): void {
    this.hold(HELD_BYTES.slot);
    if ('shared' in node) node.shared = true;
    else if (node.kind === 'str' || node.kind === 'pystr') node.reused = true;
  }

  memoPut(_node: PickleNode, _index: number, bytes: number): void {
    this.hold(bytes);
  }

  result(node: PickleNode): PickleNode {
    return node;
  }

  describe(node: PickleNode): string {
    return describeNode(node);
  }
}
