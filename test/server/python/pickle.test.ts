/**
 * The pickle codec on hand-made pickles: what each opcode reads as, what the writer emits, and
 * every kind of malformed or hostile input failing with a PickleError that names the opcode and
 * its byte offset. (Real Pythons check the codec in pickle-python.test.ts; random inputs in
 * test/fuzz/pickle.fuzz.test.ts.)
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Float, FrozenSet, isTuple, OpaqueValue, Slice, tuple } from '../../../src/common/valueTypes';
import { DEFAULT_MAX_DEPTH, PickleError, unpickle } from '../../../src/server/python/pickle/pickleReader';
import { frame, pickle, PickleFrameDecoder, PythonFramingError } from '../../../src/server/python/pickle/pickleWriter';
import { allowedGlobals } from '../../../src/server/python/pickle/pickleGlobals';
import { Op } from '../../../src/server/python/pickle/pickleOpcodes';
import { PyExceptionValue, PyProxy, PyToken } from '../../../src/server/python/pickle/pickleValues';
import { mismatch } from './valueMatch';

/** Bytes from opcodes, numbers (one byte each), strings (Latin-1) and buffers. */
function bytes(...parts: (number | string | Uint8Array)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};
const P2 = bytes(Op.PROTO, 2);
/** A pickle: PROTO 2, the parts, STOP. */
const pk = (...parts: (number | string | Uint8Array)[]) => bytes(P2, ...parts, Op.STOP);
const unicode = (s: string) => bytes(Op.BINUNICODE, u32(Buffer.byteLength(s)), Buffer.from(s, 'utf8'));
const global = (module: string, name: string) => bytes(Op.GLOBAL, `${module}\n${name}\n`);

/** Asserts a PickleError whose message matches `pattern` (and names a byte offset). */
function refuses(data: Uint8Array, pattern: RegExp): void {
  let thrown: unknown;
  try {
    unpickle(data);
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof PickleError, `expected a PickleError, got ${thrown === undefined ? 'a value' : String(thrown)}`);
  assert.match(thrown.message, pattern);
  assert.match(thrown.message, /at byte \d+/);
}

function matches(expected: unknown, actual: unknown): void {
  const m = mismatch(expected, actual);
  assert.equal(m, undefined, m);
}

