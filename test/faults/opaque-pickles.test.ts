/**
 * `syncmanager serve --no-opaque-pickles`: a client holding the key cannot store a pickle of a
 * class the server does not read (code that the Python consumers loading it would run). Python's
 * own clients and JSON clients are refused alike with a clear error, plain values still pass, and
 * without the flag such objects are stored and handed back as they came.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/common/errorCodes';
import { RawClient, createOver } from '../helpers/manager';
import { assertExitedCleanly, fixture, pythonEnv, python2, python3s, requirePythons, runPython, type PythonInstall } from '../python/helpers';
import { serveBounded } from './boundedServer';

const KEY = 'opaque-key';
/** `fractions.Fraction(1, 3)` as Python 3 pickles it (protocol 2). */
const FRACTION = 'gAJjZnJhY3Rpb25zCkZyYWN0aW9uCnEASwFLA4ZxAVJxAi4=';
/** `datetime.datetime(2026, 12, 7, 17, 40)` as Python 3 pickles it (protocol 2). */
const DATETIME = 'gAJjZGF0ZXRpbWUKZGF0ZXRpbWUKcQBjX2NvZGVjcwplbmNvZGUKcQFYCwAAAAfDqgwHESgAAAAAcQJYBgAAAGxhdGluMXEDhnEEUnEFhXEGUnEHLg==';
/** `os.system('true')` (`posix.system`) as Python 3 pickles an object whose `__reduce__` returns it. */
const SYSTEM_CALL = 'gAJjcG9zaXgKc3lzdGVtCnEAWAQAAAB0cnVlcQGFcQJScQMu';
/** `OrderedDict([('x', Fraction(1, 3))])` as Python 3 pickles it (protocol 2). */
const ORDERED_DICT_OF_FRACTION = 'gAJjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcQApUnEBWAEAAAB4cQJjZnJhY3Rpb25zCkZyYWN0aW9uCnEDSwFLA4ZxBFJxBXMu';

/** Runs the fixture `script` with CPython 2.7 and the newest 3 against `server`, each a subtest checking its output's lines. */
async function withEachPython(t: TestContext, server: { address: string }, script: string, check: (lines: string[], py: PythonInstall, stdout: string) => void): Promise<void> {
  const env = pythonEnv(server.address, KEY);
  for (const py of [python2(), python3s().at(-1)]) {
    if (!py) continue;
    await t.test(py.label, async () => {
      const result = await runPython(py, fixture(script), [], env);
      assertExitedCleanly(result, script);
      check(result.stdout.trim().split('\n'), py, result.stdout);
    });
  }
}

test('--no-opaque-pickles refuses pickles of unknown classes from Python and JSON clients, and stores plain values', async (t) => {
  requirePythons();
  await using server = await serveBounded(KEY, ['--register', 'get_queue=Queue', '--no-opaque-pickles']);
  await withEachPython(t, server, 'opaque_put.py', (lines, _py, stdout) => {
    assert.equal(lines[0], 'plain stored');
    assert.match(lines[1], /^Fraction raised RemoteError UnpicklingError: .*fractions\.Fraction.*--no-opaque-pickles/, stdout);
    assert.match(lines[2], /^inside raised RemoteError UnpicklingError: .*fractions\.Fraction/, stdout);
  });
  const raw = await RawClient.open(server.address, { authkey: KEY });
  const queue = await createOver(raw, 'get_queue');
  const refused = await raw.request('object/call', { id: queue.id, method: 'put', args: [[1, { $opaque: { lang: 'python', type: 'fractions.Fraction', data: FRACTION } }]] });
  assert.equal(refused.error?.code, ErrorCodes.InvalidValue, JSON.stringify(refused));
  assert.match(refused.error.message, /fractions\.Fraction.*--no-opaque-pickles/);
  const ruby = await raw.request('object/call', { id: queue.id, method: 'put', args: [{ $opaque: { lang: 'ruby', type: 'Thing', data: 'AA==' } }] });
  assert.equal(ruby.error, undefined, 'a value of another language is no pickle: it is stored');
  const expected = [python2(), python3s().at(-1)].filter(Boolean).length + 1;
  assert.equal((await raw.request('object/call', { id: queue.id, method: 'qsize' })).result, expected, 'only the plain values and the Ruby value were stored');
  raw.close();
  assert.ok(server.alive());
});

test('--no-opaque-pickles stores the harmless standard library values (OrderedDict, datetime, Decimal) and hands them back, refusing what they hold that is not', async (t) => {
  requirePythons();
  await using server = await serveBounded(KEY, ['--register', 'get_queue=Queue', '--no-opaque-pickles']);
  await withEachPython(t, server, 'stdlib_put.py', (lines, py, stdout) => {
    const names = ['OrderedDict', 'date', 'time', 'datetime', 'timedelta', 'Decimal', ...(py === python2() ? [] : ['aware datetime'])];
    assert.deepEqual(lines.slice(0, 2 * names.length), names.flatMap((name) => [`${name} stored`, `${name} came back`]), stdout);
    assert.match(lines[2 * names.length], /^Fraction inside raised RemoteError UnpicklingError: .*fractions\.Fraction.*--no-opaque-pickles/, stdout);
    assert.equal(lines[2 * names.length + 1], 'size 0');
  });
  // A JSON client's `$opaque` is judged by the globals its pickle holds, not by the class it claims.
  const raw = await RawClient.open(server.address, { authkey: KEY });
  const queue = await createOver(raw, 'get_queue');
  const put = (type: string, data: string) => raw.request('object/call', { id: queue.id, method: 'put', args: [{ $opaque: { lang: 'python', type, data } }] });
  assert.equal((await put('datetime.datetime', DATETIME)).error, undefined, 'a datetime is stored');
  const disguised = await put('decimal.Decimal', SYSTEM_CALL);
  assert.equal(disguised.error?.code, ErrorCodes.InvalidValue, JSON.stringify(disguised));
  assert.match(disguised.error.message, /posix\.system.*--no-opaque-pickles/);
  const inside = await put('collections.OrderedDict', ORDERED_DICT_OF_FRACTION);
  assert.match(inside.error?.message ?? '', /fractions\.Fraction.*--no-opaque-pickles/, JSON.stringify(inside));
  const unreadable = await put('decimal.Decimal', Buffer.from('not a pickle').toString('base64'));
  assert.match(unreadable.error?.message ?? '', /decimal\.Decimal.*--no-opaque-pickles/, JSON.stringify(unreadable));
  assert.equal((await raw.request('object/call', { id: queue.id, method: 'qsize' })).result, 1, 'only the datetime was stored');
  raw.close();
  assert.ok(server.alive());
});

test('without --no-opaque-pickles, a Fraction is stored and comes back as it was', async () => {
  const py = python3s().at(-1);
  if (!py) return;
  await using server = await serveBounded(KEY, ['--register', 'get_queue=Queue']);
  const result = await runPython(py, fixture('opaque_put.py'), [], pythonEnv(server.address, KEY));
  assertExitedCleanly(result, 'opaque_put.py');
  assert.deepEqual(result.stdout.trim().split('\n'), ['plain stored', 'Fraction stored', 'inside stored', 'size 3']);
});
