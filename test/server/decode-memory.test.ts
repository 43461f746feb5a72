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
import { JsonTextWalk } from '../../src/server/jsonTextWalk';
import { DEFAULT_MAX_MESSAGE_VALUES, MAX_CALL_ARGUMENTS, READ_BYTES_PER_MESSAGE, readAllowance } from '../../src/server/limits';
import { MessageRefused, readMessage } from '../../src/server/jsonrpc/messageChecks';
import { SharedRef } from '../../src/server/calls/sharedRef';
import { decodeKeywords, expectCallFields } from '../../src/server/jsonrpc/paramChecks';
import { readAnyRequest, readPythonRequest } from '../../src/server/python/generalRequestReader';
import type { PythonRequest } from '../../src/server/python/requestReader';
import { fromPython } from '../../src/server/python/pythonArguments';
import { unpickle } from '../../src/server/python/pickle/pickleReader';
import type { HeldBudget } from '../../src/server/python/pickle/pickleToValue';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap bytes in use after full collections, with the bytes of buffers outside the heap (an argument kept as a pickle is one). */
function heapHeld(): number {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/**
 * How far below a measured `held` a count may be and still be taken as at least it: 4 KB and 12 %.
 * The same read of 10,000 pickled records measured 400 to 538 KB held from one process to the next
 * (the least of three reads in each; what V8 gives a record cloned from another varies with the
 * process's history), counted 480 KB; a count is checked against the measurement's precision, not
 * its luck (with 2 %, one run in four of that row failed when run alone).
 */
const measuringSlack = (held: number): number => 4096 + 0.12 * held;

/** The most a message of `bytes` bytes may hold while it is read, however many values it has. */
const allowed = readAllowance;

/**
 * What one `read()` holds, the least of three tries, with what the last try read. A try can count
 * what something else made in the same moments (V8 compiling the reader's hot loop, the runner's
 * own output); what a message holds is there every time, so the least of three is its cost.
 */
function leastHeld<T>(read: () => T): { held: number; value: T } {
  // Once before: the first read compiles the reader's code, which no message holds.
  let value = read();
  let held = Infinity;
  for (let i = 0; i < 3; i++) {
    value = undefined as T;
    const before = heapHeld();
    value = read();
    held = Math.min(held, heapHeld() - before);
  }
  return { held, value };
}

const N = DEFAULT_MAX_MESSAGE_VALUES - 1_000;

/** Objects an item's opcodes push (the value limit counts pushes): one per opcode that makes a value. */
function pushesPer(item: string): number {
  return item.startsWith('c__builtin__') ? 5 : item.startsWith('h') ? 6 : 1;
}

/** A protocol 2 pickle of the request `(None, 'put', ([*head, item, item, …],), {})`, item and head given as opcodes. */
function pickledPut(item: string, n: number, head = ''): Buffer {
  return Buffer.concat([Buffer.from(`\x80\x02(NX\x03\x00\x00\x00put](${head}`, 'latin1'), Buffer.from(item.repeat(n), 'latin1'), Buffer.from('e\x85}t.', 'latin1')]);
}

for (const [name, item, head = ''] of [
  ['empty dicts', '}'],
  ['empty lists', ']'],
  ['empty tuples', ')'],
  ['small ints', 'K\x07'],
  ['short strs', 'X\x01\x00\x00\x00a'],
  // A global anywhere in the argument (a class the server keeps opaque): cut all the same (SPEC §19).
  ['empty dicts after a global', '}', 'cmodule\nName\n'],
  ['instances of a class (NEWOBJ, BUILD of a dict)', 'h\x00)\x81}X\x01\x00\x00\x00aK\x01sb', 'cmodule\nName\nq\x00'],
  ['Python 2 sets of an int (REDUCE)', 'c__builtin__\nset\n]K\x01a\x85R', ''],
] as const) {
  const count = Math.floor(N / pushesPer(item));
  test(`a pickle of ${count.toLocaleString('en-US')} ${name}: reading it holds at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes`, (t) => {
    const frame = pickledPut(item, count, head);
    // As the session reads a request the fast path leaves: the request and its arguments.
    const read = () => readAnyRequest(frame, { maxMessageValues: DEFAULT_MAX_MESSAGE_VALUES, opaquePickles: true }, () => assert.fail('no proxies here'), 'py3') as PythonRequest;
    const { held, value: request } = leastHeld(read);
    assert.equal(request.method, 'put');
    assert.equal(request.args.length, 1);
    t.diagnostic(`${frame.length} bytes, ${count} items: ${held} bytes held, ${(held / frame.length).toFixed(1)} times the bytes`);
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
    // As the session reads a call: the message, then its arguments as the object service gets them.
    const read = () => decodeValue(readMessage(body)!.params!.args, { boxFloats: true }) as unknown[];
    const { held, value: args } = leastHeld(read);
    assert.equal(args.length, 1);
    const bytes = Buffer.byteLength(body);
    t.diagnostic(`${bytes} bytes, ${items} items: ${held} bytes held, ${(held / bytes).toFixed(1)} times the bytes`);
    assert.ok(held <= allowed(bytes), `${held} bytes held for ${bytes} bytes: over ${allowed(bytes)}`);
  });
}

// Separate arguments are each built (none is large enough to be kept encoded): their number is limited instead.
const half = MAX_CALL_ARGUMENTS / 2;
const REPEATS = 50;
const pickledCall = (positional: number, keywords: number) =>
  Buffer.from(`\x80\x02(NX\x03\x00\x00\x00put(${'}'.repeat(positional)}t}(${Array.from({ length: keywords }, (_, i) => `X\x04\x00\x00\x00k${String(i).padStart(3, '0')}}`).join('')}ut.`, 'latin1');