describe('reading pickles', () => {
  test('scalars: None, bools, ints of each width, floats (integral ones boxed)', () => {
    matches(null, unpickle(pk(Op.NONE)));
    matches(true, unpickle(pk(Op.NEWTRUE)));
    matches(300, unpickle(pk(Op.BININT2, 0x2c, 0x01)));
    matches(-2, unpickle(pk(Op.BININT, u32(-2))));
    matches(2n ** 64n, unpickle(pk(Op.LONG1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1)));
    matches(-(2 ** 40), unpickle(pk(Op.LONG1, 6, 0, 0, 0, 0, 0, 0xff)));
    const two = Buffer.alloc(8);
    two.writeDoubleBE(2);
    matches(new Float(2), unpickle(pk(Op.BINFLOAT, two)));
  });

  test('an int padded with sign bytes is read by its value, not its length', () => {
    matches(5, unpickle(pk(Op.LONG4, u32(3000), 5, Buffer.alloc(2999))));
    matches(-1, unpickle(pk(Op.LONG4, u32(3000), Buffer.alloc(3000, 0xff))));
  });

  test('Python 2 str is read as Latin-1 text; its unicode and Python 3 str as text', () => {
    matches('caf\u00e9', unpickle(pk(Op.SHORT_BINSTRING, 4, 'caf\xe9')));
    matches('caf\u00e9', unpickle(pk(unicode('café'))));
    matches('a\ud800b', unpickle(pk(Op.BINUNICODE, u32(5), 'a', 0xed, 0xa0, 0x80, 'b'))); // a lone surrogate, as surrogatepass writes it
  });

  test("protocol 0's text opcodes: INT, LONG, FLOAT, STRING, UNICODE, PUT/GET, LIST, DICT", () => {
    matches([1, true, 10n ** 20n, -2.5, 'aA\nA', 'é\u20ac', 1], unpickle(bytes('(lp0\nI1\np1\naI01\naL100000000000000000000L\naF-2.5\naS\'a\\x41\\n\\101\'\naV\xe9\\u20ac\nag1\na.')));
    matches({ k: null }, unpickle(bytes("(dS'k'\nNs.")));
  });

  test('sets and frozensets: EMPTY_SET/ADDITEMS, FROZENSET, and set([...]) as protocol 2 writes them', () => {
    matches(new Set([1, 2]), unpickle(pk(Op.EMPTY_SET, Op.MARK, Op.BININT1, 1, Op.BININT1, 2, Op.ADDITEMS)));
    matches(new FrozenSet([1]), unpickle(pk(Op.MARK, Op.BININT1, 1, Op.FROZENSET)));
    matches(new Set(['a']), unpickle(pk(global('__builtin__', 'set'), Op.EMPTY_LIST, unicode('a'), Op.APPEND, Op.TUPLE1, Op.REDUCE)));
  });

  test('bytes and bytearray: BINBYTES, BYTEARRAY8, _codecs.encode(text, latin1), bytearray(...)', () => {
    matches(Buffer.from([0, 255]), unpickle(pk(Op.SHORT_BINBYTES, 2, 0, 255)));
    matches(Buffer.from('xy'), unpickle(pk(Op.BYTEARRAY8, u64(2n), 'xy')));
    matches(Buffer.from([0xe9]), unpickle(pk(global('_codecs', 'encode'), unicode('é'), unicode('latin1'), Op.TUPLE2, Op.REDUCE)));
    matches(Buffer.from('ab'), unpickle(pk(global('__builtin__', 'bytearray'), unicode('ab'), Op.SHORT_BINSTRING, 7, 'latin-1', Op.TUPLE2, Op.REDUCE)));
    // Another encoding is Python's business: kept for Python to decode.
    assert.ok(unpickle(pk(global('_codecs', 'encode'), unicode('é'), unicode('utf-16'), Op.TUPLE2, Op.REDUCE)) instanceof OpaqueValue);
  });

  test('a dict with str keys is a plain object, __proto__ included as a key; other keys make a Map', () => {
    const value = unpickle(pk(Op.EMPTY_DICT, unicode('__proto__'), Op.BININT1, 1, Op.SETITEM)) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value), ['__proto__']);
    assert.equal(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, 1);
    matches(new Map([[tuple<unknown>(1), 2]]), unpickle(pk(Op.EMPTY_DICT, Op.BININT1, 1, Op.TUPLE1, Op.BININT1, 2, Op.SETITEM)));
  });

  test('a container reached twice (memo) is the same array; tuples are frozen', () => {
    const value = unpickle(pk(Op.EMPTY_LIST, Op.BINPUT, 0, Op.BINGET, 0, Op.TUPLE2)) as unknown[];
    assert.ok(isTuple(value) && Object.isFrozen(value));
    assert.equal(value[0], value[1]);
  });

  test('a list filled in batches is one list, wherever the memo put it: before its items, between its batches', () => {
    // `](K1e q0 (K2e 0 h0`: put in the memo after its first batch, got again after its second.
    matches([1, 2], unpickle(pk(Op.EMPTY_LIST, Op.MARK, Op.BININT1, 1, Op.APPENDS, Op.BINPUT, 0, Op.MARK, Op.BININT1, 2, Op.APPENDS, Op.POP, Op.BINGET, 0)));
    const shared = unpickle(pk(Op.MARK, Op.EMPTY_LIST, Op.BINPUT, 0, Op.MARK, Op.BININT1, 1, Op.APPENDS, Op.MARK, Op.BININT1, 2, Op.APPENDS, Op.BINGET, 0, Op.TUPLE)) as unknown[][];
    matches([1, 2], shared[0]);
    assert.equal(shared[0], shared[1]);
  });

  test('much sharing reads in linear time (no value is built twice)', () => {
    // a0 = []; a(k+1) = [a(k), a(k)]: 2^60 paths through 60 lists.
    const parts: (number | Uint8Array)[] = [Op.EMPTY_LIST, Op.BINPUT, 0];
    for (let k = 1; k <= 60; k++) parts.push(Op.MARK, Op.BINGET, k - 1, Op.BINGET, k - 1, Op.LIST, Op.BINPUT, k);
    const started = Date.now();
    const value = unpickle(pk(...parts)) as unknown[][];
    assert.equal(value[0], value[1]);
    assert.ok(Date.now() - started < 1000);
    // Written back without memo it would be 2^60 lists: refused at the size limit, promptly.
    assert.throws(() => pickle(value, { dialect: 'py3', maxBytes: 1 << 20 }), (e: unknown) => e instanceof PickleError && /larger than 1048576 bytes/.test(e.message));
  });

  test('a Token, a RebuildProxy and exceptions read as PyToken, PyProxy, PyExceptionValue', () => {
    const token = bytes(global('multiprocessing.managers', 'Token'), Op.EMPTY_TUPLE, Op.NEWOBJ, unicode('Queue'), unicode('h'), Op.BININT1, 1, Op.TUPLE2, unicode('7f'), Op.TUPLE3, Op.BUILD);
    matches(new PyToken('Queue', tuple<unknown>('h', 1), '7f'), unpickle(pk(token)));
    const kwds = bytes(Op.EMPTY_DICT, unicode('exposed'), unicode('get'), Op.TUPLE1, Op.SETITEM);
    const proxy = bytes(global('multiprocessing.managers', 'RebuildProxy'), Op.MARK, global('multiprocessing.managers', 'AutoProxy'), token, unicode('pickle'), kwds, Op.TUPLE, Op.REDUCE);
    matches(new PyProxy(new PyToken('Queue', tuple<unknown>('h', 1), '7f'), 'AutoProxy', ['get']), unpickle(pk(proxy)));
    matches(new PyExceptionValue('builtins', 'KeyError', ['k']), unpickle(pk(global('builtins', 'KeyError'), unicode('k'), Op.TUPLE1, Op.REDUCE)));
    // With a __dict__ (e.g. __notes__), BUILD gives the exception its state.
    const noted = unpickle(pk(global('_queue', 'Empty'), Op.EMPTY_TUPLE, Op.REDUCE, Op.EMPTY_DICT, unicode('__notes__'), Op.EMPTY_LIST, Op.SETITEM, Op.BUILD));
    matches(new PyExceptionValue('queue', 'Empty', [], { __notes__: [] }), noted);
    matches(new Slice(1, null, 2), unpickle(pk(global('builtins', 'slice'), Op.BININT1, 1, Op.NONE, Op.BININT1, 2, Op.TUPLE3, Op.REDUCE)));
  });

  test('an allow-listed global in a shape Python would not write stays opaque', () => {
    // RebuildProxy with a kwds key other than exposed; set() with two arguments; a Token with a 2-tuple state.
    const token = bytes(global('multiprocessing.managers', 'Token'), Op.EMPTY_TUPLE, Op.NEWOBJ, unicode('Q'), unicode('h'), unicode('1'), Op.TUPLE3, Op.BUILD);
    const kwds = bytes(Op.EMPTY_DICT, unicode('authkey'), Op.SHORT_BINBYTES, 1, 'k', Op.SETITEM);
    const proxy = unpickle(pk(global('multiprocessing.managers', 'RebuildProxy'), Op.MARK, global('multiprocessing.managers', 'AutoProxy'), token, unicode('pickle'), kwds, Op.TUPLE, Op.REDUCE));
    assert.ok(proxy instanceof OpaqueValue && proxy.type === 'multiprocessing.managers.RebuildProxy');
    assert.ok(unpickle(pk(global('builtins', 'set'), Op.EMPTY_LIST, Op.EMPTY_LIST, Op.TUPLE2, Op.REDUCE)) instanceof OpaqueValue);
    const badToken = unpickle(pk(global('multiprocessing.managers', 'Token'), Op.EMPTY_TUPLE, Op.NEWOBJ, unicode('Q'), unicode('1'), Op.TUPLE2, Op.BUILD));
    assert.ok(badToken instanceof OpaqueValue && badToken.type === 'multiprocessing.managers.Token');
  });

  test('trailing bytes after STOP, and items left on the stack, are ignored as Python ignores them', () => {
    matches(1, unpickle(bytes(P2, Op.NONE, Op.BININT1, 1, Op.STOP, 'garbage')));
  });
});

