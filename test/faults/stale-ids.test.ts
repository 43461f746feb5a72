/**
 * Object ids are unique across server runs: a reference kept from before a restart names no
 * object of the new server, so it fails with a clear unknown-object error (JSON-RPC's
 * UnknownObject; for an unmodified CPython client, RemoteError) instead of reaching another
 * object that happens to have the same number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../src/common/errorCodes';
import { RawClient, createOver, startManager } from '../helpers/manager';
import { pythonAddressLiteral, python3s, runPython } from '../python/helpers';

/** The ids of the first two objects a fresh manager makes. */
async function firstIds(): Promise<{ ids: string[]; manager: Awaited<ReturnType<typeof startManager>>; client: RawClient }> {
  const manager = await startManager();
  const client = await RawClient.open(manager.address);
  const ids = [(await createOver(client, 'Queue')).id, (await createOver(client, 'Queue')).id];
  return { ids, manager, client };
}

test('two server runs hand out different ids, and an id of the first run is an unknown object to the second, in both protocols', async () => {
  const before = await firstIds();
  before.client.close();
  await before.manager.shutdown();
  const after = await firstIds();
  try {
    for (const id of before.ids) assert.ok(!after.ids.includes(id), `id ${id} of the first run came again`);
    await after.client.request('object/call', { id: after.ids[1], method: 'put', args: ['new'] });
    const stale = await after.client.request('object/call', { id: before.ids[1], method: 'get_nowait' });
    assert.equal(stale.error?.code, ErrorCodes.UnknownObject, JSON.stringify(stale));

    const python = python3s().at(-1);
    assert.ok(python, 'a CPython 3 is needed');
    const script = [
      'from multiprocessing.managers import BaseManager, BaseProxy, RemoteError, Token',
      'import sys',
      `address = ${pythonAddressLiteral(after.manager.address)}`,
      "class QueueProxy(BaseProxy):\n    def get_nowait(self):\n        return self._callmethod('get_nowait')",
      "m = BaseManager(address=address, authkey=b'test-key'); m.connect()",
      `stale = Token('Queue', address, ${JSON.stringify(before.ids[1])})`,
      'try:',
      "    print('got', QueueProxy(stale, 'pickle', manager=m, authkey=b'test-key', incref=False).get_nowait())",
      'except RemoteError as e:',
      "    print('RemoteError', str(e).replace(chr(10), ' '))",
    ].join('\n');
    const result = await runPython(python, ['-c', script], [], { ...process.env, PYTHONDONTWRITEBYTECODE: '1' });
    assert.match(result.stdout, /^RemoteError .*no such object/m, `${result.stdout}\n${result.stderr}`);
    assert.equal((await after.client.request('object/call', { id: after.ids[1], method: 'qsize' })).result, 1, 'the new object was not touched');
  } finally {
    after.client.close();
    await after.manager.shutdown();
  }
});