const jsonCall = (positional: number, keywords: number) =>
  `{"jsonrpc":"2.0","id":1,"method":"object/call","params":{"id":"1","method":"put","args":[${Array(positional).fill('{}').join(',')}],"kwargs":{${Array.from({ length: keywords }, (_, i) => `"k${i}":{}`).join(',')}}}}`;

for (const [positional, keywords] of [[MAX_CALL_ARGUMENTS, 0], [half, half]]) {
  test(`a pickled call of ${positional} empty dicts and ${keywords} keyword arguments, the most one call may pass: reading it holds at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes`, (t) => {
    const frame = pickledCall(positional, keywords);
    const read = () => readPythonRequest(frame, { maxMessageValues: DEFAULT_MAX_MESSAGE_VALUES, opaquePickles: true }, () => assert.fail('no proxies here'), 'py3') as PythonRequest;
    // Once before: the first read compiles the readers' code, which no message holds.
    read();
    // Many held at once: a message this small is within the compiler's noise on its own.
    const before = heapHeld();
    const requests = Array.from({ length: REPEATS }, read);
    const held = (heapHeld() - before) / REPEATS;
    assert.equal(requests[0].args.length + Object.keys(requests[0].kwargs).length, MAX_CALL_ARGUMENTS);
    t.diagnostic(`${frame.length} bytes: ${held} bytes held`);
    assert.ok(held <= allowed(frame.length), `${held} bytes held for ${frame.length} bytes: over ${allowed(frame.length)}`);
  });

  test(`a JSON-RPC call of ${positional} empty objects and ${keywords} keyword arguments, the most one call may pass: reading it holds at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes`, (t) => {
    const body = jsonCall(positional, keywords);
    const read = () => {
      const params = readMessage(body)!.params as { args: unknown[]; kwargs: Record<string, unknown>; id: string; method: string };
      expectCallFields(params);
      return [decodeValue(params.args, { boxFloats: true }) as unknown[], decodeKeywords(params.kwargs, { boxFloats: true })] as const;
    };
    // Once before: the first read compiles the readers' code, which no message holds.
    read();
    // Many held at once: a message this small is within the compiler's noise on its own.
    const before = heapHeld();
    const calls = Array.from({ length: REPEATS }, read);
    const held = (heapHeld() - before) / REPEATS;
    const [args, kwargs] = calls[0];
    assert.equal(args.length + Object.keys(kwargs).length, MAX_CALL_ARGUMENTS);
    const bytes = Buffer.byteLength(body);
    t.diagnostic(`${bytes} bytes: ${held} bytes held`);
    assert.ok(held <= allowed(bytes), `${held} bytes held for ${bytes} bytes: over ${allowed(bytes)}`);
  });
}

