import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PyException } from '../../../src/server/exceptions';
import { Float, tuple } from '../../../src/common/valueTypes';
import { List, createList, MAX_REPEAT_ITEMS } from '../../../src/server/builtins/list';
import { call, drain, pyError } from './helpers';
import { Slice } from '../../../src/common/valueTypes';
import { PyIterator } from '../../../src/server/builtins/iterator';
import { callFallback } from '../../../src/server/calls/fallbacks';
import { SharedRef } from '../../../src/server/calls/sharedRef';

/** Calls a method the way the server does, with wire args and kwargs. */


function listOf(...items: unknown[]): List {
  return createList([items], {});
}

test('getitem takes negative indices from the end', () => {
  const l = listOf('a', 'b', 'c');
  assert.equal(call(l, '__getitem__', [0]), 'a');
  assert.equal(call(l, '__getitem__', [-1]), 'c');
  assert.equal(call(l, '__getitem__', [-3]), 'a');
});

test('getitem out of range raises IndexError "list index out of range"', () => {
  const l = listOf(1, 2, 3);
  assert.throws(() => call(l, '__getitem__', [3]), pyError('IndexError', 'list index out of range'));
  assert.throws(() => call(l, '__getitem__', [-4]), pyError('IndexError', 'list index out of range'));
  assert.throws(() => call(l, '__getitem__', [10n ** 30n]), pyError('IndexError', "cannot fit 'int' into an index-sized integer"));
});

test('a non-int index raises TypeError naming its type; a bool is an int', () => {
  const l = listOf(1, 2);
  assert.throws(() => call(l, '__getitem__', ['a']), pyError('TypeError', 'list indices must be integers or slices, not str'));
  assert.throws(() => call(l, '__getitem__', [new Float(1)]), pyError('TypeError', 'list indices must be integers or slices, not float'));
  assert.throws(() => call(l, '__setitem__', [null, 1]), pyError('TypeError', 'list indices must be integers or slices, not NoneType'));
  assert.throws(() => call(l, '__delitem__', ['a']), pyError('TypeError', 'list indices must be integers or slices, not str'));
  assert.equal(call(l, '__getitem__', [true]), 2);
});

test('setitem and delitem take negative indices and say "list assignment index out of range"', () => {
  const l = listOf(1, 2, 3);
  call(l, '__setitem__', [-1, 'z']);
  call(l, '__delitem__', [0]);
  assert.deepEqual(l.snapshot(), [2, 'z']);
  assert.throws(() => call(l, '__setitem__', [2, 'x']), pyError('IndexError', 'list assignment index out of range'));
  assert.throws(() => call(l, '__delitem__', [-3]), pyError('IndexError', 'list assignment index out of range'));
});

test('pop takes the last item by default, or the one at an index', () => {
  const l = listOf(1, 2, 3, 4);
  assert.equal(call(l, 'pop'), 4);
  assert.equal(call(l, 'pop', [0]), 1);
  assert.equal(call(l, 'pop', [-1]), 3);
  assert.deepEqual(l.snapshot(), [2]);
});

test('pop from an empty list or out of range raises Python\'s IndexErrors', () => {
  assert.throws(() => call(listOf(), 'pop'), pyError('IndexError', 'pop from empty list'));
  assert.throws(() => call(listOf(), 'pop', [5]), pyError('IndexError', 'pop from empty list'));
  assert.throws(() => call(listOf(1), 'pop', [5]), pyError('IndexError', 'pop index out of range'));
  assert.throws(() => call(listOf(1), 'pop', ['a']), pyError('TypeError', "'str' object cannot be interpreted as an integer"));
  assert.throws(() => call(listOf(1), 'pop', [10n ** 30n]), pyError('OverflowError', 'Python int too large to convert to C ssize_t'));
});

test('insert clamps its index to the list, negative from the end', () => {
  const l = listOf(1, 2);
  call(l, 'insert', [100, 'end']);
  call(l, 'insert', [-100, 'start']);
  call(l, 'insert', [-1, 'before-last']);
  assert.deepEqual(l.snapshot(), ['start', 1, 2, 'before-last', 'end']);
  assert.throws(() => call(l, 'insert', ['a', 1]), pyError('TypeError', "'str' object cannot be interpreted as an integer"));
});