describe('globals are never resolved: anything off the allow-list is opaque data', () => {
  test('REDUCE of os.system, eval, getattr, __import__ gives opaque values, calling nothing', () => {
    for (const [module, name] of [['os', 'system'], ['posix', 'system'], ['builtins', 'eval'], ['__builtin__', 'getattr'], ['builtins', '__import__'], ['subprocess', 'Popen']]) {
      const data = pk(global(module, name), unicode('touch /tmp/pwned-by-pickle'), Op.TUPLE1, Op.REDUCE);
      const value = unpickle(data);
      assert.ok(value instanceof OpaqueValue, `${module}.${name}`);
      assert.equal(value.type, `${module === '__builtin__' ? 'builtins' : module}.${name}`);
      // Its bytes are the same call, for a Python to make or not: nothing was made here.
      assert.deepEqual(unpickle(value.data) instanceof OpaqueValue, true);
    }
  });

  test('the allow-list holds only data types, the proxy rebuilder and exception classes', () => {
    const dangerous = /^(os|posix|nt|subprocess|sys|importlib|pickle|shutil|socket|runpy|code|pty)$|eval|exec|getattr|setattr|__import__|compile|open|system|input|apply|partial/;
    for (const [module, name, role] of allowedGlobals()) {
      assert.ok(!dangerous.test(module) && !dangerous.test(name), `${module}.${name} must not be allow-listed`);
      if (role === 'exception') assert.match(name, /Error$|Exception$|^(Empty|Full|StopIteration|StopAsyncIteration|GeneratorExit|KeyboardInterrupt|SystemExit|BufferTooShort)$|Warning$/);
    }
    // A Python 2 client's protocol 0/1 objects come through copyreg: it is listed, and only its two helpers.
    assert.deepEqual(allowedGlobals().filter(([m]) => m === 'copyreg' || m === 'copy_reg').map(([, n]) => n).sort(), ['__newobj__', '__newobj__', '_reconstructor', '_reconstructor']);
  });
});