test('one argument more, or 50 000 of them, is refused in both protocols', () => {
  for (const [positional, keywords] of [[MAX_CALL_ARGUMENTS + 1, 0], [half, half + 1], [50_000, 0]]) {
    const reply = readPythonRequest(pickledCall(positional, keywords), { maxMessageValues: DEFAULT_MAX_MESSAGE_VALUES, opaquePickles: true }, () => assert.fail('no proxies here'), 'py3');
    assert.ok(Array.isArray(reply), 'refused');
    // 50,000 arguments of a byte each hold more than the rule allows before the call's shape is
    // known: the reader refuses them as it builds them, naming the rule.
    const refusal = positional + keywords > 1_000 ? `a call with ${positional + keywords} arguments|more than 4 times its \\d+ bytes` : `a call with ${positional + keywords} arguments`;
    assert.match(JSON.stringify(reply), new RegExp(refusal));
    const params = readMessage(jsonCall(positional, keywords))!.params as { id: string; method: string };
    assert.throws(() => expectCallFields(params), new RegExp(`a call with ${positional + keywords} arguments .* the limit is ${MAX_CALL_ARGUMENTS}`));
  }
});

// -- Every message: what cannot be kept encoded is counted as it is built, and a message past the rule refused --

/** What a refusal for the rule says: the limit, and the message's size. */
const RULE_REFUSAL = new RegExp(`more than 4 times its \\d+ bytes plus ${READ_BYTES_PER_MESSAGE}`);
/** A reference to a shared object, as the object service gives one for each proxy naming it. */
const REFERENCE = SharedRef.of({ shared: true });
const limitsOf = (opaquePickles: boolean) => ({ maxMessageValues: DEFAULT_MAX_MESSAGE_VALUES, opaquePickles });
const latin1 = (text: string) => Buffer.from(text, 'latin1');
/** A protocol 2 request `(None, 'put', args, kwds)`, args and kwds given as opcodes. */
const pickledRequest = (args: string, kwds = '}') => Buffer.concat([latin1('\x80\x02(NX\x03\x00\x00\x00put'), latin1(args), latin1(kwds), latin1('t.')]);
/** A proxy of Python's (`RebuildProxy(AutoProxy, Token, 'pickle', {})`) as CPython pickles one, without memo. */
const PICKLED_PROXY =
  'cmultiprocessing.managers\nRebuildProxy\n(cmultiprocessing.managers\nAutoProxy\ncmultiprocessing.managers\nToken\n)\x81(X\x05\x00\x00\x00QueueNX\x01\x00\x00\x001tbX\x06\x00\x00\x00pickle}tR';
const dicts = (n: number) => '}'.repeat(n);

/** Reads a pickled request as the session does (both paths); a refusal is the traceback a Python client raises. */
function readPickled(frame: Buffer, opaquePickles = true): PythonRequest | string {
  const reply = readPythonRequest(frame, limitsOf(opaquePickles), () => REFERENCE, 'py3');
  return Array.isArray(reply) ? String(reply[1]) : (reply as PythonRequest);
}

/** Either held within the rule, or refused naming it: never more than the rule built. */
function withinRuleOrRefused(t: { diagnostic(message: string): void }, bytes: number, read: () => unknown, refusal: (value: unknown) => string | undefined): string | undefined {
  const { held, value } = leastHeld(read);
  const refused = refusal(value);
  t.diagnostic(`${bytes} bytes: ${refused ? `refused (${refused.slice(0, 160)})` : `${held} bytes held, ${(held / bytes).toFixed(1)} times the bytes`}`);
  if (refused) assert.match(refused, RULE_REFUSAL);
  else assert.ok(held <= allowed(bytes), `${held} bytes held for ${bytes} bytes: over ${allowed(bytes)}`);
  return refused;
}