test('index finds the first equal item within start and stop', () => {
  const l = listOf(1, 2, 1, 2);
  assert.equal(call(l, 'index', [2]), 1);
  assert.equal(call(l, 'index', [2, 2]), 3);
  assert.equal(call(l, 'index', [1, -100, 100]), 0);
  assert.equal(call(l, 'index', [new Float(1), 1]), 2);
  assert.equal(call(l, 'index', [1, 0, 10n ** 30n]), 0);
});

test('index of a missing value raises ValueError "<repr> is not in list"', () => {
  const l = listOf(1, 2, 3);
  assert.throws(() => call(l, 'index', [77]), pyError('ValueError', '77 is not in list'));
  assert.throws(() => call(l, 'index', ['a']), pyError('ValueError', "'a' is not in list"));
  assert.throws(() => call(l, 'index', [1, 1, 2]), pyError('ValueError', '1 is not in list'));
  assert.throws(() => call(l, 'index', [1, new Float(0)]), pyError('TypeError', 'slice indices must be integers or have an __index__ method'));
});

test('remove deletes the first equal item, or raises "list.remove(x): x not in list"', () => {
  const l = listOf(1, 'a', 1);
  call(l, 'remove', [true]);
  assert.deepEqual(l.snapshot(), ['a', 1]);
  assert.throws(() => call(l, 'remove', [77]), pyError('ValueError', 'list.remove(x): x not in list'));
});

test('count and contains use Python equality (1 == 1.0 == True, a tuple is no list)', () => {
  const l = listOf(1, new Float(1), true, tuple(1), [1]);
  assert.equal(call(l, 'count', [1]), 3);
  assert.equal(call(l, 'count', [[1]]), 1);
  assert.equal(call(l, '__contains__', [tuple<unknown>(true)]), true);
  assert.equal(call(l, '__contains__', ['1']), false);
});

test('append, extend and reverse change the list in place and return None', () => {
  const l = listOf(1);
  assert.equal(call(l, 'append', [[2]]), undefined);
  assert.equal(call(l, 'extend', [tuple(3, 4)]), undefined);
  assert.equal(call(l, 'reverse'), undefined);
  assert.deepEqual(l.snapshot(), [4, 3, [2], 1]);
});

test('extend iterates as Python does: a str by characters, a dict by keys, bytes by ints', () => {
  const l = listOf();
  call(l, 'extend', ['ab']);
  call(l, 'extend', [{ x: 1 }]);
  call(l, 'extend', [Buffer.from('c')]);
  assert.deepEqual(l.snapshot(), ['a', 'b', 'x', 99]);
  assert.throws(() => call(l, 'extend', [5]), pyError('TypeError', "'int' object is not iterable"));
});

test('len counts the items', () => {
  assert.equal(call(listOf(1, 2, 3), '__len__'), 3);
});

test('sort orders numbers of any representation and strings, stably', () => {
  const l = listOf(3, new Float(1.5), true, 10n ** 20n, 0);
  call(l, 'sort');
  assert.deepEqual(l.snapshot(), [0, true, new Float(1.5), 3, 10n ** 20n]);
  const s = listOf('b', 'a', 'c');
  call(s, 'sort', [], { reverse: true });
  assert.deepEqual(s.snapshot(), ['c', 'b', 'a']);
});

test('sort with reverse keeps equal items in their original order', () => {
  const l = listOf(1, true, new Float(1), 0);
  call(l, 'sort', [], { reverse: true });
  assert.deepEqual(l.snapshot(), [1, true, new Float(1), 0]);
});

test('sort of unorderable items raises Python\'s TypeError and leaves the list as it was', () => {
  const l = listOf(1, 'a');
  assert.throws(() => call(l, 'sort'), pyError('TypeError', "'<' not supported between instances of 'str' and 'int'"));
  assert.deepEqual(l.snapshot(), [1, 'a']);
});

test('sort refuses positionals, unknown keywords and a key, which cannot cross the wire', () => {
  const l = listOf(2, 1);
  assert.throws(() => call(l, 'sort', [null]), pyError('TypeError', 'sort() takes no positional arguments'));
  assert.throws(() => call(l, 'sort', [], { foo: 1 }), pyError('TypeError', "'foo' is an invalid keyword argument for sort()"));
  assert.throws(() => call(l, 'sort', [], { key: 'len' }), (e: unknown) => e instanceof PyException && e.type === 'TypeError' && /key function cannot be sent/.test(e.message));
  assert.throws(() => call(l, 'sort', [], { reverse: 'yes' }), pyError('TypeError', "'str' object cannot be interpreted as an integer"));
  call(l, 'sort', [], { key: null });
  assert.deepEqual(l.snapshot(), [1, 2]);
});

