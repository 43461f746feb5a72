/**
 * The pickle writer: the server's values as a protocol 2 pickle, which every Python from 2.7 to
 * 3.14 reads. Plain opcodes only: no FRAME, no memo (so a value shared twice is written twice,
 * and a cycle is an error). What each value becomes:
 *
 * | value                         | Python 3 (`py3`)                 | Python 2 (`py2`)                   |
 * |-------------------------------|----------------------------------|------------------------------------|
 * | null, undefined               | None                             | None                               |
 * | boolean                       | bool                             | bool                               |
 * | integral number, bigint       | int                              | int (long beyond 64 bits)          |
 * | other number, Float           | float                            | float                              |
 * | string                        | str                              | str if ASCII, else unicode         |
 * | Uint8Array                    | bytes (`_codecs.encode`)         | str                                |
 * | array / tuple()               | list / tuple                     | list / tuple                       |
 * | plain object, Map             | dict                             | dict                               |
 * | Set / FrozenSet / Slice       | `builtins.set([...])`...         | `__builtin__.set([...])`...        |
 * | PyToken                       | `multiprocessing.managers.Token` (NEWOBJ + BUILD of its state)        |
 * | PyProxy                       | `RebuildProxy(func, token, serializer, kwds)`, as BaseProxy.__reduce__ |
 * | PyExceptionValue             | `builtins.KeyError(*args)`, `queue.Empty()` | `exceptions.KeyError`, `Queue.Empty` |
 * | OpaqueValue('python', ...)    | its pickle, inlined              | its pickle, inlined                |
 *
 * Python 2 gets ASCII text as `str` because that is what its own code uses and sometimes needs
 * (`type()` refuses a unicode name, so an AutoProxy built from a unicode typeid fails there).
 * Any other object goes through `encodeRef` (the server's shared-object references become
 * proxies that way), or is refused with a PickleError naming its type and place.
 */

import { Float, FrozenSet, isTuple, OpaqueValue, Slice } from '../../../common/valueTypes';
import { PickleError } from './pickleError';
import { builtinsModule, exceptionClassFor, type PickleDialect } from './pickleGlobals';
import { isPacked, unpacked } from '../../packedValues';
import { PackedPickle } from './packedPickle';
import { Op } from './pickleOpcodes';
import { PickleOutput } from './pickleOutput';
import { parsePickle } from './pickleTreeBuilder';
import { emitNode, standaloneHeight } from './pickleReemit';
import { MANAGERS_MODULE, PyExceptionValue, PyProxy, PyToken } from './pickleValues';
import { DEFAULT_MAX_DEPTH } from './pickleReader';

export type { PickleDialect } from './pickleGlobals';
export { PickleError, PickleTooLarge } from './pickleError';
export { pythonFrame as frame, PythonFrameDecoder as PickleFrameDecoder, PythonFramingError } from '../framing';

/** Largest pickle written by default. */
export const DEFAULT_MAX_PICKLE_BYTES = 64 * 1024 * 1024;

/** Options of {@link pickle}. */
export interface PickleOptions {
  /** The receiving Python: class names and str/bytes follow it. */
  dialect: PickleDialect;
  /** The proxy an object stands for (the server's shared-object references); undefined if none. */
  encodeRef?(value: object): PyProxy | undefined;
  /** Largest pickle, in bytes (default {@link DEFAULT_MAX_PICKLE_BYTES}). */
  maxBytes?: number;
  /** Deepest nesting (default 1000). */
  maxDepth?: number;
}

/**
 * Pickles a value with protocol 2.
 * @throws PickleError for what Python cannot be sent (a function, another language's opaque
 *   value, an unknown object), a cycle, too deep nesting or too large an output. Errors thrown by
 *   `encodeRef` pass through.
 */
export function pickle(value: unknown, options: PickleOptions): Buffer {
  const out = new PickleOutput(options.maxBytes ?? DEFAULT_MAX_PICKLE_BYTES);
  out.proto();
  new ValueWriter(out, options).write(value, 0);
  out.op(Op.STOP);
  return out.result();
}

