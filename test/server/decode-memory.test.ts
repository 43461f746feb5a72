/**
 * What reading one message costs in memory, counted in bytes of V8 heap held (after a full
 * collection) while the decoded request is alive: at most 4 times its bytes plus a fixed
 * allowance per message ({@link READ_BYTES_PER_MESSAGE}), however many values it holds, since a
 * dense argument (`[{}, {}, …]`) is kept encoded, as JSON text or as a pickle of its own (SPEC
 * §19). The README's "Limits" shows the figures. This file runs in a process of its own (node's
 * test runner), so nothing else fills the heap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decodeValue } from '../../src/common/valueCodec';
import { exceedsJsonValues } from '../../src/server/jsonValueCount';
import { DEFAULT_MAX_MESSAGE_VALUES, READ_BYTES_PER_MESSAGE } from '../../src/server/limits';
import { readMessage } from '../../src/server/jsonrpc/messageChecks';
import { readAnyRequest } from '../../src/server/python/generalRequestReader';
import type { PythonRequest } from '../../src/server/python/requestReader';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap bytes in use after full collections, with the bytes of buffers outside the heap (an argument kept as a pickle is one). */
function heapHeld(): number {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/** The most a message of `bytes` bytes may hold while it is read, however many values it has. */
const allowed = (bytes: number) => 4 * bytes + READ_BYTES_PER_MESSAGE;

const N = DEFAULT_MAX_MESSAGE_VALUES - 1_000;

/** A protocol 2 pickle of the request `(None, 'put', ([item] * n,), {})`, item given as its opcodes. */
function pickledPut(item: string, n: number): Buffer {
  return Buffer.concat([Buffer.from('\x80\x02(NX\x03\x00\x00\x00put](', 'latin1'), Buffer.from(item.repeat(n), 'latin1'), Buffer.from('e\x85}t.', 'latin1')]);
}

// The readers run once before anything is measured: the first test would otherwise count the
// code V8 compiles and optimises for them (a varying amount, more on a busy machine).
readAnyRequest(pickledPut('}', N), { maxMessageValues: DEFAULT_MAX_MESSAGE_VALUES, opaquePickles: true }, () => assert.fail('no proxies here'), 'py3');
readMessage(`{"jsonrpc":"2.0","id":1,"method":"object/call","params":{"id":"1","method":"put","args":[[${Array(N / 2).fill('{}').join(',')}]]}}`);

for (const [name, item] of [
  ['empty dicts', '}'],
  ['empty lists', ']'],
  ['empty tuples', ')'],
  ['small ints', 'K\x07'],
  ['short strs', 'X\x01\x00\x00\x00a'],
] as const) {
  test(`a pickle of ${N.toLocaleString('en-US')} ${name}: reading it holds at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes`, (t) => {
    const frame = pickledPut(item, N);
    const before = heapHeld();
    // As the session reads a request the fast path leaves: the request and its arguments.
    const request = readAnyRequest(frame, { maxMessageValues: DEFAULT_MAX_MESSAGE_VALUES, opaquePickles: true }, () => assert.fail('no proxies here'), 'py3') as PythonRequest;
    const held = heapHeld() - before;
    assert.equal(request.method, 'put');
    assert.equal(request.args.length, 1);
    t.diagnostic(`${frame.length} bytes, ${N} values: ${held} bytes held, ${(held / frame.length).toFixed(1)} times the bytes`);
    assert.ok(held <= allowed(frame.length), `${held} bytes held for ${frame.length} bytes: over ${allowed(frame.length)}`);
  });
}

for (const [name, item] of [
  ['empty objects', '{}'],
  ['empty arrays', '[]'],
  ['zeros', '0'],
  ['one-member objects', '{"a":0}'],
  ['tuples', '{"$tuple":[]}'],
  ['bytes', '{"$bytes":""}'],
  ['sets', '{"$set":[]}'],
  ['dicts', '{"$dict":[]}'],
  ['short strings', '"a"'],
  ['floats', '0.5'],
] as const) {
  test(`a JSON-RPC message of ${name}, as many as the value limit lets in: reading it holds at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes`, (t) => {
    // Values as the limit counts them: a container, and an item after each comma.
    const perItem = 1 + (item.match(/[[{]/g)?.length ?? 0);
    const items = Math.floor((DEFAULT_MAX_MESSAGE_VALUES - 100) / perItem);
    const body = `{"jsonrpc":"2.0","id":1,"method":"object/call","params":{"id":"1","method":"put","args":[[${Array(items).fill(item).join(',')}]]}}`;
    assert.equal(exceedsJsonValues(body, DEFAULT_MAX_MESSAGE_VALUES), false, 'under the value limit');
    const before = heapHeld();
    // As the session reads a call: the message, then its arguments as the object service gets them.
    const message = readMessage(body)!;
    const args = decodeValue(message.params!.args, { boxFloats: true }) as unknown[];
    const held = heapHeld() - before;
    assert.equal(args.length, 1);
    const bytes = Buffer.byteLength(body);
    t.diagnostic(`${bytes} bytes, ${items} items: ${held} bytes held, ${(held / bytes).toFixed(1)} times the bytes`);
    assert.ok(held <= allowed(bytes), `${held} bytes held for ${bytes} bytes: over ${allowed(bytes)}`);
  });
}