test('__add__ returns a new list and accepts only a list', () => {
  const l = listOf(1, 2);
  assert.deepEqual(call(l, '__add__', [[3]]), [1, 2, 3]);
  assert.deepEqual(l.snapshot(), [1, 2]);
  assert.throws(() => call(l, '__add__', [tuple(3)]), pyError('TypeError', 'can only concatenate list (not "tuple") to list'));
  assert.throws(() => call(l, '__add__', [5]), pyError('TypeError', 'can only concatenate list (not "int") to list'));
});

test('__mul__ and __rmul__ return a new repeated list; a count of 0 or less gives []', () => {
  const l = listOf(1, 2);
  assert.deepEqual(call(l, '__mul__', [2]), [1, 2, 1, 2]);
  assert.deepEqual(call(l, '__rmul__', [true]), [1, 2]);
  assert.deepEqual(call(l, '__mul__', [-2]), []);
  assert.deepEqual(l.snapshot(), [1, 2]);
});

test('__mul__ by a non-int or a huge int raises Python\'s errors', () => {
  const l = listOf(1);
  assert.throws(() => call(l, '__mul__', ['a']), pyError('TypeError', "'str' object cannot be interpreted as an integer"));
  assert.throws(() => call(l, '__mul__', [new Float(2)]), pyError('TypeError', "'float' object cannot be interpreted as an integer"));
  assert.throws(() => call(l, '__mul__', [10n ** 30n]), pyError('OverflowError', "cannot fit 'int' into an index-sized integer"));
  assert.throws(() => call(l, '__mul__', [2 ** 40]), (e: unknown) => e instanceof PyException && e.type === 'MemoryError');
});

test('one repetition may not make more than MAX_REPEAT_ITEMS items: the manager stays up for everyone', () => {
  const l = listOf(0);
  assert.throws(() => call(l, '__mul__', [4294967295]), (e: unknown) => e instanceof PyException && e.type === 'MemoryError' && /more than 10,000,000 items/.test(e.message));
  assert.throws(() => call(l, '__imul__', [MAX_REPEAT_ITEMS + 1]), (e: unknown) => e instanceof PyException && e.type === 'MemoryError');
  assert.equal((call(l, '__mul__', [1000]) as unknown[]).length, 1000);
});

test('__iadd__ and __imul__ change the list in place and return None', () => {
  const l = listOf(1);
  assert.equal(call(l, '__iadd__', [tuple(2)]), null);
  assert.equal(call(l, '__imul__', [2]), null);
  assert.deepEqual(l.snapshot(), [1, 2, 1, 2]);
  call(l, '__imul__', [0]);
  assert.deepEqual(l.snapshot(), []);
});

test('list(...) takes one iterable, no keywords', () => {
  assert.deepEqual(createList([], {}).snapshot(), []);
  assert.deepEqual(createList(['ab'], {}).snapshot(), ['a', 'b']);
  assert.throws(() => createList([[], []], {}), pyError('TypeError', 'list expected at most 1 argument, got 2'));
  assert.throws(() => createList([], { iterable: [] }), pyError('TypeError', 'list() takes no keyword arguments'));
  assert.throws(() => createList([3], {}), pyError('TypeError', "'int' object is not iterable"));
});

test('list exposes ListProxy\'s methods with __iter__ and __reversed__, each with a signature', () => {
  for (const name of ['__iter__', '__reversed__']) assert.ok(List.exposed.includes(name), name);
  assert.equal(List.exposed.length, 23);
  for (const name of List.exposed) assert.ok(List.signatures[name], name);
  assert.deepEqual(List.methodToTypeid, { __iter__: 'Iterator', __reversed__: 'Iterator' });
});

// --- slices ($slice), iteration, repr and #GETVALUE ---


