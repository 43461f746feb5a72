/**
 * Smaller defects: a NaN timeout on a call that must wait is Python's ValueError (not a wait
 * forever), in both protocols; the fallback methods answer with an explicitly empty argument list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/common/errorCodes';
import { RawClient, createOver, startManager } from '../helpers/manager';
import { pythonAddressLiteral, python3s, runPython } from '../python/helpers';

const NAN = { $float: 'nan' };

test('get(timeout=nan) on an empty queue and put(timeout=nan) on a full one raise ValueError, over JSON-RPC and from a CPython client', async () => {
  await using manager = await startManager({}, (m) => m.register('jobs', { shared: 'Queue' }));
  const c = await RawClient.open(manager.address);
  const empty = await createOver(c, 'Queue');
  const got = await c.request('object/call', { id: empty.id, method: 'get', kwargs: { timeout: NAN } });
  assert.equal(got.error?.code, ErrorCodes.RemoteException, JSON.stringify(got));
  assert.equal(got.error.data.type, 'ValueError');
  assert.match(got.error.data.message, /NaN/);
  const full = await createOver(c, 'Queue', [1]);
  await c.request('object/call', { id: full.id, method: 'put', args: [1] });
  const put = await c.request('object/call', { id: full.id, method: 'put', args: [2], kwargs: { timeout: NAN } });
  assert.equal(put.error?.data?.type, 'ValueError', JSON.stringify(put));
  c.close();

  const python = python3s().at(-1);
  assert.ok(python, 'a CPython 3 is needed');
  const script = [
    'from multiprocessing.managers import BaseManager',
    "class M(BaseManager): pass",
    "M.register('jobs')",
    `m = M(address=${pythonAddressLiteral(manager.address)}, authkey=b'test-key'); m.connect()`,
    'q = m.jobs()',
    'try:',
    "    q.get(timeout=float('nan'))",
    "    print('returned')",
    'except ValueError as e:',
    "    print('ValueError', e)",
  ].join('\n');
  const result = await runPython(python, ['-c', script], [], { ...process.env, PYTHONDONTWRITEBYTECODE: '1' });
  assert.match(result.stdout, /^ValueError .*NaN/m, `${result.stdout}\n${result.stderr}`);
});

test('__repr__ and #GETVALUE answer with args [] and kwargs {} given explicitly, as without them', async () => {
  await using manager = await startManager();
  const c = await RawClient.open(manager.address);
  const list = await createOver(c, 'list', [[1, 2]]);
  for (const params of [{ args: [] }, { kwargs: {} }, { args: [], kwargs: {} }]) {
    const repr = await c.request('object/call', { id: list.id, method: '__repr__', ...params });
    assert.equal(repr.result, '[1, 2]', JSON.stringify(repr));
    const value = await c.request('object/call', { id: list.id, method: '#GETVALUE', ...params });
    assert.deepEqual(value.result, [1, 2], JSON.stringify(value));
  }
  c.close();
});