describe('malformed and hostile pickles fail with a PickleError naming the opcode and byte offset', () => {
  const valid = pk(Op.EMPTY_LIST, Op.BINPUT, 0, Op.MARK, unicode('héllo'), Op.BININT, u32(7), Op.LONG1, 2, 1, 2, Op.APPENDS, Op.EMPTY_DICT, Op.TUPLE2);

  test('every truncation of a valid pickle', () => {
    for (let n = 0; n < valid.length; n++) assert.throws(() => unpickle(valid.subarray(0, n)), (e: unknown) => e instanceof PickleError && /at byte \d+/.test(e.message), `cut at ${n}`);
  });

  test('an empty pickle, a missing STOP, an unknown opcode, an unsupported protocol', () => {
    refuses(Buffer.alloc(0), /^end of data at byte 0: the pickle is empty/);
    refuses(bytes(P2, Op.NONE), /^end of data at byte 3: .*without STOP/);
    refuses(bytes(P2, 0xff), /^opcode 0xff at byte 2: is not a pickle opcode/);
    refuses(bytes(Op.PROTO, 6, Op.NONE, Op.STOP), /^PROTO at byte 0: unsupported pickle protocol 6/);
  });

  test('a length beyond the data is refused before anything is allocated', () => {
    refuses(pk(Op.BINUNICODE, u32(0xffffffff)), /^BINUNICODE at byte 2: declares 4294967295 bytes but only 1 remain/);
    refuses(pk(Op.BINBYTES8, u64(2n ** 64n - 1n)), /^BINBYTES8 at byte 2: declares \d+ bytes/);
    refuses(pk(Op.BYTEARRAY8, u64(2n ** 62n)), /^BYTEARRAY8 at byte 2: declares/);
    refuses(pk(Op.FRAME, u64(2n ** 40n)), /^FRAME at byte 2: declares a frame of/);
    refuses(pk(Op.LONG4, u32(-5)), /^LONG4 at byte 2: a negative byte count -5/);
    refuses(pk(Op.BINSTRING, u32(-1)), /^BINSTRING at byte 2: a negative byte count/);
    refuses(pk(Op.LONG4, u32(1 << 30)), /^LONG4 at byte 2: declares 1073741824 bytes/);
  });

  test('an int of more than 4300 digits, in binary or in text', () => {
    refuses(pk(Op.LONG4, u32(1800), Buffer.alloc(1799), 1), /^LONG4 at byte 2: an int of more than 4300 digits/);
    refuses(bytes(`I${'9'.repeat(4301)}\n.`), /^INT at byte 0: an int of more than 4300 digits/);
  });

  test('100 000 MARKs: refused once more than the nesting limit are open', () => {
    refuses(bytes(P2, Buffer.alloc(100_000, Op.MARK), Op.NONE, Op.STOP), new RegExp(`^MARK at byte ${3 + DEFAULT_MAX_DEPTH}: more than ${DEFAULT_MAX_DEPTH + 1} MARKs open`));
  });

  test('99 000 nested lists or tuples (under the value limit): refused as too deep, without overflowing the stack', () => {
    refuses(pk(Buffer.alloc(99_000, Op.EMPTY_LIST), Buffer.alloc(98_999, Op.APPEND)), /^EMPTY_LIST at byte \d+: a list is nested deeper than 1000 levels/);
    refuses(pk(Op.NONE, Buffer.alloc(99_000, Op.TUPLE1)), /^TUPLE1 at byte \d+: a tuple is nested deeper than 1000 levels/);
    // Inside an opaque object too.
    refuses(pk(global('m', 'C'), Op.NONE, Buffer.alloc(99_000, Op.TUPLE1), Op.REDUCE), /nested deeper than 1000 levels/);
  });

  test('nesting up to the limit reads, shared parts counted where they are used', () => {
    const depth = DEFAULT_MAX_DEPTH;
    let value = unpickle(pk(Op.NONE, Buffer.alloc(depth + 1, Op.TUPLE1))) as unknown;
    for (let i = 0; i <= depth; i++) value = (value as unknown[])[0];
    assert.equal(value, null);
    refuses(pk(Op.NONE, Buffer.alloc(depth + 2, Op.TUPLE1)), /nested deeper/);
    // A 600-deep tuple, memoized, then used again 600 levels down: 1200 in all.
    const deep = bytes(Op.NONE, Buffer.alloc(600, Op.TUPLE1), Op.BINPUT, 0);
    refuses(pk(deep, Op.POP, Op.BINGET, 0, Buffer.alloc(600, Op.TUPLE1), Op.BINGET, 0, Op.TUPLE2), /nested deeper/);
  });

  test('memo GETs of indices never set', () => {
    refuses(pk(Op.BINGET, 5), /^BINGET at byte 2: memo index 5 was never set/);
    refuses(pk(Op.LONG_BINGET, u32(70000)), /^LONG_BINGET at byte 2: memo index 70000 was never set/);
    refuses(bytes('g3\n.'), /^GET at byte 0: memo index 3 was never set/);
    refuses(pk(Op.BINPUT, 0), /^BINPUT at byte 2: the stack is empty/);
  });

  test('stack underflow, marks and items out of place', () => {
    refuses(pk(), /^STOP at byte 2: the stack is empty/);
    refuses(pk(Op.NONE, Op.APPEND), /^APPEND at byte 3: the stack is empty/);
    refuses(pk(Op.NONE, Op.MARK, Op.REDUCE), /^REDUCE at byte 4: the stack is empty above the last MARK/);
    refuses(pk(Op.POP_MARK), /^POP_MARK at byte 2: there is no MARK to close/);
    refuses(pk(Op.EMPTY_DICT, Op.MARK, Op.NONE, Op.SETITEMS), /^SETITEMS at byte 5: an odd number of items/);
    refuses(pk(Op.EMPTY_TUPLE, Op.NONE, Op.APPEND), /^APPEND at byte 4: cannot append to a tuple/);
    refuses(pk(Op.EMPTY_LIST, Op.EMPTY_DICT, Op.BUILD), /^BUILD at byte 4: cannot apply BUILD to a list/);
    refuses(pk(Op.BININT1, 1, Op.BININT1, 2, Op.STACK_GLOBAL), /^STACK_GLOBAL at byte 6: the module and name must be str/);
    refuses(pk(Op.MARK, Op.OBJ), /^OBJ at byte 3: no class after the MARK/);
  });

  test('a cycle is refused (Python values may hold themselves; ours may not)', () => {
    refuses(pk(Op.EMPTY_LIST, Op.BINPUT, 0, Op.BINGET, 0, Op.APPEND), /^EMPTY_LIST at byte 2: a list contains itself: cyclic values are not supported/);
    refuses(pk(Op.EMPTY_DICT, Op.DUP, Op.NONE, Op.SETITEM), /^EMPTY_DICT at byte 2: a dict contains itself/);
    // Inside an opaque object: its state holds the object.
    refuses(pk(global('m', 'C'), Op.EMPTY_TUPLE, Op.NEWOBJ, Op.BINPUT, 0, Op.EMPTY_DICT, unicode('me'), Op.BINGET, 0, Op.SETITEM, Op.BUILD), /^NEWOBJ at byte \d+: an object made by NEWOBJ contains itself/);
  });

  test('unhashable dict keys and set members', () => {
    refuses(pk(Op.EMPTY_DICT, Op.EMPTY_LIST, Op.NONE, Op.SETITEM), /^EMPTY_LIST at byte 3: a list is used as a dict key or set member, but it is unhashable/);
    refuses(pk(Op.EMPTY_SET, Op.MARK, Op.EMPTY_LIST, Op.TUPLE1, Op.ADDITEMS), /^EMPTY_LIST at byte 4: a list is used as a dict key/);
  });

  test('text that is not valid in its encoding', () => {
    refuses(pk(Op.BINUNICODE, u32(2), 0xc3, 0x28), /^BINUNICODE at byte 2: invalid UTF-8/);
    refuses(bytes("S'abc\n."), /^STRING at byte 0: its argument must be quoted/);
    refuses(bytes("S'\\x4'\n."), /^STRING at byte 0: an invalid \\x escape/);
    refuses(bytes('V\\u12\n.'), /^UNICODE at byte 0: a truncated \\u escape/);
    refuses(bytes('Iabc\n.'), /^INT at byte 0: "abc" is not a decimal integer/);
    refuses(bytes('F1.2.3\n.'), /^FLOAT at byte 0: "1.2.3" is not a float/);
    refuses(bytes('cos\nsystem'), /^GLOBAL at byte 0: its argument has no terminating newline/);
  });

  test('opcodes Python refuses without a hook: persistent ids, extensions, out-of-band buffers', () => {
    refuses(bytes('Pid\n.'), /^PERSID at byte 0: persistent ids are not supported/);
    refuses(pk(Op.EXT1, 1), /^EXT1 at byte 2: extension codes are not supported/);
    refuses(pk(Op.NEXT_BUFFER), /^NEXT_BUFFER at byte 2: out-of-band buffers/);
  });

  test('an opaque object spelt out beyond the size limit (much sharing inside it) is refused', () => {
    const parts: (number | Uint8Array)[] = [global('m', 'C'), unicode('x'.repeat(100)), Op.BINPUT, 0, Op.POP];
    for (let k = 1; k <= 40; k++) parts.push(Op.BINGET, k - 1, Op.BINGET, k - 1, Op.TUPLE2, Op.BINPUT, k, Op.POP);
    parts.push(Op.BINGET, 40, Op.TUPLE1, Op.REDUCE);
    assert.throws(() => unpickle(pk(...parts), { maxOpaqueBytes: 1 << 20 }), (e: unknown) => e instanceof PickleError && /^REDUCE at byte \d+: the pickled m\.C would be larger than 1048576 bytes/.test(e.message));
  });

  test('a global whose name holds a newline (STACK_GLOBAL allows it) cannot be kept as GLOBAL', () => {
    refuses(pk(unicode('os\nx'), unicode('system'), Op.STACK_GLOBAL), /^STACK_GLOBAL at byte 22: a module or class name with a newline/);
  });
});