const M = 90_000;
for (const [name, frame, opaquePickles = true] of [
  ['keyword arguments of empty dicts', pickledRequest(')', `}X\x01\x00\x00\x00k](${dicts(M)}es`)],
  ['an argument holding a proxy among empty dicts', pickledRequest(`](${PICKLED_PROXY}${dicts(M)}e\x85`)],
  ['an argument holding 2,000 proxies among empty dicts', pickledRequest(`](${PICKLED_PROXY.repeat(2_000)}${dicts(60_000)}e\x85`)],
  ['an argument holding a list of empty dicts shared through the memo with an object', pickledRequest(`](]q\x01(${dicts(M)}ecmodule\nName\n)\x81h\x01be\x85`)],
  ['an argument holding a protocol 0 INST among empty dicts', pickledRequest(`]((imodule\nName\n${dicts(M)}e\x85`)],
  ['an argument holding a protocol 1 OBJ among empty dicts', pickledRequest(`]((cmodule\nName\no${dicts(M)}e\x85`)],
  ['an argument holding a set among empty dicts, under --no-opaque-pickles', pickledRequest(`](c__builtin__\nset\n]K\x01a\x85R${dicts(M)}e\x85`), false],
] as const) {
  test(`a pickle of ${name}: reading it holds at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes, or it is refused naming the rule`, (t) => {
    withinRuleOrRefused(t, frame.length, () => readPickled(frame, opaquePickles), (value) => (typeof value === 'string' ? value : undefined));
  });
}

/** A JSON-RPC call of `put` with these args and kwargs (texts). */
const jsonPut = (args: string, kwargs = '{}') => `{"jsonrpc":"2.0","id":1,"method":"object/call","params":{"id":"1","method":"put","args":${args},"kwargs":${kwargs}}}`;
const PROXY_JSON = '{"$proxy":{"id":"1","typeid":"Queue","exposed":[]}}';
const emptyObjects = (n: number) => Array(n).fill('{}').join(',');
const J = (DEFAULT_MAX_MESSAGE_VALUES - 200) / 2;

/** The members `"a":1,"b":1…` of these letters in the `i`th of their orders. */
function permuted(letters: string, i: number): string {
  const keys = [...letters];
  for (let j = keys.length - 1, rest = i; j > 0; rest = Math.floor(rest / (j + 1)), j--) {
    const r = rest % (j + 1);
    [keys[j], keys[r]] = [keys[r], keys[j]];
  }
  return keys.map((key) => `"${key}":1`).join(',');
}

/** Reads a JSON-RPC call as the session does; a refusal is the error answered. */
function readJson(body: string): unknown {
  try {
    const params = readMessage(body)!.params as { args: unknown[]; kwargs: Record<string, unknown>; id: string; method: string };
    expectCallFields(params);
    const decoding = { boxFloats: true, decodeProxy: () => REFERENCE };
    return [decodeValue(params.args, decoding), decodeKeywords(params.kwargs, decoding)];
  } catch (error) {
    if (error instanceof MessageRefused) return error.error.message;
    throw error;
  }
}

