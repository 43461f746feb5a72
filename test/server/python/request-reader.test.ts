/**
 * The fast reader of Python requests (`requestReader.ts`) against the general one (`unpickle`):
 * wherever the fast reader answers, its answer is the general reader's; it answers the common
 * shapes every Python sends (so the fast path is really taken); it gives up on everything else,
 * and never throws, also on seeded random mutations of real requests.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTuple, tupleFrom } from '../../../src/common/valueTypes';
import { unpickle } from '../../../src/server/python/pickle/pickleReader';
import { pickle, pickleMessage, frame } from '../../../src/server/python/pickle/pickleWriter';
import { readRequest, type PythonRequest } from '../../../src/server/python/requestReader';
import { Rng, scaled, seedFor, withSeed } from '../../fuzz/prng';
import { findPython, PYTHON_VERSIONS, PythonHarness } from './pythonHarness';
import { mismatch } from './valueMatch';

/** The request the general reader makes of a pickle, in the fast reader's shape; undefined if it is not a request. */
function generalRequest(data: Uint8Array): PythonRequest | undefined {
  let value: unknown;
  try {
    value = unpickle(data);
  } catch {
    return undefined;
  }
  if (!isTuple(value) || value.length !== 4 || typeof value[1] !== 'string' || !isTuple(value[2])) return undefined;
  const kwds = value[3];
  if (typeof kwds !== 'object' || kwds === null || Array.isArray(kwds) || kwds instanceof Map) return undefined;
  return { ident: value[0], method: value[1], args: [...value[2]], kwargs: Object.assign(Object.create(null) as Record<string, unknown>, kwds) };
}

/** Asserts the fast reader answers `data` exactly as the general one does (or gives up); returns whether it answered. */
function agrees(data: Buffer, what: string): boolean {
  const fast = readRequest(data);
  if (fast === undefined) return false;
  const general = generalRequest(data);
  assert.ok(general, `${what}: the fast reader answered a pickle the general reader does not read as a request`);
  const m = mismatch(general, fast);
  assert.equal(m, undefined, `${what}: ${m}`);
  assert.equal(Object.getPrototypeOf(fast.kwargs), null, `${what}: keyword arguments without prototype`);
  return true;
}

// (ident, method, args, kwds) as CPython 3.11's client pickles them (protocol 4, one FRAME, MEMOIZE).
const PUT_5 = Buffer.from('8004951d00000000000000288c0a37663361326231633064948c03707574944b0585947d9474942e', 'hex');

describe('the fast reader of Python requests', () => {
  test('reads a put(5) from Python 3.11 as the general reader does', () => {
    const fast = readRequest(PUT_5);
    assert.deepEqual({ ...fast, kwargs: { ...fast?.kwargs } }, { ident: '7f3a2b1c0d', method: 'put', args: [5], kwargs: {} });
    assert.ok(agrees(PUT_5, 'put(5)'));
  });

  test('reads each short str as itself, also one whose bytes hash like another it read before, and refuses bad UTF-8 after good', () => {
    // 'k4uzx' and 'kf2ad' have the same 32-bit FNV-1a hash, the key under which short strs are kept once read.
    const request = (ident: string, method: string, arg: unknown) => pickle(tupleFrom([ident, method, tupleFrom([arg]), {}]), { dialect: 'py3' });
    for (let round = 0; round < 2; round++) {
      for (const [ident, method, arg] of [['k4uzx', 'put', 'kf2ad'], ['kf2ad', 'get', 'k4uzx'], ['k4uzx', 'put', 'é']] as const) {
        const read = readRequest(request(ident, method, arg));
        assert.deepEqual([read?.ident, read?.method, read?.args], [ident, method, [arg]], `round ${round}: ${ident}.${method}(${arg})`);
      }
    }
    // The same request with its ident's bytes made invalid UTF-8 (0xff): not read as text, known or not.
    const bad = request('k4uzx', 'put', 1);
    bad[bad.indexOf('k4uzx')] = 0xff;
    assert.equal(readRequest(bad), undefined);
  });

  test('gives up on what it does not read, for the general reader: nested values, memo gets, old protocols, trailing bytes, truncation', () => {
    const cases: [string, Buffer][] = [
      ['a list argument', pickle(tupleFrom(['id', 'put', tupleFrom([[1, 2]]), {}]), { dialect: 'py3' })],
      ['a tuple argument', pickle(tupleFrom(['id', 'put', tupleFrom([tupleFrom([1, 2])]), {}]), { dialect: 'py3' })],
      ['a dict argument', pickle(tupleFrom(['id', 'put', tupleFrom([{ a: 1 }]), {}]), { dialect: 'py3' })],
      ['a big int', pickle(tupleFrom(['id', 'put', tupleFrom([2n ** 70n]), {}]), { dialect: 'py3' })],
      ['args as a list', pickle(tupleFrom(['id', 'put', [1], {}]), { dialect: 'py3' })],
      ['three items', pickle(tupleFrom(['id', 'put', tupleFrom([1])]), { dialect: 'py3' })],
      ['a non-str method', pickle(tupleFrom(['id', 5, tupleFrom([]), {}]), { dialect: 'py3' })],
      ['protocol 0', Buffer.from("(S'id'\nS'get'\n(t(dt.", 'latin1')],
      ['trailing bytes', Buffer.concat([PUT_5, Buffer.from('N')])],
      ['truncated', PUT_5.subarray(0, PUT_5.length - 3)],
      ['a frame of the wrong length', Buffer.concat([PUT_5.subarray(0, 3), Buffer.from([0x20]), PUT_5.subarray(4)])],
      ['empty', Buffer.alloc(0)],
    ];
    // put('x', 'x'): the second 'x' is a memo get of the first in Python's own pickles.
    cases.push(['a memo get', Buffer.from('8004951900000000000000288c026964948c03707574948c017894680286947d9474942e', 'hex')]);
    for (const [what, data] of cases) {
      assert.equal(readRequest(data), undefined, what);
    }
  });

  test('never throws, and agrees with the general reader, on seeded mutations of real requests', (t) => {
    const seeds = [PUT_5, ...[
      tupleFrom(['7f01', 'get', tupleFrom([true, 1.5]), { timeout: 2 }]),
      tupleFrom([null, 'create', tupleFrom(['Queue']), {}]),
      tupleFrom(['7f02', '__setitem__', tupleFrom(['k', Buffer.from('v')]), { a: null, b: 'é' }]),
    ].map((v) => pickle(v, { dialect: 'py3' }))];
    const rng = new Rng(seedFor('request-reader mutations'));
    const cases = scaled(20_000);
    const deadline = Date.now() + scaled(5_000);
    let answered = 0;
    let i = 0;
    for (; i < cases && (i < 100 || Date.now() < deadline); i++) {
      const caseRng = rng.fork();
      withSeed(`request-reader mutation ${i} (case seed ${caseRng.seed})`, () => {
        const data = Buffer.from(caseRng.pick(seeds));
        for (let k = caseRng.int(1, 3); k > 0; k--) {
          const at = caseRng.below(data.length);
          data[at] = caseRng.chance(0.5) ? caseRng.below(256) : data[at] ^ (1 << caseRng.below(8));
        }
        if (agrees(data, `mutation ${i}`)) answered++;
      });
    }
    t.diagnostic(`${i} mutations, ${answered} read by the fast reader`);
    assert.ok(answered > 0, 'some mutations (a changed digit or letter) are still requests the fast reader reads');
  });
});

