/**
 * The quick reader of requests in the clients' own form (quickRequest.ts) builds exactly what
 * `JSON.parse` builds, and leaves every other text, valid or not, to the full parse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readQuickRequest } from '../../src/server/jsonrpc/quickRequest';
import { readMessage } from '../../src/server/jsonrpc/messageChecks';

const call = (id: string, params: string) => `{"jsonrpc":"2.0","id":${id},"method":"object/call","params":${params}}`;

test('requests of the usual shape are read as JSON.parse reads them', () => {
  const bodies = [
    call('7', '{"id":"3f9a","method":"put","args":[5]}'),
    call('0', '{"id":"3f9a","method":"get"}'),
    call('-12', '{"id":"3f9a","method":"put","args":[-0]}'),
    call('123456789012345', '{"id":"é ☃ 😀","method":"__getitem__","args":[-987654321012345]}'),
    call('8', '{"id":"q","method":"put","args":["a \\" quoted \\\\ text"]}'),
    call('9', '{"id":"q","method":"put","args":[1.5,{"$float":2},null,true,[1,2]]}'),
    call('10', '{"id":"q","method":"put","args":[]}'),
    `{"jsonrpc":"2.0","id":11,"method":"$/anything","params":{"id":"x","method":"y","args":[{"a":[1]}]}}`,
  ];
  for (const body of bodies) {
    const quick = readQuickRequest(body);
    assert.ok(quick, body);
    assert.deepEqual(quick, JSON.parse(body), body);
    // deepEqual does not tell -0 from 0.
    const first = (quick as { params: { args?: unknown[] } }).params.args?.[0];
    if (typeof first === 'number') assert.ok(Object.is(first, (JSON.parse(body) as { params: { args: unknown[] } }).params.args[0]), body);
  }
});

test('any other text is left to the full parse', () => {
  const bodies = [
    call('7', '{"id":"q","method":"put","args":[1],"kwargs":{"block":false}}'),
    call('7', '{"id":"q","method":"put","args":[1],"ack":true}'),
    call('7', '{"id":"q","method":"put","args":[[1],"x"]}'),
    call('07', '{"id":"q","method":"get"}'),
    call('1234567890123456', '{"id":"q","method":"get"}'),
    call('"s"', '{"id":"q","method":"get"}'),
    call('1', '{"id":"q\\u0041","method":"get"}'),
    call('1', '{"method":"get","id":"q"}'),
    call('1', '{"id":"q","method":"put","args":[1'),
    call('1', '{"id":"q","method":"put","args":[1,]}'),
    call('1', '{"id":"q","method":"put","args":{"a":1}}'),
    call('1', '{"id":"q","method":"get"} '),
    '{"jsonrpc": "2.0", "id": 1, "method": "object/call", "params": {"id": "q", "method": "get"}}',
    '{"jsonrpc":"2.0","id":1,"method":"$/ping"}',
    '{"jsonrpc":"2.0","id":1,"method":"object/call","params":{"id":"q","method":"get"}}}',
  ];
  for (const body of bodies) assert.equal(readQuickRequest(body), undefined, body);
});

test('a malformed request in the usual form is still refused as the full parse refuses it', () => {
  assert.throws(() => readMessage(call('1', '{"id":"q","method":"put","args":[1,]}')), /invalid JSON/);
});

test('object ids and method names read again are the same as JSON.parse reads them, however they follow each other', () => {
  // More names than the reader keeps, of equal lengths, each other's prefixes, and empty ones.
  const names = ['q', 'r', 'qq', 'q1', '', 'put', 'get', 'pu', 'puts', 'gets', '3f9a', '3f9b', 'é', 'e', '😀', 'a"b', 'x'];
  let seed = 5;
  const pick = (): string => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return names[seed % names.length];
  };
  for (let k = 0; k < 2000; k++) {
    const object = JSON.stringify(pick());
    const method = JSON.stringify(pick());
    // Now and then a long message, whose texts are not kept.
    const args = k % 7 === 0 ? `[${JSON.stringify('x'.repeat(2000))}]` : `[${k}]`;
    const body = k % 3 === 0 ? call(String(k), `{"id":${object},"method":${method}}`) : call(String(k), `{"id":${object},"method":${method},"args":${args}}`);
    const quick = readQuickRequest(body);
    // A name with a quote in it is left to the full parse.
    if (body.includes('\\"')) assert.equal(quick, undefined, body);
    else assert.deepEqual(quick, JSON.parse(body), body);
  }
});

test('a request whose call was read just before is still read whole: what follows the call text is checked as the first time', () => {
  const put = (id: string, args: string) => call(id, `{"id":"3f9a","method":"put","args":${args}}`);
  assert.deepEqual(readQuickRequest(put('1', '[5]')), JSON.parse(put('1', '[5]')));
  for (const args of ['[1,]', '', '[1', '1]', '[1],"kwargs":{}', '[[1],"x"]']) assert.equal(readQuickRequest(put('2', args)), undefined, args);
  assert.deepEqual(readQuickRequest(put('3', '[-7]')), JSON.parse(put('3', '[-7]')));
  const get = call('4', '{"id":"3f9a","method":"get"}');
  assert.deepEqual(readQuickRequest(get), JSON.parse(get));
  for (const body of [`${get} `, `${get}}`, get.slice(0, -1), call('5', '{"id":"3f9a","method":"get","args":[]}').replace('"args":[]', '"args":')]) assert.equal(readQuickRequest(body), undefined, body);
  assert.deepEqual(readQuickRequest(call('6', '{"id":"3f9a","method":"get","args":[]}')), JSON.parse(call('6', '{"id":"3f9a","method":"get","args":[]}')));
});

test('requests of the usual shape with a few characters changed: whatever the quick reader reads, JSON.parse reads the same, -0 and key order included', () => {
  // Object.is for numbers (-0), and members in the same order.
  const same = (a: unknown, b: unknown): boolean => {
    if (typeof a === 'number') return Object.is(a, b);
    if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
    if (a === null || typeof a !== 'object') return a === b;
    if (b === null || typeof b !== 'object' || Array.isArray(b)) return false;
    const [ka, kb] = [Object.keys(a), Object.keys(b)];
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  };
  let seed = 12345;
  const random = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const bases = [
    call('7', '{"id":"3f9a","method":"put","args":[5]}'),
    call('-0', '{"id":"q","method":"get"}'),
    call('3', '{"id":"q","method":"put","args":[[1],"x"]}'),
    `{"jsonrpc":"2.0","id":12,"method":"$/x","params":{"id":"q","method":"put","args":["a",[1],{"b":2}]}}`,
  ];
  // Pieces that make or break the shape: quotes, escapes, brackets, numbers, control characters, member names.
  const pieces = ['"', '\\', ',', ':', '[', ']', '{', '}', '-', '0', '1', ' ', 'a', '\u001f', 'é', '"args":', '],"', '"}}', '.', 'e', '__proto__', '"id":', '"method":'];
  let read = 0;
  for (let n = 0; n < 50_000; n++) {
    let body = bases[Math.floor(random() * bases.length)]!;
    for (let edits = 1 + Math.floor(random() * 3); edits > 0; edits--) {
      const at = Math.floor(random() * (body.length + 1));
      const how = random();
      const piece = pieces[Math.floor(random() * pieces.length)]!;
      if (how < 0.4) body = body.slice(0, at) + piece + body.slice(at);
      else if (how < 0.7) body = body.slice(0, at) + body.slice(at + 1 + Math.floor(random() * 3));
      else body = body.slice(0, at) + piece + body.slice(at + 1);
    }
    // Twice: the second time its call text is one read lately.
    for (let again = 0; again < 2; again++) {
      const quick = readQuickRequest(body);
      if (quick === undefined) continue;
      read++;
      let full: unknown;
      assert.doesNotThrow(() => (full = JSON.parse(body)), `read quickly, refused by JSON.parse: ${JSON.stringify(body)}`);
      assert.ok(same(quick, full), `read otherwise than JSON.parse reads it: ${JSON.stringify(body)}`);
    }
  }
  assert.ok(read > 1000, `enough changed requests were still of the usual shape (${read})`);
});
