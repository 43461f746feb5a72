/**
 * The tutorial's shared list: our manager serves `get_my_list` (a list with only `append`, `pop`
 * and `__len__` exposed, as the tutorial's `register(..., exposed=[...])`), and
 * `examples/python/shared_list_worker.py` starts five worker processes at once, each appending one
 * line through Python's own BaseManager. Afterwards the list holds the five lines, read by the
 * TypeScript client and then by a Python reader through the exposed `pop`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type ListProxy } from '../../src/client';
import { startManager } from '../helpers/manager';
import { assertExitedCleanly, example, pythonAddressLiteral, pythonEnv, requirePythons, runPython } from './helpers';

const AUTHKEY = 'abracadabra';
const WORKERS = 5;

const expectedItems = Array.from({ length: WORKERS }, (_, i) => `Result from worker ${i}`);

test("the tutorial's shared list: five Python workers at once, for every Python", async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 60_000 }, async () => {
      await using manager = await startManager({ authkey: AUTHKEY }, (m) => {
        m.register('get_my_list', { shared: 'list', exposed: ['append', 'pop', '__len__'] });
      });
      // A little simulated work (the tutorial's sleep) so the five overlap; nothing waits on it.
      const env = pythonEnv(manager.address, AUTHKEY, { SHARED_LIST_WORK_SECONDS: '0.2' });
      const result = await runPython(py, example('shared_list_worker.py'), [], env, 45_000);
      assertExitedCleanly(result, 'shared_list_worker.py');

      const lines = result.stdout.split('\n').filter(Boolean);
      assert.equal(lines.at(-1), 'All workers finished.');
      for (let i = 0; i < WORKERS; i++) {
        const connected = lines.find((l) => l.startsWith(`Worker ${i}: Connected.`));
        const appended = lines.find((l) => l.startsWith(`Worker ${i}: Appended item.`));
        assert.match(connected ?? '', /^Worker \d: Connected\. Current list length: [0-4]$/, result.stdout);
        assert.match(appended ?? '', /^Worker \d: Appended item\. New list length: [1-5]$/, result.stdout);
      }
      // The last append saw all five.
      assert.ok(lines.some((l) => / New list length: 5$/.test(l)), result.stdout);

      // The TypeScript side reads the same list.
      await using client = await connect<{ get_my_list: ListProxy<string> }>({ address: manager.address, authkey: AUTHKEY, name: 'shared-list-check' });
      const list = await client.get_my_list();
      const items = (await list.getValue()) as string[];
      assert.equal(items.length, WORKERS);
      assert.deepEqual([...items].sort(), expectedItems);
      assert.equal(await client.callById(list.id, '__len__'), WORKERS);

      // A Python reader takes them back through the exposed pop(), and the list ends empty.
      const reader = `
from __future__ import print_function
import sys
from multiprocessing.managers import BaseManager
class M(BaseManager): pass
M.register('get_my_list')
m = M(address=${pythonAddressLiteral(manager.address)}, authkey=${JSON.stringify(AUTHKEY)}.encode())
m.connect()
l = m.get_my_list()
print(len(l))
items = sorted(l.pop() for _ in range(len(l)))
print('|'.join(items))
print(len(l))
try:
    l.insert(0, 'x')
    print('insert allowed')
except Exception as e:
    print('refused', type(e).__name__)
`;
      const read = await runPython(py, ['-c', reader], [], env);
      assertExitedCleanly(read, 'the Python reader');
      const [before, popped, after, insert] = read.stdout.split('\n');
      assert.equal(before, String(WORKERS));
      assert.equal(popped, expectedItems.join('|'));
      assert.equal(after, '0');
      // insert is not exposed: the proxy (built from the server's exposed list) has no such method.
      assert.equal(insert, 'refused AttributeError');
      assert.deepEqual(await list.getValue(), []);
    });
  }
});