describe('pickleMessage', () => {
  test('writes the bytes of frame(pickle(tuple)) in one buffer', () => {
    const values: unknown[] = [null, true, 5, -70000, 2n ** 80n, 1.5, 'héllo', Buffer.from('xy'), [1, tupleFrom([2])], { a: 1 }, new Map([[1, 2]])];
    for (const dialect of ['py2', 'py3'] as const) {
      for (const value of values) {
        const expected = frame(pickle(tupleFrom(['#RETURN', value]), { dialect }));
        assert.deepEqual(pickleMessage(['#RETURN', value], { dialect }), expected, `${dialect} ${String(value)}`);
      }
    }
  });

  test('refuses a message beyond its limit with a PickleError naming the limit', () => {
    assert.throws(() => pickleMessage(['#RETURN', 'x'.repeat(100)], { dialect: 'py3', maxBytes: 50 }), /larger than 50 bytes/);
  });
});

/** Requests as Python's clients make them: (ident, method, args, kwds), with the values each Python has. */
const REQUEST_EXPRESSIONS: readonly { expr: string; fast: boolean | 'py3' }[] = [
  { expr: "('7f3a2b1c0d', 'put', (5,), {})", fast: true },
  { expr: "('7f3a2b1c0d', 'get', (), {})", fast: true },
  { expr: "(None, 'create', ('Queue',), {})", fast: true },
  { expr: "(None, 'accept_connection', ('MainProcess|Thread-1',), {})", fast: true },
  { expr: "('7f01', 'put', (u'h\\xe9llo \\U0001F600', 1.5, 2.0, None, True, False, -1, 255, 256, 65536, -2**31, 2**31 - 1), {})", fast: true },
  // Python 2 writes an int beyond 32 bits as INT text, which only the general reader reads.
  { expr: "('7f01', 'put', (2**31, 2**40, -2**47), {})", fast: 'py3' },
  { expr: "('7f01', 'get', (), {'block': True, 'timeout': 0.5})", fast: true },
  { expr: "('7f01', 'get', (True, 3), {u'__proto__': 1})", fast: true },
  { expr: "('7f01', 'put', (2**70,), {})", fast: false },
  { expr: "('7f01', 'put', ([1, 2],), {})", fast: false },
  { expr: "('7f01', 'put', ((1, 2),), {})", fast: false },
  { expr: "('7f01', 'update', ({'a': 1},), {})", fast: false },
  { expr: "('7f01', 'put', (Token('Queue', ('h', 1), 'ab'),), {})", fast: false },
];

for (const minor of PYTHON_VERSIONS) {
  const python = findPython(minor);
  describe(`the fast reader and Python ${minor}`, { skip: python ? false : `Python ${minor} is not installed (pyenv)` }, () => {
    test('reads the common requests with every protocol from 2 up as the general reader does, and leaves the others to it', async () => {
      const harness = new PythonHarness(python!);
      try {
        const results = await harness.run(REQUEST_EXPRESSIONS.map((c) => ({ op: 'dumps' as const, expr: c.expr })));
        REQUEST_EXPRESSIONS.forEach((c, i) => {
          const pickles = results[i].pickles;
          assert.ok(pickles, `${c.expr}: ${results[i].error}`);
          for (let protocol = 2; protocol < pickles.length; protocol++) {
            const data = Buffer.from(pickles[protocol]!, 'base64');
            const answered = agrees(data, `${c.expr}, protocol ${protocol}`);
            assert.equal(answered, c.fast === 'py3' ? !minor.startsWith('2.') : c.fast, `${c.expr}, protocol ${protocol}: read by the fast reader`);
          }
        });
      } finally {
        harness.close();
      }
    });
  });
}
