/**
 * Dense arguments kept as their JSON text (SPEC §19): which ones are, and that clients see the
 * same values as before — JSON to JSON, JSON to an unmodified CPython client, in comparisons of
 * the list holding them, and in inspection's previews.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, isTuple, tuple, type DictProxy, type ListProxy, type QueueProxy } from '../../src/client';
import { MessageTooCostly, parseDenseMessage } from '../../src/server/jsonrpc/packedArguments';
import { isPacked } from '../../src/server/packedValues';
import { exceedsJsonValues } from '../../src/server/jsonValueCount';
import { DEFAULT_MAX_MESSAGE_VALUES } from '../../src/server/limits';
import { AUTHKEY, RawClient, createOver, startManager } from '../helpers/manager';
import { viewerAndWorker } from '../helpers/viewerAndWorker';
import { assertExitedCleanly, managerClientLines, pythonEnv, pythonOf, runPython } from '../python/helpers';

const N = 20_000;

/** A call message putting `argText` (JSON) on object 1. */
const putText = (argText: string) => `{"jsonrpc":"2.0","id":7,"method":"object/call","params":{"id":"1","method":"put","args":[${argText}]}}`;
const emptyDicts = (n: number) => `[${Array(n).fill('{}').join(',')}]`;

test('a dense argument is kept as text; an ordinary one and a small one are parsed as before; a dense one holding a proxy is refused', () => {
  const dense = parseDenseMessage(putText(emptyDicts(N))) as { params: { args: unknown[] } };
  assert.ok(isPacked(dense.params.args[0]), 'kept as text');
  assert.equal(parseDenseMessage(putText(JSON.stringify('x'.repeat(1_000_000)))), undefined, 'one large string');
  // A string of a dozen characters and more costs at most 3 times its text built (its header, a byte a character).
  assert.equal(parseDenseMessage(putText(JSON.stringify(Array.from({ length: N }, (_, i) => `list item ${i}`)))), undefined, 'strings');
  assert.equal(parseDenseMessage(putText(emptyDicts(100))), undefined, 'small');
  const withProxy = `[${Array(N).fill('{}').join(',')},{"$proxy":{"id":"2","typeid":"Queue","exposed":[]}}]`;
  // A $proxy needs the session: the value holding it is built whole, past the rule here.
  assert.throws(() => parseDenseMessage(putText(withProxy)), (error: Error) => error instanceof MessageTooCostly && /more than 4 times its \d+ bytes plus 65536/.test(error.message));
  assert.equal(parseDenseMessage(putText(`[${Array(100).fill('{}').join(',')},{"$proxy":{"id":"2","typeid":"Queue","exposed":[]}}]`)), undefined, 'a small one holding a $proxy');
  assert.equal(parseDenseMessage(putText(`${emptyDicts(N)},`)), undefined, 'not JSON: left to the parser, which says what is wrong');
});

test("a refusal for the rule names what was built whole: a $proxy, a dict whose first key starts with $, an $opaque; a message of records beside a $proxy is read", () => {
  const refusal = (argText: string) => {
    try {
      parseDenseMessage(putText(argText));
    } catch (error) {
      if (error instanceof MessageTooCostly) return error.message;
      throw error;
    }
    return undefined;
  };
  const proxy = '{"$proxy":{"id":"2","typeid":"Queue","exposed":[]}}';
  assert.match(refusal(`[${proxy},${emptyDicts(N).slice(1)}`) ?? '', /: a value holding a \$proxy is built whole; send the dense part as an argument of its own$/);
  assert.match(refusal(`[{"$id":1,"d":${emptyDicts(N)}}]`) ?? '', /: a value holding a dict whose first key starts with \$ is built whole;/);
  // One whose first member looks like a tag is a dict all the same: named as one, not as the tag.
  assert.match(refusal(`[{"$proxy":{"id":"2","typeid":"Queue","exposed":[]},"d":${emptyDicts(N)}}]`) ?? '', /: a value holding a dict whose first key starts with \$ is built whole;/);
  assert.match(refusal(`[{"$opaque":{"lang":"python","type":"m.C","data":"gAJ9cQAu"}},${emptyDicts(N).slice(1)}`) ?? '', /: a value holding a \$opaque is built whole;/);
  // Built, 10,000 records hold some 50 bytes each, 2.5 times their text: read, beside a $proxy or not.
  assert.equal(refusal(`[${proxy},${Array(10_000).fill('{"name":"x","n":1}').join(',')}]`), undefined);
  assert.equal(refusal(`[${Array(30_000).fill('{"$id":1,"name":"x"}').join(',')}]`), undefined);
});

