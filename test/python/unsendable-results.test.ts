/**
 * An unmodified Python client whose call takes an item the manager cannot send back (larger than
 * the message limit, or a value of another language) gets a clear error, and the item stays where
 * it was: in the list at its index, in the dict under its key, at the front of the queue. For
 * every Python.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameMessage } from '../../src/common/framing';
import { AUTHKEY, RawClient, startManager } from '../helpers/manager';
import { assertExitedCleanly, fixture, pythonEnv, requirePythons, runPython } from './helpers';

/** 10,000 floats: 60 kB as JSON, 90 kB pickled, so it arrives under a 64 KiB limit and cannot go back. */
const BIG = `[${Array(10_000).fill('1e300').join(',')}]`;
/** A value only a Ruby client could read: no pickle can carry it. */
const RUBY = '{"$opaque":{"lang":"ruby","type":"Thing","data":"AA=="}}';

test('a Python pop or get whose result cannot be sent leaves the item where it was, with a clear error', async (t) => {
  for (const py of requirePythons()) {
    await t.test(py.label, { timeout: 30_000 }, async () => {
      await using manager = await startManager({ maxMessageBytes: 64 * 1024 }, (m) => {
        m.register('get_list', { shared: 'list' }).register('get_dict', { shared: 'dict' }).register('get_queue', { shared: 'Queue' });
      });
      const c = await RawClient.open(manager.address);
      const fill = async (typeid: string, method: string, args: string) => {
        const { id } = (await c.request('object/create', { typeid })).result;
        c.sendRaw(frameMessage(`{"jsonrpc":"2.0","id":"fill","method":"object/call","params":{"id":${JSON.stringify(id)},"method":"${method}","args":[${args}]}}`));
        assert.equal((await c.next()).error, undefined, `${typeid}.${method}`);
      };
      await fill('get_list', 'extend', `["a",${BIG},${RUBY},"d"]`);
      await fill('get_dict', 'update', `{"$dict":[["a",1],["big",${BIG}],["ruby",${RUBY}]]}`);
      await fill('get_queue', 'put', BIG);
      c.close();

      const result = await runPython(py, fixture('unsendable_pops.py'), [], pythonEnv(manager.address, AUTHKEY));
      assertExitedCleanly(result, 'unsendable_pops.py');
      const lines = result.stdout.trim().split('\n');
      const tooLarge = /raised RemoteError .*exceeds the message limit of 65536 bytes and was not sent; what the call took was given back/;
      const unsendable = /raised RemoteError .*cannot pickle an opaque value of language "ruby".*what the call took was given back/;
      assert.match(lines[0], /^list\.pop\(1\) /, result.stdout);
      assert.match(lines[0], tooLarge);
      assert.match(lines[1], unsendable);
      assert.equal(lines[2], 'list 4 a d', 'the list holds its four items');
      assert.match(lines[3], tooLarge);
      assert.match(lines[4], unsendable);
      assert.equal(lines[5], 'dict a big ruby', 'the dict holds its keys, in order');
      assert.match(lines[6], tooLarge);
      assert.equal(lines[7], 'queue 1');
      assert.match(lines[8], tooLarge);
      assert.equal(lines[9], 'queue 1');
    });
  }
});
