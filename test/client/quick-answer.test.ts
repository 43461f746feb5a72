import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readQuickResult, type QuickResult } from '../../src/client/quickAnswer';

const texts = [
  '{"jsonrpc":"2.0","id":7,"result":null}',
  '{"jsonrpc":"2.0","id":0,"result":true}',
  '{"jsonrpc":"2.0","id":123456789012345,"result":false}',
  '{"jsonrpc":"2.0","id":12,"result":0}',
  '{"jsonrpc":"2.0","id":12,"result":-17}',
  '{"jsonrpc":"2.0","id":12,"result":999999999999999}',
  '{"jsonrpc":"2.0","id":12,"result":9007199254740993}',
  '{"jsonrpc":"2.0","id":12,"result":-0}',
  '{"jsonrpc":"2.0","id":12,"result":1.5}',
  '{"jsonrpc":"2.0","id":12,"result":1e3}',
  '{"jsonrpc":"2.0","id":12,"result":"a}b"}',
  '{"jsonrpc":"2.0","id":12,"result":{"$tuple":[1,2]}}',
  '{"jsonrpc":"2.0","id":12,"result":[1,{"__proto__":2}]}',
  '{"jsonrpc":"2.0","id":12,"result": 5 }',
  // Not in the manager's own form, or not valid: left to the full parse.
  '{"jsonrpc":"2.0","id":12,"result":1,"result":2}',
  '{"jsonrpc":"2.0","id":12,"result":1,"extra":{}}',
  '{"jsonrpc":"2.0","id":12,"result":"x","error":{"code":1}}',
  '{"jsonrpc":"2.0","id":"12","result":1}',
  '{"jsonrpc":"2.0","id":012,"result":1}',
  '{"jsonrpc":"2.0","id":1234567890123456,"result":1}',
  '{"jsonrpc":"2.0","id":-1,"result":1}',
  '{"jsonrpc":"2.0","id":1.5,"result":1}',
  '{"jsonrpc":"2.0","id":12,"result":01}',
  '{"jsonrpc":"2.0","id":12,"result":-}',
  '{"jsonrpc":"2.0","id":12,"result":}',
  '{"jsonrpc":"2.0","id":12,"result":nul}',
  '{"jsonrpc":"2.0","id":12,"error":{"code":-32601,"message":"no"}}',
  '{"jsonrpc":"2.0","id":12,"result":1} ',
  '{"jsonrpc":"2.0","method":"$/x","params":{}}',
  '{"jsonrpc":"2.0","id":12}',
  '',
];

test('a result in the manager\'s own form is read as JSON.parse reads it; anything else is left to JSON.parse', () => {
  for (const text of texts) {
    const out: QuickResult = { id: -1, result: undefined };
    if (!readQuickResult(text, out)) continue;
    const parsed = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), ['jsonrpc', 'id', 'result'], text);
    assert.ok(Object.is(out.id, parsed.id), text);
    assert.deepEqual(out.result, parsed.result, text);
    if (typeof parsed.result === 'number') assert.ok(Object.is(out.result, parsed.result), text);
  }
  const read = texts.filter((text) => readQuickResult(text, { id: -1, result: undefined }));
  assert.deepEqual(read, texts.slice(0, 14));
});