for (const [name, body] of [
  ['a list of empty objects holding a $proxy', jsonPut(`[[${PROXY_JSON},${emptyObjects(J)}]]`)],
  ['a list of empty objects holding 2,000 $proxy', jsonPut(`[[${Array(2_000).fill(PROXY_JSON).join(',')},${emptyObjects(J - 8_000)}]]`)],
  ['a list of empty objects holding an $opaque', jsonPut(`[[{"$opaque":{"lang":"python","type":"m.C","data":"gAJ9cQAu"}},${emptyObjects(J)}]]`)],
  ['a list of empty objects ending in -0', jsonPut(`[[${emptyObjects(J)},-0]]`)],
  ['a list of empty objects ending in an integer beyond 2^53', jsonPut(`[[${emptyObjects(J)},12345678901234567890]]`)],
  ['a keyword argument of empty objects ending in -0', jsonPut('[]', `{"k":[${emptyObjects(J)},-0]}`)],
  // What the walk once left to the parser, which built it whole.
  ['empty objects, naming its id twice', jsonPut(`[[${emptyObjects(J)}]]`).replace('"id":1,', '"id":1,"id":1,')],
  ['empty objects, naming its params twice, the dense ones first', `${jsonPut(`[[${emptyObjects(J - 100)}]]`).slice(0, -1)},"params":{"id":"1","method":"put","args":[1],"kwargs":{}}}`],
  ['empty objects holding a $proxy, naming a keyword argument twice', jsonPut('[]', `{"k":1,"k":[${PROXY_JSON},${emptyObjects(J - 100)}]}`)],
  ['empty objects and a value nested 300 deep', jsonPut(`[[${'['.repeat(300)}${']'.repeat(300)},${emptyObjects(J - 400)}]]`)],
  // A set's entries hold more than its items' slots: 40,000 small ints are 5 times their bytes.
  ['a set of 40,000 ints', jsonPut(`[{"$set":[${Array.from({ length: 40_000 }, (_, i) => i).join(',')}]}]`)],
  ['a set of 40,000 ints beside a $proxy', jsonPut(`[[${PROXY_JSON},{"$set":[${Array.from({ length: 40_000 }, (_, i) => i).join(',')}]}]]`)],
  // Records that share no shape: each key a string and a map of its own; each key order a map of its own.
  ['records of distinct keys beside a $proxy', jsonPut(`[[${PROXY_JSON},${Array.from({ length: 20_000 }, (_, i) => `{"q${i}":1}`).join(',')}]]`)],
  ['records of 8 keys in as many orders beside a $proxy', jsonPut(`[[${PROXY_JSON},${Array.from({ length: 8_000 }, (_, i) => `{${permuted('abcdefgh', i)}}`).join(',')}]]`)],
  ['records named by array indexes beside a $proxy', jsonPut(`[[${PROXY_JSON},${Array(20_000).fill('{"99999999":1}').join(',')}]]`)],
] as const) {
  test(`a JSON-RPC message of ${name}: reading it holds at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes, or it is refused naming the rule`, (t) => {
    withinRuleOrRefused(t, Buffer.byteLength(body), () => readJson(body), (value) => (typeof value === 'string' ? value : undefined));
  });
}

// Dense but ordinary messages: never refused, and held within the rule all the same.
const smallInts = (n: number) => 'K\x07'.repeat(n);
const shortKeys = (n: number) => Array.from({ length: n }, (_, i) => { const key = `k${i}`; return `X${latin1(String.fromCharCode(key.length, 0, 0, 0)).toString('latin1')}${key}K\x01`; }).join('');
const floats = (n: number) => 'G?\xe0\x00\x00\x00\x00\x00\x00'.repeat(n);
/** A little-endian 4-byte count, as pickle opcodes write one. */
const u32 = (n: number) => Buffer.from(Uint32Array.of(n).buffer).toString('latin1');
/**
 * `n` dicts of these members (str keys, str or small int values) as CPython's protocol 2 pickler
 * writes them: each dict memoized (LONG_BINPUT), each str put in the memo once (BINPUT) and got
 * again (BINGET) by every later dict.
 */