describe('writing pickles', () => {
  const write = (value: unknown, dialect: 'py2' | 'py3' = 'py3') => pickle(value, { dialect });

  test('protocol 2, plain opcodes: None is PROTO 2, NONE, STOP', () => {
    assert.deepEqual(write(null), Buffer.from([0x80, 2, Op.NONE, Op.STOP]));
  });

  test('ints: BININT1/2/BININT, then LONG1 (Python 3) or INT up to 64 bits (Python 2, where that is int)', () => {
    assert.deepEqual(write(65535).subarray(2, -1), bytes(Op.BININT2, 0xff, 0xff));
    assert.deepEqual(write(2 ** 31).subarray(2, -1), bytes(Op.LONG1, 5, 0, 0, 0, 0x80, 0));
    assert.deepEqual(write(2 ** 31, 'py2').subarray(2, -1), bytes('I2147483648\n'));
    assert.deepEqual(write(2n ** 63n, 'py2').subarray(2, -1), bytes(Op.LONG1, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0));
    assert.equal(write(10n ** 1000n)[2], Op.LONG4);
  });

  test('text: BINUNICODE, but ASCII as str for Python 2; bytes: _codecs.encode for 3, str for 2', () => {
    assert.deepEqual(write('ab').subarray(2, -1), unicode('ab'));
    assert.deepEqual(write('ab', 'py2').subarray(2, -1), bytes(Op.SHORT_BINSTRING, 2, 'ab'));
    assert.deepEqual(write('é', 'py2').subarray(2, -1), unicode('é'));
    assert.deepEqual(write(Buffer.from([1]), 'py2').subarray(2, -1), bytes(Op.SHORT_BINSTRING, 1, 1));
    assert.deepEqual(write(Buffer.from([0xff])).subarray(2, -1), bytes(global('_codecs', 'encode'), unicode('\u00ff'), unicode('latin1'), Op.TUPLE2, Op.REDUCE));
  });

  test('a proxy is RebuildProxy(func, token, serializer, kwds), as BaseProxy.__reduce__ returns it', () => {
    const token = new PyToken('Queue', tuple<unknown>('h', 1), 'ab');
    const back = unpickle(write(new PyProxy(token, 'AutoProxy', ['get'])));
    matches(new PyProxy(token, 'AutoProxy', ['get']), back);
    matches(new PyProxy(token, 'DictProxy'), unpickle(write(new PyProxy(token, 'DictProxy'))));
  });

  test('exceptions are named as the receiving Python imports them', () => {
    const names = (value: PyExceptionValue, dialect: 'py2' | 'py3') => {
      const text = write(value, dialect).toString('latin1');
      return text.slice(3, text.indexOf('\n', text.indexOf('\n') + 1)).replace('\n', '.');
    };
    assert.equal(names(new PyExceptionValue('_queue', 'Empty'), 'py3'), 'queue.Empty');
    assert.equal(names(new PyExceptionValue('_queue', 'Empty'), 'py2'), 'Queue.Empty');
    assert.equal(names(new PyExceptionValue('builtins', 'KeyError', ['k']), 'py2'), 'exceptions.KeyError');
    assert.equal(names(new PyExceptionValue('exceptions', 'KeyError', ['k']), 'py3'), 'builtins.KeyError');
    assert.equal(names(new PyExceptionValue('threading', 'BrokenBarrierError'), 'py2'), 'exceptions.RuntimeError');
    assert.equal(names(new PyExceptionValue('builtins', 'PermissionError'), 'py2'), 'exceptions.OSError');
  });

  test('every value the reader gives is written back to the same value', () => {
    const values: unknown[] = [
      null, true, 0, -1, 2 ** 53 - 1, 2n ** 64n, 1.5, new Float(2), new Float(-0), NaN, -Infinity, '', 'a\ud800😀', Buffer.from([0, 1]),
      [1, [2]], tuple<unknown>(), tuple<unknown>(1, tuple<unknown>(2, 3), 4, 5), { a: 1, __x: [null] }, new Map<unknown, unknown>([[tuple<unknown>(1), 2], [Buffer.from('k'), 3]]),
      new Set([1, 'a']), new FrozenSet([tuple<unknown>(1, 2)]), new Slice(1, null, -1), new PyToken('Q', '/sock', '1'),
      new PyExceptionValue('builtins', 'ValueError', ['x', 1]),
    ];
    for (const value of values) matches(value, unpickle(write(value)));
  });

  test('an OpaqueValue the reader made is inlined byte for byte', () => {
    const opaque = unpickle(pk(global('fractions', 'Fraction'), unicode('1/3'), Op.TUPLE1, Op.REDUCE)) as OpaqueValue;
    const out = write([opaque]);
    assert.ok(out.includes(Buffer.from(opaque.data.subarray(2, -1))));
    matches([opaque], unpickle(out));
  });

  test("another OpaqueValue('python') is read and written again: memo resolved, garbage refused", () => {
    // Python's own protocol 4 pickle of Fraction('1/3'), with FRAME and MEMOIZE.
    const theirs = Buffer.from('gASVIgAAAAAAAACMCWZyYWN0aW9uc5SMCEZyYWN0aW9ulJOUSwFLA4aUUpQu', 'base64');
    const out = write([new OpaqueValue('python', 'fractions.Fraction', theirs)]);
    assert.ok(!out.includes(Op.MEMOIZE) && !out.includes(Op.FRAME));
    assert.equal(((unpickle(out) as OpaqueValue[])[0]).type, 'fractions.Fraction');
    assert.throws(() => write({ x: new OpaqueValue('python', 'm.C', Buffer.from('not a pickle')) }), (e: unknown) => e instanceof PickleError && /holds no readable pickle .* at \$\.x$/.test(e.message));
  });

  test('refused, with the place: another language\'s opaque value, functions, unknown classes, cycles', () => {
    const refusesToWrite = (value: unknown, pattern: RegExp) => assert.throws(() => write(value), (e: unknown) => e instanceof PickleError && pattern.test(e.message));
    refusesToWrite([new OpaqueValue('ts', 'Foo', new Uint8Array())], /opaque value of language "ts" \(type "Foo"\) at \$\[0\]$/);
    refusesToWrite({ f: () => 1 }, /cannot pickle a function at \$\.f$/);
    refusesToWrite(new Map([['k', [new Date(0)]]]), /cannot pickle a Date at \$\[0\]\[0\]$/);
    const cycle: unknown[] = [];
    cycle.push([cycle]);
    refusesToWrite(cycle, /contains itself .* at \$\[0\]\[0\]$/);
    let deep: unknown = null;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    refusesToWrite(deep, /nested deeper than 1000 levels/);
  });

  test('an object the server holds goes through encodeRef, as the proxy it returns', () => {
    class Ref {}
    const token = new PyToken('Queue', tuple<unknown>('h', 1), 'ab');
    const out = pickle({ q: new Ref() }, { dialect: 'py3', encodeRef: (v) => (v instanceof Ref ? new PyProxy(token, 'AutoProxy', ['get']) : undefined) });
    matches({ q: new PyProxy(token, 'AutoProxy', ['get']) }, unpickle(out));
    assert.throws(() => pickle({ q: new Ref() }, { dialect: 'py3', encodeRef: () => undefined }), /cannot pickle a Ref at \$\.q/);
  });

  test('no memo, no FRAME: a value shared twice is written twice', () => {
    const shared = [1];
    const out = write([shared, shared]);
    for (const code of [Op.BINPUT, Op.LONG_BINPUT, Op.MEMOIZE, Op.FRAME]) assert.ok(!out.subarray(2).includes(code));
    const back = unpickle(out) as unknown[][];
    assert.notEqual(back[0], back[1]);
  });
});

describe("CPython's connection framing", () => {
  test('frame() prefixes a 4-byte big-endian length', () => {
    assert.deepEqual(frame(Buffer.from('abc')), Buffer.from([0, 0, 0, 3, 0x61, 0x62, 0x63]));
  });

  test('the decoder reads both length forms, in any chunking, and refuses lengths over its limit', () => {
    const decoder = new PickleFrameDecoder(100);
    const long = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 2]), Buffer.from('hi')]);
    const stream = Buffer.concat([frame(Buffer.from('one')), long]);
    const got: string[] = [];
    for (const byte of stream) for (const payload of decoder.push(Buffer.from([byte]))) got.push(payload.toString());
    assert.deepEqual(got, ['one', 'hi']);
    assert.throws(() => new PickleFrameDecoder(100).push(Buffer.from([0, 0, 0, 101])), PythonFramingError);
    assert.throws(() => new PickleFrameDecoder(100).push(Buffer.from([0xff, 0xff, 0xff, 0xfe])), PythonFramingError);
  });
});
