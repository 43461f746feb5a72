/**
 * What reading one message may hold (4 times its bytes plus 64 KiB, SPEC §19), where a value cannot
 * be kept encoded: a dense list holding a proxy is built whole, counted as it is built, and refused
 * past the rule with an error naming it; the connection and the server go on serving, other
 * clients alike. The same dense values without the proxy, many proxies, and ordinary lists of records
 * (beside a proxy, or whose first key starts with `$`) are stored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import { ErrorCodes } from '../../src/common/errorCodes';
import { READ_BYTES_PER_MESSAGE } from '../../src/server/limits';
import { RawClient, createOver } from '../helpers/manager';
import { assertExitedCleanly, fixture, pythonEnv, python2, python3s, requirePythons, runPython } from '../python/helpers';
import { serveBounded } from './boundedServer';

const KEY = 'read-budget-key';
const RULE = new RegExp(`more than 4 times its \\d+ bytes plus ${READ_BYTES_PER_MESSAGE}`);

test('a dense value holding a proxy is refused naming the rule, from JSON and unmodified Python clients, and the server goes on', async (t) => {
  requirePythons();
  await using server = await serveBounded(KEY, ['--register', 'get_queue=Queue', '--register', 'jobs=Queue'], 512);
  const env = pythonEnv(server.address, KEY);
  for (const py of [python2(), python3s().at(-1)]) {
    if (!py) continue;
    await t.test(py.label, async () => {
      const result = await runPython(py, fixture('dense_put.py'), [], env, 60_000);
      assertExitedCleanly(result, 'dense_put.py');
      const lines = result.stdout.trim().split('\n');
      assert.match(lines[0], /^proxy among dicts raised RemoteError UnpicklingError: .*more than 4 times its \d+ bytes plus 65536/, result.stdout);
      assert.deepEqual(lines.slice(1), ['dicts stored', 'proxies stored', 'size 2'], result.stdout);
      const raw = await RawClient.open(server.address, { authkey: KEY });
      const queue = await createOver(raw, 'get_queue');
      for (let i = 0; i < 2; i++) await raw.request('object/call', { id: queue.id, method: 'get_nowait' });
      raw.close();
    });
  }

  const raw = await RawClient.open(server.address, { authkey: KEY });
  const queue = await createOver(raw, 'get_queue');
  const proxy = `{"$proxy":{"id":${JSON.stringify(queue.id)},"typeid":"Queue","exposed":[]}}`;
  const body = `{"jsonrpc":"2.0","id":41,"method":"object/call","params":{"id":${JSON.stringify(queue.id)},"method":"put","args":[[${proxy},${Array(45_000).fill('{}').join(',')}]]}}`;
  const refused = await raw.request('object/call', { id: queue.id, method: 'qsize' }).then(() => {
    raw.sendRaw(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return raw.next(30_000);
  });
  assert.equal(refused.id, 41, JSON.stringify(refused).slice(0, 500));
  assert.equal(refused.error?.code, ErrorCodes.MessageTooLarge, JSON.stringify(refused).slice(0, 500));
  assert.match(refused.error.message, RULE);
  assert.match(refused.error.message, new RegExp(`its ${Buffer.byteLength(body)} bytes`));
  // The same connection goes on.
  assert.equal((await raw.request('object/call', { id: queue.id, method: 'qsize' })).result, 0, 'nothing was put');
  raw.close();

  // Ordinary lists of records, from an unmodified Python client: stored and got back.
  for (const py of [python2(), python3s().at(-1)]) {
    if (!py) continue;
    await t.test(`${py.label}: records`, async () => {
      const result = await runPython(py, fixture('records_put.py'), [], env, 60_000);
      assertExitedCleanly(result, 'records_put.py');
      // The proxy read back answers qsize: the second list is still in the queue then.
      assert.deepEqual(result.stdout.trim().split('\n'), ['proxy and records stored', 'dollar records stored', 'got 10001 1 True True', 'got 10000 True True', 'size 0'], result.stdout);
    });
  }

  const client = await connect<{ jobs: QueueProxy<number> }>({ address: server.address, authkey: KEY });
  const jobs = await client.jobs();
  await jobs.put(5);
  assert.equal(await jobs.get(), 5);
  await client.close();
  assert.ok(server.alive());
});