const slice = (start: unknown, stop: unknown, step: unknown = null) => new Slice(start, stop, step);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Every item an iterator gives until StopIteration (at most `limit`). */
test('a slice reads a new list, with Python\'s clamping, negative and huge bounds and steps', () => {
  const l = listOf(...range(10));
  assert.deepEqual(call(l, '__getitem__', [slice(null, null)]), range(10));
  assert.deepEqual(call(listOf(0, 1, 2, 3, 4), '__getitem__', [slice(2, 10)]), [2, 3, 4]);
  assert.deepEqual(call(l, '__getitem__', [slice(-3, null)]), [7, 8, 9]);
  assert.deepEqual(call(l, '__getitem__', [slice(null, null, -3)]), [9, 6, 3, 0]);
  assert.deepEqual(call(l, '__getitem__', [slice(8, 2, -2)]), [8, 6, 4]);
  assert.deepEqual(call(l, '__getitem__', [slice(-(2n ** 70n), 2n ** 70n, 2n ** 70n)]), [0]);
  assert.deepEqual(call(l, '__getitem__', [slice(null, null, -(2n ** 70n))]), [9]);
  assert.deepEqual(call(l, '__getitem__', [slice(true, 3)]), [1, 2]);
  assert.deepEqual(call(l, '__getitem__', [slice(5, 2)]), []);
  const copy = call(l, '__getitem__', [slice(null, null)]) as unknown[];
  copy.push('x');
  assert.equal(l.size, 10);
});

test('a zero step or a bound that is not an int raises Python\'s errors, for get, set and del', () => {
  const l = listOf(1, 2, 3);
  for (const [method, extra] of [['__getitem__', []], ['__setitem__', [[]]], ['__delitem__', []]] as const) {
    assert.throws(() => call(l, method, [slice(null, null, 0), ...extra]), pyError('ValueError', 'slice step cannot be zero'), method);
    assert.throws(() => call(l, method, [slice(new Float(1), null), ...extra]), pyError('TypeError', 'slice indices must be integers or None or have an __index__ method'), method);
  }
  // The step is read first, as CPython reads it.
  assert.throws(() => call(l, '__getitem__', [slice('a', null, 0)]), pyError('ValueError', 'slice step cannot be zero'));
  assert.deepEqual(l.snapshot(), [1, 2, 3]);
});

test('a step-1 slice assignment takes any iterable of any length', () => {
  const l = listOf(...range(10));
  call(l, '__setitem__', [slice(1, 3), 'ab']);
  assert.deepEqual(l.snapshot(), [0, 'a', 'b', 3, 4, 5, 6, 7, 8, 9]);
  call(l, '__setitem__', [slice(1, 3, 1), [7, 7, 7]]);
  assert.deepEqual(l.snapshot(), [0, 7, 7, 7, 3, 4, 5, 6, 7, 8, 9]);
  call(l, '__setitem__', [slice(0, 2), { a: 1 }]);
  assert.deepEqual(l.snapshot(), ['a', 7, 7, 3, 4, 5, 6, 7, 8, 9]);
  call(l, '__setitem__', [slice(1, null), []]);
  assert.deepEqual(l.snapshot(), ['a']);
  call(l, '__setitem__', [slice(5, 0), [1, 2]]);
  assert.deepEqual(l.snapshot(), ['a', 1, 2]);
});

test('an extended slice assignment takes exactly as many items as it selects', () => {
  const l = listOf(...range(10));
  call(l, '__setitem__', [slice(null, null, -2), 'abcde']);
  assert.deepEqual(l.snapshot(), [0, 'e', 2, 'd', 4, 'c', 6, 'b', 8, 'a']);
  assert.throws(() => call(l, '__setitem__', [slice(null, null, 2), [1, 2]]), pyError('ValueError', 'attempt to assign sequence of size 2 to extended slice of size 5'));
  // Unlike array.array, a list refuses to delete through an empty extended assignment.
  assert.throws(() => call(l, '__setitem__', [slice(null, null, 2), []]), pyError('ValueError', 'attempt to assign sequence of size 0 to extended slice of size 5'));
  assert.throws(() => call(l, '__setitem__', [slice(1, 3), 5]), pyError('TypeError', 'must assign iterable to extended slice'));
  assert.deepEqual(l.snapshot(), [0, 'e', 2, 'd', 4, 'c', 6, 'b', 8, 'a']);
});