test('the rule counts the message in bytes, as sent: characters beyond ASCII (three bytes each in UTF-8) are not taken for one byte', () => {
  // A value built whole (it holds a $proxy) of some 920 KB estimated, in a message of 130 148 characters and 330 148 bytes: within 4 times its bytes plus 64 KiB.
  const proxy = '{"$proxy":{"id":"2","typeid":"Queue","exposed":[]}}';
  const body = putText(`[${proxy},${JSON.stringify('\u4e2d'.repeat(100_000))},${Array(10_000).fill('{}').join(',')}]`);
  assert.equal(parseDenseMessage(body), undefined, 'parsed as usual');
  // Past the rule, the refusal's figures are the message's bytes and what it would hold, the one more than 4 times the other plus 64 KiB.
  const denser = putText(`[${proxy},${JSON.stringify('\u4e2d'.repeat(100_000))},${Array(N).fill('{}').join(',')}]`);
  assert.throws(
    () => parseDenseMessage(denser),
    (error: Error) => {
      const [, held, bytes] = /hold some (\d+) bytes once read, more than 4 times its (\d+) bytes/.exec(error.message)!.map(Number);
      return error instanceof MessageTooCostly && bytes === Buffer.byteLength(denser) && held > 4 * bytes + 65536;
    },
  );
});

test('a message refused for the rule is answered from an envelope that builds none of its values: a member beside params too', () => {
  const proxy = '{"$proxy":{"id":"2","typeid":"Queue","exposed":[]}}';
  const dense = `[${proxy},${Array(N * 2).fill('{}').join(',')}]`;
  for (const body of [putText(dense), `{"jsonrpc":"2.0","id":7,"method":"object/call","params":{"id":"1","method":"qsize"},"extra":${dense}}`]) {
    assert.throws(
      () => parseDenseMessage(body),
      (error: Error) => {
        const envelope = (error as MessageTooCostly).envelope as Record<string, unknown>;
        assert.deepEqual([envelope.id, envelope.method], [7, 'object/call']);
        assert.ok(!JSON.stringify(envelope).includes('$proxy'), JSON.stringify(envelope).slice(0, 200));
        return error instanceof MessageTooCostly;
      },
    );
  }
});

test('a member named twice: the last one counts, as the parser has it, and only it is kept as text', () => {
  const body = `{"jsonrpc":"2.0","id":7,"method":"object/call","params":{"id":"1","method":"put","kwargs":{"k":${emptyDicts(N)},"k":[${Array(N).fill('[]').join(',')}]}}}`;
  const message = parseDenseMessage(body) as { params: { kwargs: Record<string, { materialise(): unknown }> } };
  assert.ok(isPacked(message.params.kwargs.k), 'kept as text');
  assert.deepEqual(message.params.kwargs.k.materialise(), (JSON.parse(body) as typeof message).params.kwargs.k);
  const twice = parseDenseMessage(body.replace('"id":7,', '"id":6,"id":7,')) as { id: number };
  assert.equal(twice.id, 7);
});

test('names given again and again, within the value limit, are read as the parser reads them (the last one counts), each slot looked at once', () => {
  // Many slots, then many names given again: superseding looks at each slot once, not once per name given again.
  const m = 24_000;
  const zeros = Array(m).fill('0').join(',');
  const kwargs = `{${Array(m).fill('"k":0').join(',')},"k":${emptyDicts(N / 4)}}`;
  const body = `{"jsonrpc":"2.0","id":7,"method":"object/call","params":{"id":"1","method":"put","args":[${zeros}],"kwargs":${kwargs}},${Array(m).fill('"x":0').join(',')},"x":1}`;
  assert.equal(exceedsJsonValues(body, DEFAULT_MAX_MESSAGE_VALUES), false, 'under the value limit');
  const message = parseDenseMessage(body) as { x: number; params: { args: number[]; kwargs: Record<string, { materialise(): unknown }> } };
  assert.equal(message.x, 1);
  assert.equal(message.params.args.length, m);
  assert.ok(isPacked(message.params.kwargs.k), 'the last k kept as text');
  assert.equal((message.params.kwargs.k.materialise() as unknown[]).length, N / 4);
  // A params given again supersedes all the first one held, at every level.
  const again = parseDenseMessage(body.replace('"params":', `"params":{"args":[${zeros}],"kwargs":${kwargs}},"params":`)) as typeof message;
  assert.equal(again.params.args.length, m);
  assert.equal((again.params.kwargs.k.materialise() as unknown[]).length, N / 4);
});