function pickledRecords(n: number, members: readonly (readonly [string, string | number])[]): string {
  const texts = [...new Set(members.flatMap(([key, value]) => (typeof value === 'string' ? [key, value] : [key])))];
  const memo = (text: string) => String.fromCharCode(texts.indexOf(text));
  const value = (v: string | number, first: boolean) => (typeof v === 'number' ? `K${String.fromCharCode(v)}` : first ? `X${u32(v.length)}${v}q${memo(v)}` : `h${memo(v)}`);
  const record = (i: number) => `}r${u32(texts.length + i)}(${members.map(([key, v]) => value(key, i === 0) + value(v, i === 0)).join('')}u`;
  return Array.from({ length: n }, (_, i) => record(i)).join('');
}
for (const [name, frame] of [
  ['a keyword argument of 99,000 small ints', pickledRequest(')', `}X\x01\x00\x00\x00k](${smallInts(99_000)}es`)],
  ['a keyword argument of a dict of 10,000 short str keys', pickledRequest(')', `}X\x01\x00\x00\x00k}(${shortKeys(10_000)}us`)],
  ['a keyword argument of 90,000 floats', pickledRequest(')', `}X\x01\x00\x00\x00k](${floats(90_000)}es`)],
  ['an argument of a dict of 10,000 short str keys', pickledRequest(`}(${shortKeys(10_000)}u\x85`)],
  ['an argument of 5,000 proxies', pickledRequest(`](${PICKLED_PROXY.repeat(5_000)}e\x85`)],
  // As CPython's protocol 2 pickles a list of a proxy and records: each record's keys and values shared through the memo.
  ['an argument of a proxy and 10,000 records', pickledRequest(`](${PICKLED_PROXY}${pickledRecords(10_000, [['name', 'x'], ['n', 1]])}e\x85`)],
  ['an argument of 15,000 records whose first key starts with $', pickledRequest(`](${pickledRecords(15_000, [['$id', 1], ['name', 'x']])}e\x85`)],
] as const) {
  test(`a pickle of ${name} is read, holding at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes`, (t) => {
    const refused = withinRuleOrRefused(t, frame.length, () => readPickled(frame), (value) => (typeof value === 'string' ? value : undefined));
    assert.equal(refused, undefined, 'an ordinary message is read');
  });
}

const jsonKeys = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',');
for (const [name, body] of [
  ['a keyword argument of 99,000 small ints', jsonPut('[]', `{"k":[${Array(99_000).fill(7).join(',')}]}`)],
  ['a keyword argument of a dict of 10,000 short keys', jsonPut('[]', `{"k":{${jsonKeys(10_000)}}}`)],
  ['a keyword argument of 90,000 floats', jsonPut('[]', `{"k":[${Array(90_000).fill(0.5).join(',')}]}`)],
  ['an argument of 5,000 proxies', jsonPut(`[[${Array(5_000).fill(PROXY_JSON).join(',')}]]`)],
  ['an argument of 20,000 -0 and integers beyond 2^53', jsonPut(`[[${Array(10_000).fill('-0,12345678901234567890').join(',')}]]`)],
  ['an argument of a $proxy and 10,000 records', jsonPut(`[[${PROXY_JSON},${Array(10_000).fill('{"name":"x","n":1}').join(',')}]]`)],
  ['an argument of 30,000 records whose first key starts with $', jsonPut(`[[${Array(30_000).fill('{"$id":1,"name":"x"}').join(',')}]]`)],
] as const) {
  test(`a JSON-RPC message of ${name} is read, holding at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes`, (t) => {
    const refused = withinRuleOrRefused(t, Buffer.byteLength(body), () => readJson(body), (value) => (typeof value === 'string' ? value : undefined));
    assert.equal(refused, undefined, 'an ordinary message is read');
  });
}

