import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallTextWriter } from '../../src/client/callText';
import { encodeValue } from '../../src/common/valueCodec';
import { writeJson } from '../../src/common/jsonText';
import { tuple } from '../../src/common/valueTypes';


test('call params written as text read back as the params object JSON.stringify wrote, and their byte count is exact', () => {
  const writer = new CallTextWriter({});
  const tokens = [
    { id: '3', typeid: 'Queue', exposed: [] },
    { id: 'obj-ü', typeid: 'x', exposed: [] },
  ];
  const cases: { method: string; args: unknown[]; kwargs?: Record<string, unknown>; ack?: { visibilityTimeout?: number } }[] = [
    { method: 'put', args: [5] },
    { method: 'put', args: [-5.25] },
    { method: 'put', args: [-0] },
    { method: 'put', args: [2 ** 60] },
    { method: 'put', args: [NaN] },
    { method: 'put', args: ['héllo "quoted" \u2028 😀'] },
    { method: 'put', args: [true] },
    { method: 'put', args: [null] },
    { method: 'put', args: [undefined] },
    { method: 'put', args: [1n] },
    { method: 'put', args: [{ a: 'ß' }, tuple(1, 2), new Uint8Array([1, 2])] },
    { method: 'get', args: [], kwargs: { block: false, timeout: 0.5 } },
    { method: 'get', args: [], kwargs: { name: 'ñ' }, ack: { visibilityTimeout: 3 } },
    { method: 'get', args: [], ack: {} },
    { method: 'méthode', args: ['x'.repeat(100) + 'é'] },
  ];
  for (const token of tokens) {
    for (const c of cases) {
      const text = writer.write(token, c.method, c.args, c.kwargs, c.ack, undefined);
      assert.equal(writer.bytes, Buffer.byteLength(text), text);
      const params: Record<string, unknown> = { id: token.id, method: c.method };
      if (c.args.length) params.args = encodeValue(c.args);
      if (c.kwargs) params.kwargs = encodeValue(c.kwargs);
      if (c.ack) {
        params.ack = true;
        if (c.ack.visibilityTimeout !== undefined) params.visibilityTimeout = c.ack.visibilityTimeout;
      }
      assert.deepEqual(JSON.parse(text), JSON.parse(writeJson(params)), text);
    }
  }
  // A negative zero keeps its sign (SPEC 11.3), as writeJson writes it.
  assert.match(writer.write(tokens[0], 'put', [-0], undefined, undefined, undefined), /"args":\[\{"\$float":-0\.0\}\]/);
});