test('a long array of small numbers (8 bytes an item built, for 2 of text) is kept as text: built, it would sit at the 4-times rule', () => {
  const zeros = parseDenseMessage(putText(`[${Array(N).fill('0').join(',')}]`)) as { params: { args: unknown[] } } | undefined;
  assert.ok(zeros && isPacked(zeros.params.args[0]), 'kept as text');
  assert.equal(parseDenseMessage(putText(`[${Array(100).fill('0').join(',')}]`)), undefined, 'a short one is parsed as before');
});

test('the text kept is a copy in the canonical wire form: numbers as the server writes them, tags as sent', () => {
  const text = `[${Array(N).fill('{ "a" : 2.0 , "b": 1e2, "c": {"$tuple": [1.50]} }').join(' , ')}]`;
  const message = parseDenseMessage(putText(text)) as { params: { args: { text: string; materialise(): unknown }[] } };
  const packed = message.params.args[0];
  assert.ok(isPacked(packed));
  assert.equal(packed.text, text.replaceAll('2.0', '2').replaceAll('1e2', '100').replaceAll('1.50', '1.5'));
  const value = packed.materialise() as Record<string, unknown>[];
  assert.equal(value.length, N);
  assert.ok(isTuple(value[0].c));
  // Floats the server writes as `$float` tags (-0, integers beyond 2^53, 1e999) are copied so, and stand for the same float.
  const tagged = parseDenseMessage(putText(`[${Array(N).fill('{}').join(',')},-0,12345678901234567890,1e999]`)) as { params: { args: { text: string; materialise(): unknown }[] } };
  const floats = tagged.params.args[0];
  assert.ok(isPacked(floats));
  assert.ok(floats.text.endsWith('{},{"$float":-0.0},{"$float":12345678901234567000},{"$float":"inf"}]'), floats.text.slice(-80));
  const [negativeZero, large, infinite] = (floats.materialise() as unknown[]).slice(-3).map(Number);
  assert.ok(Object.is(negativeZero, -0));
  assert.equal(large, 12345678901234567890);
  assert.equal(infinite, Infinity);
});

test('a dense value put by a JSON client comes back the same to a JSON client, through a queue, a list and a dict', async (t) => {
  const manager = await startManager({}, (m) => m.register('get_queue', { shared: 'Queue' }).register('get_list', { shared: 'list' }).register('get_dict', { shared: 'dict' }));
  t.after(() => manager.shutdown());
  const client = await connect<{ get_queue: QueueProxy<unknown>; get_list: ListProxy<unknown>; get_dict: DictProxy<unknown, unknown> }>({ address: manager.address, authkey: AUTHKEY });
  t.after(() => client.close());
  const value = Array.from({ length: N / 4 }, (_, i) => (i % 3 === 0 ? {} : i % 3 === 1 ? tuple(i, 2.5) : new Map<unknown, unknown>([[tuple(1), new Set([i])]])));
  const q = await client.get_queue();
  await q.put(value);
  assert.deepEqual(await q.get(), value);
  const l = await client.get_list();
  await l.append(value);
  assert.deepEqual(await l.at(0), value);
  const d = await client.get_dict();
  await d.set('k', value);
  assert.deepEqual(await d.get('k'), value);
});

test('list methods that compare items see a dense item as the value it stands for', async (t) => {
  const manager = await startManager({}, (m) => m.register('get_list', { shared: 'list' }));
  t.after(() => manager.shutdown());
  const raw = await RawClient.open(manager.address);
  t.after(() => raw.close());
  const { id } = await createOver(raw, 'get_list');
  const big = (first: number) => `[[${first}],${Array(N).fill('[1]').join(',')}]`;
  const call = async (method: string, argText: string) => {
    raw.sendRaw(frame(`{"jsonrpc":"2.0","id":"${method}","method":"object/call","params":{"id":"${id}","method":"${method}","args":[${argText}]}}`));
    return (await raw.next()) as { result?: unknown; error?: { message: string } };
  };
  assert.equal((await call('append', big(2))).error, undefined);
  assert.equal((await call('append', big(1))).error, undefined);
  assert.equal((await call('index', big(1))).result, 1, 'index');
  assert.equal((await call('count', big(2))).result, 1, 'count');
  assert.equal((await call('__contains__', big(3))).result, false, '__contains__');
  assert.equal((await call('sort', '')).error, undefined, 'sort');
  const first = (await call('__getitem__', '0')).result as number[][];
  assert.deepEqual(first[0], [1], 'sorted as lists: [[1], …] first');
  assert.equal((await call('remove', big(1))).error, undefined, 'remove');
  assert.equal((await call('__len__', '')).result, 1);
  const repr = (await call('__repr__', '')).result as string;
  assert.ok(repr.startsWith('[[[2], [1], [1]'), repr.slice(0, 40));
});