// What the pickle reader counts as it builds, against what the values hold: never less (the rule
// holds for what it lets in; a measurement may count 4 KiB of the runner's own), and ordinary
// values within the rule, so never refused. The others hold more than the rule allows once built:
// refusing them when they cannot be kept encoded is the rule.
const longInts = (n: number) => '\x8a\x05\x00\x00\x00\x00\x01'.repeat(n);
const integralFloats = (n: number) => 'G@\x00\x00\x00\x00\x00\x00\x00'.repeat(n);
for (const [name, opcodes, ordinary = false] of [
  ['99,000 small ints', `](${smallInts(99_000)}e`, true],
  ['a dict of 10,000 short str keys', `}(${shortKeys(10_000)}u`],
  ['90,000 floats', `](${floats(90_000)}e`, true],
  ['50,000 integral floats', `](${integralFloats(50_000)}e`],
  ['5,000 proxies', `](${PICKLED_PROXY.repeat(5_000)}e`, true],
  ['10,000 records sharing their strs through the memo', `](${pickledRecords(10_000, [['name', 'x'], ['n', 1]])}e`, true],
  ['30,000 short strs', `](${'X\x03\x00\x00\x00abc'.repeat(30_000)}e`, true],
  // Protocol 0's way, one APPEND an item: the list grows in place (made again for each item, it was quadratic).
  ['30,000 ints appended one at a time', `]${'K\x01a'.repeat(30_000)}`, true],
  ['2,000 records appended one at a time', `]${'}(X\x04\x00\x00\x00nameX\x01\x00\x00\x00xX\x01\x00\x00\x00nK\x01ua'.repeat(2_000)}`, true],
  ['30,000 ints beyond 2^32', `](${longInts(30_000)}e`, true],
  ['a dict of 10,000 int keys', `}(${Array.from({ length: 10_000 }, (_, i) => `J${latin1(Buffer.from(Int32Array.of(i).buffer).toString('latin1')).toString('latin1')}N`).join('')}u`],
  ['a set of 20,000 ints', `\x8f(${Array.from({ length: 20_000 }, (_, i) => `J${Buffer.from(Int32Array.of(i).buffer).toString('latin1')}`).join('')}\x90`],
  ['20,000 tuples of two ints', `](${'K\x01K\x02\x86'.repeat(20_000)}e`],
  ['20,000 bytes', `](${'C\x03abc'.repeat(20_000)}e`],
  ['50,000 references to one dict', `](}q\x00${'h\x00'.repeat(50_000)}e`, true],
  ['10,000 objects of a class', `cmodule\nName\nq\x000](${'h\x00)\x81'.repeat(10_000)}e`],
] as const) {
  test(`the pickle reader's count of ${name} is at least what they hold${ordinary ? ', and within the rule' : ''}`, (t) => {
    const frame = Buffer.concat([latin1('\x80\x04'), latin1(opcodes), latin1('.')]);
    const read = () => {
      const budget: HeldBudget = { maxHeldBytes: Infinity, messageBytes: frame.length };
      return { value: fromPython(unpickle(frame, { heldBudget: budget }), () => REFERENCE), budget };
    };
    const { held, value } = leastHeld(read);
    const counted = value.budget.counted!;
    t.diagnostic(`${frame.length} bytes: ${held} bytes held, ${counted} counted (${(counted / Math.max(held, 1)).toFixed(2)} times)`);
    assert.ok(counted + measuringSlack(held) >= held, `${counted} bytes counted, ${held} held`);
    if (ordinary) assert.ok(counted <= allowed(frame.length), `${counted} bytes counted for ${frame.length} bytes: over ${allowed(frame.length)}, refused`);
    else t.diagnostic(`the rule allows ${allowed(frame.length)}: ${held > allowed(frame.length) ? 'more held' : 'within'}`);
  });
}

// Big dicts, read as a JSON-RPC message: kept as text, and within the rule.
const bigDicts = [
  ['one dict of 50,000 short keys', `[{${jsonKeys(50_000)}}]`],
  ['1,000 dicts of the same 50 keys', `[[${Array(1_000).fill(`{${jsonKeys(50)}}`).join(',')}]]`],
] as const;
for (const [name, args] of bigDicts) {
  test(`a JSON-RPC message of ${name} is read, holding at most 4 times its bytes plus ${READ_BYTES_PER_MESSAGE} bytes`, (t) => {
    const body = jsonPut(args);
    const refused = withinRuleOrRefused(t, Buffer.byteLength(body), () => readJson(body), (value) => (typeof value === 'string' ? value : undefined));
    assert.equal(refused, undefined, 'an ordinary message is read');
  });
}

