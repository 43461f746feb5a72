/**
 * Writes a node tree back as pickle opcodes, the way its sender's pickle made each object: the
 * same globals, arguments, states and added items. This is how an object the codec does not know
 * (a Fraction, a user's class) becomes an OpaqueValue whose bytes, a standalone protocol 2
 * pickle, re-create it exactly in Python, and how the writer inlines such a value in a reply.
 *
 * No memo is written, so what the sender shared is written once per use (bounded by the output
 * limit) and a cycle cannot be written (an error). Opcodes of protocol 3+ that have protocol 2
 * spellings are written in those: bytes as `_codecs.encode`, sets as `set([...])`, a bytearray as
 * `bytearray(bytes)`, STACK_GLOBAL as GLOBAL. NEWOBJ_EX (a protocol 4 sender's) is kept as is.
 */

import { OpaqueValue } from '../../../common/valueTypes';
import { PickleError, pickleErrorAt } from './pickleError';
import { opaqueTypeName } from './pickleGlobals';
import { Op } from './pickleOpcodes';
import { PickleOutput } from './pickleOutput';
import { describeNode, type ObjectNode, type PickleNode } from './pickleTree';

/**
 * The OpaqueValues made by {@link opaqueOf}, whose bytes are known to be standalone and memo-free,
 * with the nesting inside them (a writer placing one must still keep within the depth limit).
 */
const standalone = new WeakMap<OpaqueValue, number>();

/**
 * The OpaqueValue of an object node: a standalone pickle (PROTO 2 ... STOP) of it.
 * @param depth how deep the node sits in the value being read (counts towards `maxDepth`).
 */
export function opaqueOf(node: PickleNode, maxBytes: number, maxDepth: number, depth: number): OpaqueValue {
  const type = opaqueTypeName(node);
  const out = new PickleOutput(maxBytes, `the pickled ${type}`);
  out.proto();
  let height: number;
  try {
    height = emitNode(out, node, maxDepth, depth);
  } catch (error) {
    // The output's own errors (its size limit) do not know where the object came from: say so.
    if (error instanceof PickleError && !/^\S+ at byte \d+: /.test(error.message)) throw pickleErrorAt(node.op, node.at, error.message);
    throw error;
  }
  out.op(Op.STOP);
  const value = new OpaqueValue('python', type, out.result());
  standalone.set(value, height);
  return value;
}

/**
 * For an OpaqueValue whose bytes {@link opaqueOf} wrote (so they may be inlined as they are), the
 * levels of nesting inside it; undefined for any other.
 */
export function standaloneHeight(value: OpaqueValue): number | undefined {
  return standalone.get(value);
}

/**
 * Writes the opcodes that re-create `node` (without PROTO or STOP), `depth` levels down.
 * @returns the levels of containers inside the node (0 for a node holding none).
 */
export function emitNode(out: PickleOutput, node: PickleNode, maxDepth: number, depth = 0): number {
  const emitter = new TreeEmitter(out, maxDepth, depth);
  emitter.emit(node, depth);
  return emitter.deepest - depth;
}

class TreeEmitter {
  /** Containers being written: meeting one again is a cycle. */
  private readonly active = new Set<PickleNode>();

  constructor(
    private readonly out: PickleOutput,
    private readonly maxDepth: number,
    /** The deepest level a container was written at. */
    public deepest: number,
  ) {}

  emit(node: PickleNode, depth: number): void {
    const out = this.out;
    switch (node.kind) {
      case 'none':
        return out.none();
      case 'bool':
        return out.bool(node.value);
      case 'int':
        return out.int(node.value);
      case 'float':
        return out.float(node.value);
      case 'str':
        return out.unicode(node.value);
      case 'pystr':
        return out.binstring(node.bytes);
      case 'bytes':
        return out.bytesViaCodecs(node.bytes);
      case 'bytearray':
        out.global('__builtin__', 'bytearray');
        out.bytesViaCodecs(node.bytes);
        out.op(Op.TUPLE1);
        return out.op(Op.REDUCE);
      case 'global':
        // A STACK_GLOBAL name may hold a newline, which GLOBAL (text) cannot.
        if (node.module.includes('\n') || node.name.includes('\n')) throw pickleErrorAt(node.op, node.at, 'a module or class name with a newline cannot be written back');
        return out.global(node.module, node.name);
    }
    if (depth > this.maxDepth) throw pickleErrorAt(node.op, node.at, `${describeNode(node)} is nested deeper than ${this.maxDepth} levels`);
    if (depth > this.deepest) this.deepest = depth;
    // Only a shared node (memo GET, DUP) can be inside itself.
    if (node.shared) {
      if (this.active.has(node)) {
        throw pickleErrorAt(node.op, node.at, `${describeNode(node)} contains itself: a cycle inside an object kept opaque cannot be written without a memo`);
      }
      this.active.add(node);
    }
    const inner = (item: PickleNode) => this.emit(item, depth + 1);
    switch (node.kind) {
      case 'list':
        out.op(Op.EMPTY_LIST);
        out.appends(node.items, inner);
        break;
      case 'tuple':
        out.tuple(node.items, inner);
        break;
      case 'dict':
        out.op(Op.EMPTY_DICT);
        out.setitems(node.keys.length, (i) => {
          inner(node.keys[i]);
          inner(node.values[i]);
        });
        break;
      case 'set':
      case 'frozenset':
        out.global('__builtin__', node.kind);
        out.op(Op.EMPTY_LIST);
        out.appends(node.items, inner);
        out.op(Op.TUPLE1);
        out.op(Op.REDUCE);
        break;
      case 'object':
        this.object(node, inner);
        break;
    }
    if (node.shared) this.active.delete(node);
  }

  private object(node: ObjectNode, inner: (item: PickleNode) => void): void {
    const out = this.out;
    const items = (node.args.kind === 'tuple' ? node.args.items : []) as readonly PickleNode[];
    switch (node.how) {
      case 'REDUCE':
      case 'NEWOBJ':
        inner(node.callee);
        inner(node.args);
        out.op(node.how === 'REDUCE' ? Op.REDUCE : Op.NEWOBJ);
        break;
      case 'NEWOBJ_EX':
        inner(node.callee);
        inner(node.args);
        inner(node.kwargs!);
        out.op(Op.NEWOBJ_EX);
        break;
      case 'INST': {
        const cls = node.callee;
        if (cls.kind !== 'global') throw pickleErrorAt(node.op, node.at, 'INST without a class name');
        out.op(Op.MARK);
        items.forEach(inner);
        out.op(Op.INST);
        out.raw(Buffer.from(`${cls.module}\n${cls.name}\n`, 'utf8'));
        break;
      }
      case 'OBJ':
        out.op(Op.MARK);
        inner(node.callee);
        items.forEach(inner);
        out.op(Op.OBJ);
        break;
    }
    for (const change of node.after) {
      switch (change.op) {
        case 'BUILD':
          inner(change.state);
          out.op(Op.BUILD);
          break;
        case 'APPEND':
          change.items.forEach(inner);
          out.op(Op.APPEND);
          break;
        case 'SETITEM':
          change.items.forEach(inner);
          out.op(Op.SETITEM);
          break;
        default:
          // APPENDS, SETITEMS and ADDITEMS call the object's extend/__setitem__/add: keep the opcode.
          out.op(Op.MARK);
          change.items.forEach(inner);
          out.op(change.op === 'APPENDS' ? Op.APPENDS : change.op === 'SETITEMS' ? Op.SETITEMS : Op.ADDITEMS);
      }
    }
  }
}
