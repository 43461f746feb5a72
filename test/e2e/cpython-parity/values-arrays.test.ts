/**
 * CPython parity, values and arrays. In `Lib/test/_test_multiprocessing.py`, `_TestValue` and
 * `_TestArray` run for processes only (sharedctypes); what CPython checks of the managed variants,
 * `manager.Value` and `manager.Array`, is in `TestSyncManagerTypes.test_value` and `test_array`.
 * Both are here, and the `_TestValue`/`_TestArray` behaviours are carried over as far as a
 * manager serves them: `managers.Value(typecode, value, lock=True)` keeps any value under any
 * typecode (it checks nothing, and ignores `lock`), and `managers.Array(typecode, sequence,
 * lock=True)` is `array.array(typecode, sequence)`, with array.array's checks and errors.
 *
 * Not applicable: RawValue/RawArray, get_lock()/get_obj() (sharedctypes' synchronized wrappers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArrayProxy, IndexError, kwargs, ValueError, ValueProxy } from '../../../src/client';
import { parity, remote, TEST_TIMEOUT } from './harness';

/** Python's `list(arr)` on an ArrayProxy: `__getitem__` from 0 until IndexError (it has no `__iter__`). */
async function listOf<T>(arr: ArrayProxy<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < 1_000; i++) {
    try {
      out.push(await arr.at(i));
    } catch (error) {
      if (error instanceof IndexError) return out;
      throw error;
    }
  }
  throw new Error('no IndexError within 1000 items');
}

// CPython: TestSyncManagerTypes.test_value
test('Value: another client reads the value and sets a new one, which this client then reads', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const o = await s.main.create<ValueProxy<number>>('Value', 'i', 1);
  const [worker] = await s.connect(1);
  const child = await s.share(worker, { o });
  assert.equal(await child.o.get(), 1);
  await child.o.set(2);
  assert.equal(await o.get(), 2);
});

// CPython: _TestValue.test_value (codes_values), for manager.Value
test('Value: ints, a double, a short, a 64-bit int and a byte keep their values; a child client replaces each', { timeout: TEST_TIMEOUT }, async () => {
  const codesValues: [string, unknown, unknown][] = [
    ['i', 4343, 24234],
    ['d', 3.625, -4.25],
    ['h', -232, 234],
    ['q', 2 ** 33, 2 ** 34],
    ['c', Buffer.from('x'), Buffer.from('y')],
  ];
  await using s = await parity();
  const values: ValueProxy[] = [];
  for (const [code, value] of codesValues) values.push(await s.main.create<ValueProxy>('Value', code, value));
  for (const [k, sv] of values.entries()) assert.deepEqual(await sv.get(), codesValues[k][1]);

  const [worker] = await s.connect(1);
  const { values: theirs } = await s.share(worker, { values });
  for (const [k, sv] of theirs.entries()) await sv.set(codesValues[k][2]);

  for (const [k, sv] of values.entries()) assert.deepEqual(await sv.get(), codesValues[k][2]);
});

// CPython: _TestValue.test_getobj_getlock and test_invalid_typecode, as managers.Value serves them:
// `lock` is accepted whatever it is and ignored, and the typecode is kept unchecked (managers.Value
// raises no 'bad typecode' where sharedctypes.Value does).
test("Value: any lock argument is accepted and ignored, and the typecode is not checked", { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  for (const lock of [true, false, null, 'navalue']) {
    const v = await s.main.create<ValueProxy<number>>('Value', 'i', 5, kwargs({ lock }));
    assert.equal(await v.get(), 5);
  }
  const odd = await s.main.create<ValueProxy<unknown>>('Value', 'x', null);
  assert.equal(await odd.get(), null);
  await odd.set('anything');
  assert.equal(await odd.get(), 'anything');
  assert.equal(await odd.repr(), "Value('x', 'anything')");
});

// CPython: TestSyncManagerTypes.test_array
test('Array: another client reads its items, its length, and all of it as a list', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const o = await s.main.create<ArrayProxy>('Array', 'i', [0, 1]);
  const [worker] = await s.connect(1);
  const { o: arr } = await s.share(worker, { o });
  assert.equal(await arr.at(0), 0);
  assert.equal(await arr.at(1), 1);
  assert.equal(await arr.length(), 2);
  assert.deepEqual(await listOf(arr), [0, 1]);
  assert.deepEqual(await arr.toArray(), [0, 1]);
});

/** CPython's _TestArray.f: each item becomes the running sum, in place. */
async function runningSum(seq: { length(): Promise<number> | number; at(i: number): Promise<number> | number; set(i: number, v: number): Promise<void> | void }): Promise<void> {
  const n = await seq.length();
  for (let i = 1; i < n; i++) await seq.set(i, (await seq.at(i)) + (await seq.at(i - 1)));
}

// CPython: _TestArray.test_array, for manager.Array
test('Array: length, an item, a slice, a slice assignment, and in-place updates by another client', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  const seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831];
  const arr = await s.main.create<ArrayProxy>('Array', 'i', seq);

  assert.equal(await arr.length(), seq.length);
  assert.equal(await arr.at(3), seq[3]);
  assert.deepEqual(await arr.slice(2, 7), seq.slice(2, 7));

  // arr[4:8] = seq[4:8] = [1, 2, 3, 4] (CPython assigns an array.array; a list stands for it on the wire)
  await arr.setSlice(4, 8, [1, 2, 3, 4]);
  seq.splice(4, 4, 1, 2, 3, 4);
  assert.deepEqual(await arr.slice(), seq);

  await runningSum({ length: () => seq.length, at: (i) => seq[i], set: (i, v) => void (seq[i] = v) });
  const [worker] = await s.connect(1);
  const { arr: theirs } = await s.share(worker, { arr });
  await runningSum(theirs);

  assert.deepEqual(await arr.slice(), seq);
});

// CPython: _TestArray.test_array_from_size (sharedctypes' Array('i', size) makes zeros; managers.Array
// is array.array(typecode, sequence), which needs an iterable: a size is a TypeError there)
test('Array: a size where the items go is refused with TypeError, as array.array refuses it', { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  await assert.rejects(s.main.create<ArrayProxy>('Array', 'i', 10), remote('TypeError'));
  // What does work: the zeros given as items, then replaced in place.
  const arr = await s.main.create<ArrayProxy>('Array', 'i', new Array(10).fill(0));
  assert.equal(await arr.length(), 10);
  assert.deepEqual(await listOf(arr), new Array(10).fill(0));
  await arr.setSlice(null, null, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(await listOf(arr), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

// CPython: _TestArray.test_invalid_typecode (array.array raises ValueError 'bad typecode' where
// sharedctypes raises TypeError) and test_getobj_getlock_obj (`lock` is accepted and ignored)
test("Array: an unknown typecode is ValueError 'bad typecode'; any lock argument is accepted", { timeout: TEST_TIMEOUT }, async () => {
  await using s = await parity();
  await assert.rejects(s.main.create<ArrayProxy>('Array', 'x', []), (e: unknown) => e instanceof ValueError && /bad typecode/.test(e.message));
  for (const lock of [true, false, null, 'notalock']) {
    const arr = await s.main.create<ArrayProxy>('Array', 'i', [0, 1, 2], kwargs({ lock }));
    assert.deepEqual(await arr.toArray(), [0, 1, 2]);
  }
});