// What the JSON walk counts for records built (beside a $proxy, or too small to keep as text),
// against what they hold built: never less, and no more than the measurement's own slack beyond
// it, so that a message the rule lets in is not refused for an over-count. A record of many keys
// is a hash table of a power of two entries; each key's string is held once.
const keysWith = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `"${prefix}${i}":1`).join(',');
for (const [name, args] of [
  ...bigDicts,
  ['one dict of 10,000 short keys', `[{${keysWith(10_000, 'a')}}]`],
  ['one dict of 90,000 short keys', `[{${keysWith(90_000, 'b')}}]`],
  ['1,000 dicts of 50 keys each their own', `[[${Array.from({ length: 1_000 }, (_, j) => `{${keysWith(50, `d${j}_`)}}`).join(',')}]]`],
  ['500 dicts of the same 150 keys', `[[${Array(500).fill(`{${keysWith(150, 'c')}}`).join(',')}]]`],
  ['one dict of 20,000 keys of 30 characters', `[{${Array.from({ length: 20_000 }, (_, i) => `"a_rather_longer_key_name_${String(i).padStart(5, '0')}":1`).join(',')}}]`],
  ['one dict of 30,000 keys of string values', `[{${Array.from({ length: 30_000 }, (_, i) => `"e${i}":"v"`).join(',')}}]`],
] as const) {
  test(`the JSON walk's count of ${name}, built, is at least what it holds and not grossly more`, (t) => {
    const body = jsonPut(args);
    const build = () => {
      const params = JSON.parse(body).params as { args: unknown[]; kwargs: Record<string, unknown> };
      return [decodeValue(params.args, { boxFloats: true }), decodeKeywords(params.kwargs, { boxFloats: true })];
    };
    const { held } = leastHeld(build);
    const walk = new JsonTextWalk(body);
    walk.at = body.indexOf('"args":') + '"args":'.length;
    walk.reset();
    walk.value();
    t.diagnostic(`${Buffer.byteLength(body)} bytes: ${held} bytes held built, ${walk.held} counted (${(walk.held / held).toFixed(2)} times)`);
    assert.ok(walk.held + measuringSlack(held) >= held, `${walk.held} bytes counted, ${held} held`);
    // Grossly, not tightly: the same dict of 10,000 keys measured 328 to 631 KB held from one
    // process to the next (its keys' strings are held once, or found again when something kept
    // them from an earlier read), counted 729 KB. That ordinary big dicts are read within the rule
    // is checked by the rows above.
    assert.ok(walk.held <= 2.5 * held + 4096, `${walk.held} bytes counted, ${held} held: over-counted`);
  });
}

// While a pickle is read, not only once it is: what the reader holds at its largest (everything it
// has made, with whatever it made it from, alive together) is within the rule, or it is refused.
test('a pickle of 99,000 empty dicts beside a proxy: the reader holds at most 4 times its bytes plus 65536 bytes while it reads, or refuses it naming the rule', (t) => {
  const frame = pickledRequest(`](${PICKLED_PROXY}${dicts(99_000)}e\x85`);
  /** What the heap held above `before` where the reader says it holds the most, and the refusal, if any. */
  const peakOf = () => {
    const before = heapHeld();
    let peak = 0;
    let refused: string | undefined;
    const budget: HeldBudget = { maxHeldBytes: allowed(frame.length), messageBytes: frame.length, atPeak: () => (peak = Math.max(peak, heapHeld() - before)) };
    try {
      unpickle(frame, { heldBudget: budget });
    } catch (error) {
      refused = (error as Error).message;
    }
    return { peak, refused };
  };
  peakOf();
  const tries = Array.from({ length: 5 }, peakOf);
  // The median of five: a try can count what something else made in the same moments (V8 compiling the reader's hot loop), or miss what it freed.
  const peak = tries.map((r) => r.peak).sort((a, b) => a - b)[2];
  const { refused } = tries[0];
  t.diagnostic(`${frame.length} bytes: at most ${peak} bytes held while read (${tries.map((r) => r.peak).join(', ')}), ${(peak / frame.length).toFixed(1)} times the bytes; ${refused ? `refused (${refused.slice(0, 160)})` : 'read'}`);
  assert.ok(peak > 0, 'the reader said where it holds the most');
  if (refused) {
    assert.match(refused, RULE_REFUSAL);
    // It names what this message held that was built whole, not every reason there may be.
    assert.match(refused, /: a value holding a proxy is built whole; send the dense part as an argument of its own$/);
  }
  assert.ok(peak <= allowed(frame.length), `${peak} bytes held while reading ${frame.length} bytes: over ${allowed(frame.length)}`);
});