test('methods that read a dense argument get its value: a PriorityQueue orders dense items, dict.update reads a dense dict, a dense keyword argument', async (t) => {
  const manager = await startManager({}, (m) => m.register('get_priority', { shared: 'PriorityQueue' }).register('get_dict', { shared: 'dict' }).register('get_queue', { shared: 'Queue' }));
  t.after(() => manager.shutdown());
  const raw = await RawClient.open(manager.address);
  t.after(() => raw.close());
  const call = async (id: string, method: string, params: string) => {
    raw.sendRaw(frame(`{"jsonrpc":"2.0","id":"${method}","method":"object/call","params":{"id":"${id}","method":"${method}",${params}}}`));
    return (await raw.next()) as { result?: unknown; error?: { message: string } };
  };
  const pq = (await createOver(raw, 'get_priority')).id;
  const item = (priority: number) => `{"$tuple":[${priority},[${Array(N).fill('{}').join(',')}]]}`;
  for (const priority of [3, 1, 2]) assert.equal((await call(pq, 'put', `"args":[${item(priority)}]`)).error, undefined);
  for (const priority of [1, 2, 3]) {
    const got = (await call(pq, 'get', '"args":[]')).result as { $tuple: [number, unknown[]] };
    assert.equal(got.$tuple[0], priority);
    assert.equal(got.$tuple[1].length, N);
  }
  const dict = (await createOver(raw, 'get_dict')).id;
  const members = Array.from({ length: N }, (_, i) => `"k${i}":{}`).join(',');
  assert.equal((await call(dict, 'update', `"args":[{${members}}]`)).error, undefined);
  assert.equal((await call(dict, '__len__', '"args":[]')).result, N);
  const queue = (await createOver(raw, 'get_queue')).id;
  assert.equal((await call(queue, 'put', `"kwargs":{"item":[${Array(N).fill('[]').join(',')}]}`)).error, undefined);
  assert.equal(((await call(queue, 'get', '"args":[]')).result as unknown[]).length, N);
});

test('a malformed dense message is refused as before: a ParseError naming the fault', async (t) => {
  const manager = await startManager({}, (m) => m.register('get_queue', { shared: 'Queue' }));
  t.after(() => manager.shutdown());
  const raw = await RawClient.open(manager.address);
  t.after(() => raw.close());
  raw.sendRaw(frame(putText(`${emptyDicts(N).slice(0, -1)},}]`)));
  const answer = (await raw.next()) as { id: unknown; error?: { code: number; message: string } };
  assert.equal(answer.id, null);
  assert.equal(answer.error?.code, -32700);
  assert.match(answer.error!.message, /^invalid JSON: /);
});

test('inspection shows a dense item as its value', async (t) => {
  await using s = await startManager({}, (m) => m.register('get_task_queue', { shared: 'Queue' })).then((m) => viewerAndWorker<{ get_task_queue: QueueProxy<unknown> }>(m));
  void t;
  const q = await s.worker.get_task_queue();
  const value = Array.from({ length: N }, () => ({}));
  await q.put(value);
  assert.deepEqual((await s.viewer.inspection.peek(q.id)).items, [value]);
});

test('an unmodified CPython client gets a dense value a JSON client put, and the JSON client gets what CPython put back', async (t) => {
  const python = pythonOf('3.11');
  if (!python) return t.skip('no CPython 3.11 here');
  const manager = await startManager({}, (m) => m.register('get_queue', { shared: 'Queue' }));
  t.after(() => manager.shutdown());
  const client = await connect<{ get_queue: QueueProxy<unknown> }>({ address: manager.address, authkey: AUTHKEY });
  t.after(() => client.close());
  const q = await client.get_queue();
  const value = Array.from({ length: N }, (_, i) => (i % 2 ? {} : tuple(i)));
  await q.put(value);
  const script = [
    ...managerClientLines('get_queue'),
    'q = m.get_queue()',
    'v = q.get()',
    `assert len(v) == ${N} and v[0] == (0,) and v[1] == {} and isinstance(v[2], tuple), repr(v[:3])`,
    'q.put(v)',
    "print('ok')",
  ].join('\n');
  const result = await runPython(python, ['-c', script], [], pythonEnv(manager.address, AUTHKEY));
  assertExitedCleanly(result, 'the Python client');
  assert.deepEqual(await q.get(), value);
});

function frame(json: string): Buffer {
  const body = Buffer.from(json);
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
}