/**
 * Pickles the tuple of `items` as one message of `multiprocessing.connection`: the 4-byte length
 * head and the pickle in one buffer, with no intermediate copy or tuple (a manager's reply is the
 * tuple `(kind, result)`). Same bytes as `frame(pickle(tupleFrom(items)))`.
 * @throws PickleError as {@link pickle} does.
 */
export function pickleMessage(items: readonly unknown[], options: PickleOptions): Buffer {
  // The 4-byte head announces at most 2 GiB - 1, so no message written here is larger.
  const maxBytes = Math.min(options.maxBytes ?? DEFAULT_MAX_PICKLE_BYTES, 0x7fffffff);
  const out = new PickleOutput(maxBytes, 'the pickle', 4);
  out.proto();
  const writer = new ValueWriter(out, options);
  let index = 0;
  out.tuple(items, (item) => writer.child(index++, item, 0));
  out.op(Op.STOP);
  return out.framed();
}

const ASCII = /^[\x00-\x7f]*$/;

class ValueWriter {
  private readonly py2: boolean;
  private readonly maxDepth: number;
  /** Containers being written: meeting one again is a cycle. Made at the first container. */
  private active: Set<object> | undefined;
  /** Where the writer is, as keys and indexes from the root; formatted only for an error. */
  private readonly path: (string | number)[] = [];

  constructor(
    private readonly out: PickleOutput,
    private readonly options: PickleOptions,
  ) {
    this.py2 = options.dialect === 'py2';
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  private fail(message: string): PickleError {
    const at = this.path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('');
    return new PickleError(`${message} at $${at}`);
  }

  write(value: unknown, depth: number): void {
    const out = this.out;
    switch (typeof value) {
      case 'undefined':
        return out.none();
      case 'boolean':
        return out.bool(value);
      case 'number':
        return Number.isInteger(value) ? out.int(value, this.py2) : out.float(value);
      case 'bigint':
        return out.int(value, this.py2);
      case 'string':
        return this.text(value);
      case 'object':
        if (value === null) return out.none();
        return this.object(value, depth);
      default:
        throw this.fail(`cannot pickle a ${typeof value}`);
    }
  }

  private text(value: string): void {
    if (this.py2 && ASCII.test(value)) this.out.binstring(Buffer.from(value, 'latin1'));
    else this.out.unicode(value);
  }

  /** Writes `item` as the child `step` of the value at `depth`. */
  child(step: string | number, item: unknown, depth: number): void {
    this.path.push(step);
    this.write(item, depth + 1);
    this.path.pop();
  }

  private object(value: object, depth: number): void {
    const out = this.out;
    if (value instanceof Float) return out.float(value.value);
    if (value instanceof Uint8Array) return this.py2 ? out.binstring(value) : out.bytesViaCodecs(value);
    if (depth > this.maxDepth) throw this.fail(`the value is nested deeper than ${this.maxDepth} levels`);
    if (value instanceof OpaqueValue) return this.opaque(value, depth);
    this.active ??= new Set();
    if (this.active.has(value)) throw this.fail('the value contains itself (a cycle), which a pickle without memo cannot hold');
    this.active.add(value);
    this.container(value, depth);
    this.active.delete(value);
  }

  private container(value: object, depth: number): void {
    const out = this.out;
    if (Array.isArray(value)) {
      if (isTuple(value)) return out.tuple(value.map((_, i) => i), (i) => this.child(i, value[i], depth));
      out.op(Op.EMPTY_LIST);
      return out.appends(value.map((_, i) => i), (i) => this.child(i, value[i], depth));
    }
    if (value instanceof Map) {
      const entries = [...value];
      out.op(Op.EMPTY_DICT);
      return out.setitems(entries.length, (i) => {
        this.child(`keys[${i}]`, entries[i][0], depth);
        this.child(i, entries[i][1], depth);
      });
    }
    if (value instanceof Set) {
      out.global(builtinsModule(this.options.dialect), value instanceof FrozenSet ? 'frozenset' : 'set');
      const members = [...value];
      out.op(Op.EMPTY_LIST);
      out.appends(members.map((_, i) => i), (i) => this.child(`{${i}}`, members[i], depth));
      out.op(Op.TUPLE1);
      return out.op(Op.REDUCE);
    }
    if (value instanceof Slice) {
      out.global(builtinsModule(this.options.dialect), 'slice');
      out.tuple([value.start, value.stop, value.step], (bound) => this.write(bound, depth + 1));
      return out.op(Op.REDUCE);
    }
    if (value instanceof PyToken) return this.token(value, depth);
    if (value instanceof PyProxy) return this.proxy(value, depth);
    if (value instanceof PyExceptionValue) return this.exception(value, depth);
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      out.op(Op.EMPTY_DICT);
      return out.setitems(keys.length, (i) => {
        this.text(keys[i]);
        this.child(keys[i], record[keys[i]], depth);
      });
    }
    // A value kept encoded (packedValues.ts): its own opcodes when the client reads them as the same value, else the value it stands for.
    if (isPacked(value)) {
      const opcodes = value instanceof PackedPickle ? value.opcodesFor(this.options.dialect) : undefined;
      return opcodes ? out.raw(opcodes) : this.write(unpacked(value), depth);
    }
    const proxy = this.options.encodeRef?.(value);
    if (proxy) return this.proxy(proxy, depth);
    const name = (value as { constructor?: { name?: string } }).constructor?.name || 'object';
    throw this.fail(`cannot pickle a ${name}`);
  }