test('l[::-1] = l reads the list as it was (the list, by proxy, is itself)', () => {
  const l = listOf(...range(5));
  call(l, '__setitem__', [slice(null, null, -1), SharedRef.of(l)]);
  assert.deepEqual(l.snapshot(), [4, 3, 2, 1, 0]);
  call(l, '__setitem__', [slice(0, 0), SharedRef.of(l)]);
  assert.deepEqual(l.snapshot(), [4, 3, 2, 1, 0, 4, 3, 2, 1, 0]);
});

test('del of a slice removes what it selects, in any direction', () => {
  const a = listOf(...range(10));
  call(a, '__delitem__', [slice(2, -2)]);
  assert.deepEqual(a.snapshot(), [0, 1, 8, 9]);
  const b = listOf(...range(10));
  call(b, '__delitem__', [slice(null, null, -3)]);
  assert.deepEqual(b.snapshot(), [1, 2, 4, 5, 7, 8]);
  const c = listOf(...range(4));
  call(c, '__delitem__', [slice(3, 1)]);
  assert.deepEqual(c.snapshot(), [0, 1, 2, 3]);
});

test('the steps of CPython\'s test_list, through the methods ListProxy calls', () => {
  const b = listOf();
  call(b, 'extend', [range(5)]);
  assert.deepEqual(call(b, '__getitem__', [slice(null, null)]), range(5));
  assert.equal(call(b, '__getitem__', [2]), 2);
  assert.deepEqual(call(b, '__getitem__', [slice(2, 10)]), [2, 3, 4]);
  call(b, '__imul__', [2]);
  assert.deepEqual(call(b, '__getitem__', [slice(null, null)]), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  assert.deepEqual(call(b, '__add__', [[5, 6]]), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]);
  // A shared list given by proxy is a list to add and to extend with.
  const a = listOf('x');
  assert.deepEqual(call(a, '__add__', [SharedRef.of(listOf('y'))]), ['x', 'y']);
  call(a, 'extend', [SharedRef.of(listOf('z'))]);
  assert.deepEqual(a.snapshot(), ['x', 'z']);
});

test('__iter__ gives a live Iterator by index: exhausted for good, and changes show (test_list_iter)', () => {
  const a = listOf(...range(10));
  const it = call(a, '__iter__');
  assert.ok(it instanceof PyIterator);
  assert.deepEqual(drain(it), range(10));
  assert.deepEqual(drain(it), []);
  const again = call(a, '__iter__');
  call(a, '__setitem__', [0, 100]);
  assert.equal(call(again as object, '__next__'), 100);
  call(a, 'append', ['late']);
  assert.equal(drain(again).at(-1), 'late');
});

test('__reversed__ gives the items from the last, ending early when the list shrinks below it', () => {
  const a = listOf(1, 2, 3, 4);
  assert.deepEqual(drain(call(a, '__reversed__')), [4, 3, 2, 1]);
  const it = call(a, '__reversed__') as object;
  assert.equal(call(it, '__next__'), 4);
  call(a, 'pop');
  call(a, 'pop');
  // Index 2 is gone: Python's list_reverseiterator stops rather than skipping ahead.
  assert.deepEqual(drain(it), []);
  assert.deepEqual(drain(call(listOf(), '__reversed__')), []);
});

test('#GETVALUE gives a copy of the items and repr is Python\'s', () => {
  const l = listOf(1, 'a', tuple(2), new Float(3));
  const value = callFallback(l, '#GETVALUE') as unknown[];
  assert.deepEqual(value, [1, 'a', tuple(2), new Float(3)]);
  value.push('x');
  assert.equal(l.size, 4);
  assert.equal(callFallback(l, '__repr__'), "[1, 'a', (2,), 3.0]");
  const self = listOf();
  call(self, 'append', [SharedRef.of(self)]);
  assert.match(callFallback(self, '__str__') as string, /^\[<proxy of list object at 0x[0-9a-f]+>\]$/);
});

test('clear empties the list and copy gives its items, as Python 3.14 ListProxy calls them', () => {
  const l = createList([[1, 2, 3]], {});
  const copy = call(l, 'copy') as unknown[];
  assert.deepEqual(copy, [1, 2, 3]);
  assert.equal(call(l, 'clear'), undefined);
  assert.equal(call(l, '__len__'), 0);
  assert.deepEqual(copy, [1, 2, 3], 'the copy is the items of the time, not a view');
});