  /** `Token.__new__(Token)` then BUILD `(typeid, address, id)`: what `pickle.dumps(token, 2)` writes. */
  private token(token: PyToken, depth: number): void {
    const out = this.out;
    out.global(MANAGERS_MODULE, 'Token');
    out.op(Op.EMPTY_TUPLE);
    out.op(Op.NEWOBJ);
    out.tuple([token.typeid, token.address, token.id], (field) => this.write(field, depth + 1));
    out.op(Op.BUILD);
  }

  /** `RebuildProxy(func, token, serializer, kwds)`, as `BaseProxy.__reduce__` returns it. */
  private proxy(proxy: PyProxy, depth: number): void {
    const out = this.out;
    out.global(MANAGERS_MODULE, 'RebuildProxy');
    out.tuple([0, 1, 2, 3], (i) => {
      if (i === 0) out.global(proxy.proxyModule, proxy.proxyType);
      else if (i === 1) this.token(proxy.token, depth + 1);
      else if (i === 2) this.text(proxy.serializer);
      else {
        out.op(Op.EMPTY_DICT);
        if (proxy.exposed) {
          this.text('exposed');
          out.tuple(proxy.exposed, (name) => this.text(String(name)));
          out.op(Op.SETITEM);
        }
      }
    });
    out.op(Op.REDUCE);
  }

  /** `cls(*args)` (+ BUILD of its state), the class named as the receiving Python imports it. */
  private exception(error: PyExceptionValue, depth: number): void {
    const out = this.out;
    const [module, name] = exceptionClassFor(error.module, error.name, this.options.dialect);
    out.global(module, name);
    out.tuple(error.args.map((_, i) => i), (i) => this.child(`args[${i}]`, error.args[i], depth));
    out.op(Op.REDUCE);
    if (error.state !== undefined) {
      this.child('state', error.state, depth);
      out.op(Op.BUILD);
    }
  }

  /**
   * An opaque Python object: the opcodes of its standalone pickle, inlined. Bytes the reader made
   * are known to be standalone and memo-free; any others (from a JSON client, say) are read and
   * written again, so a malformed or memo-using pickle cannot upset the one around it.
   */
  private opaque(value: OpaqueValue, depth: number): void {
    if (value.lang !== 'python') throw this.fail(`cannot pickle an opaque value of language ${JSON.stringify(value.lang)} (type ${JSON.stringify(value.type)})`);
    const data = value.data;
    const height = standaloneHeight(value);
    if (height !== undefined) {
      if (depth + height > this.maxDepth) throw this.fail(`the value is nested deeper than ${this.maxDepth} levels (inside an opaque ${value.type})`);
      return this.out.raw(data.subarray(2, data.length - 1));
    }
    let node;
    try {
      node = parsePickle(data, this.maxDepth + 1);
    } catch (error) {
      if (!(error instanceof PickleError)) throw error;
      throw this.fail(`the opaque Python value of type ${JSON.stringify(value.type)} holds no readable pickle (${error.message})`);
    }
    emitNode(this.out, node, this.maxDepth, depth);
  }
}
