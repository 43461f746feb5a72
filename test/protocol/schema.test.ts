import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, errorCodeNames } from '../../src/common/errorCodes';
import { PROTOCOL_VERSION, notificationMethods, requestMethods } from '../../src/common/protocol';
import { VALUE_TAGS, decodeValue, encodeValue } from '../../src/common/valueCodec';
import { FrozenSet, Float, OpaqueValue, tuple } from '../../src/common/valueTypes';
import { createResponse, frameHandshake, makeChallenge } from '../../src/common/handshake';
import { createAjv, definitionName, loadSchema, validateDefinition, validateMessage } from './schemaValidator';

const protocolDir = join(__dirname, '..', '..', 'protocol');
const examplesDir = join(protocolDir, 'examples');
const spec = readFileSync(join(protocolDir, 'SPEC.md'), 'utf8');
const schema = loadSchema();

const examples = readdirSync(examplesDir)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, message: JSON.parse(readFileSync(join(examplesDir, name), 'utf8')) as Record<string, unknown> }));

/** Example files are named after their method: `object-call.get.response.json` answers `object/call`. */
const methodByPrefix: Record<string, string> = {
  initialize: 'initialize',
  shutdown: 'shutdown',
  'manager-describe': 'manager/describe',
  'object-create': 'object/create',
  'object-call': 'object/call',
  'object-incref': 'object/incref',
  'object-decref': 'object/decref',
  'cancel-request': '$/cancelRequest',
  'answers-seen': '$/answersSeen',
  'inspect-snapshot': 'inspect/snapshot',
  'inspect-group': 'inspect/group',
  'inspect-peek': 'inspect/peek',
  'inspect-subscribe': 'inspect/subscribe',
  'inspect-unsubscribe': 'inspect/unsubscribe',
  'inspect-changed': 'inspect/changed',
  'inspect-watch-calls': 'inspect/watchCalls',
  'inspect-unwatch-calls': 'inspect/unwatchCalls',
  'inspect-calls': 'inspect/calls',
  'inspect-remove-item': 'inspect/removeItem',
  'inspect-replace-item': 'inspect/replaceItem',
  ping: '$/ping',
  'delivery-ack': 'delivery/ack',
  'delivery-nack': 'delivery/nack',
};

const allMethods: string[] = [...requestMethods, ...notificationMethods];

/**
 * Each method's direction as protocol.ts documents it: every message namespace there opens its doc
 * comment with "`method`: client → server" or "`method`: server → client".
 */
const protocolSource = readFileSync(join(__dirname, '..', '..', 'src', 'common', 'protocol.ts'), 'utf8');
const documentedDirection = new Map(
  [...protocolSource.matchAll(/\/\*\*\s*`([^`]+)`: (client → server|server → client)/g)].map((m) => [m[1], m[2] === 'client → server' ? 'clientToServer' : 'serverToClient']),
);

/** `"1.10"` → [1, 10], for comparing versions. */
function versionParts(version: string): [number, number] {
  const [major, minor] = version.split('.').map(Number);
  return [major, minor];
}

test('the schema compiles with ajv (JSON Schema 2020-12, strict mode)', () => {
  const ajv = createAjv();
  assert.doesNotThrow(() => ajv.compile(loadSchema()));
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
});

test('x-protocolVersion is PROTOCOL_VERSION', () => {
  assert.equal(schema['x-protocolVersion'], PROTOCOL_VERSION);
});

test('x-errorCodes is exactly ErrorCodes', () => {
  assert.deepEqual(schema['x-errorCodes'], { ...ErrorCodes });
});

test('x-valueTags is exactly VALUE_TAGS, in order', () => {
  assert.deepEqual(schema['x-valueTags'], [...VALUE_TAGS]);
});

test('x-methods has exactly the request and notification methods of protocol.ts', () => {
  assert.deepEqual(Object.keys(schema['x-methods']).sort(), [...allMethods].sort());
  for (const method of requestMethods) assert.equal(schema['x-methods'][method].kind, 'request', method);
  for (const method of notificationMethods) assert.equal(schema['x-methods'][method].kind, 'notification', method);
});

test('every x-methods entry is well formed: direction, resolvable refs, known error names', () => {
  for (const [method, entry] of Object.entries(schema['x-methods'])) {
    assert.ok(entry.direction === 'clientToServer' || entry.direction === 'serverToClient', `${method}: direction ${entry.direction}`);
    // Requests only ever go client → server; only notifications may go the other way.
    if (entry.kind === 'request') assert.equal(entry.direction, 'clientToServer', method);
    assert.ok(definitionName(entry.params) in schema.$defs, `${method}: params ${entry.params.$ref}`);
    if (entry.kind === 'request') {
      assert.ok(entry.result, `${method} has a result`);
      assert.ok(definitionName(entry.result) in schema.$defs, `${method}: result ${entry.result.$ref}`);
    } else {
      assert.equal(entry.result, undefined, `${method} is a notification: no result`);
    }
    for (const name of entry.errors ?? []) assert.ok(name in ErrorCodes, `${method}: unknown error ${name}`);
  }
});

test('each method goes the direction protocol.ts documents for it', () => {
  for (const method of allMethods) {
    assert.ok(documentedDirection.has(method), `protocol.ts documents no direction for ${method}`);
    assert.equal(schema['x-methods'][method].direction, documentedDirection.get(method), method);
  }
  const serverToClient = allMethods.filter((m) => documentedDirection.get(m) === 'serverToClient');
  assert.deepEqual(serverToClient, ['inspect/changed', 'inspect/calls']);
});

test('methods added after 1.0 say since when and under which capability; none is newer than the protocol', () => {
  const [major, minor] = versionParts(PROTOCOL_VERSION);
  const capabilities = Object.keys((schema.$defs.ServerCapabilities as { properties: Record<string, unknown> }).properties);
  for (const [method, entry] of Object.entries(schema['x-methods'])) {
    if (entry.since === undefined) continue;
    const [m, n] = versionParts(entry.since);
    assert.ok(m === major && n <= minor, `${method}: since ${entry.since} under protocol ${PROTOCOL_VERSION}`);
    assert.ok(entry.capability && capabilities.includes(entry.capability), `${method}: capability ${entry.capability}`);
  }
  // Inspection came in 1.1; watching calls (17.8), removing or replacing a queue item (17.9, 17.10) and the group (17.11) in 1.3.
  const watchingCalls = ['inspect/watchCalls', 'inspect/unwatchCalls', 'inspect/calls', 'inspect/removeItem', 'inspect/replaceItem', 'inspect/group'];
  for (const method of allMethods.filter((m) => m.startsWith('inspect/'))) {
    assert.equal(schema['x-methods'][method].since, watchingCalls.includes(method) ? '1.3' : '1.1', method);
    assert.equal(schema['x-methods'][method].capability, 'inspection', method);
  }
});

test('the message envelopes list exactly the methods and error codes of the TypeScript', () => {
  const defs = schema.$defs as Record<string, { properties: Record<string, { enum?: unknown[]; properties?: Record<string, { enum?: unknown[] }> }> }>;
  assert.deepEqual(defs.Request.properties.method.enum, [...requestMethods]);
  assert.deepEqual(defs.Notification.properties.method.enum, [...notificationMethods]);
  assert.deepEqual(
    [...(defs.ErrorResponse.properties.error.properties!.code.enum as number[])].sort((a, b) => a - b),
    Object.values(ErrorCodes).sort((a, b) => a - b),
  );
});

test('the brief-named $defs exist', () => {
  const names = [
    'InitializeParams', 'InitializeResult', 'ShutdownParams', 'DescribeResult', 'TypeidDescription', 'CreateParams', 'Token',
    'CallParams', 'RefParams', 'CancelParams', 'ServerCapabilities', 'ClientInfo', 'ErrorData', 'Value', 'Request',
    'Notification', 'Response', 'ErrorResponse',
    // 1.1: inspection.
    'InspectSnapshotParams', 'InspectSnapshot', 'ServerSummary', 'ObjectSummary', 'SessionSummary', 'PendingCallSummary',
    'PeekParams', 'PeekResult', 'SubscribeParams', 'UnsubscribeParams', 'InspectChangedParams',
    // 1.3: watching calls.
    'WatchCallsParams', 'InspectCallsParams', 'CallRecord',
  ];
  for (const name of names) assert.ok(name in schema.$defs, name);
});

test('every example is one valid message', () => {
  assert.ok(examples.length > 0);
  for (const { name, message } of examples) {
    assert.deepEqual(validateMessage(message), [], name);
  }
});

test('every example response has the result shape of its method', () => {
  for (const { name, message } of examples) {
    if (!name.endsWith('.response.json')) continue;
    const method = methodByPrefix[name.split('.')[0]];
    assert.ok(method, `${name}: name it after its method (${Object.keys(methodByPrefix).join(', ')})`);
    assert.deepEqual(validateMessage(message, method), [], name);
  }
});

test('examples named after a method carry that method', () => {
  for (const { name, message } of examples) {
    if (!name.endsWith('.request.json') && !name.endsWith('.notification.json')) continue;
    assert.equal(message.method, methodByPrefix[name.split('.')[0]], name);
  }
});

test('every method and every error code has an example', () => {
  const methods = new Set(examples.map(({ message }) => message.method).filter((m) => m !== undefined));
  for (const method of allMethods) assert.ok(methods.has(method), `no example of ${method}`);
  const codes = new Set(examples.map(({ message }) => (message.error as { code?: number } | undefined)?.code));
  for (const [name, code] of Object.entries(ErrorCodes)) assert.ok(codes.has(code), `no example of ${name}`);
});

test('example error data name the error, except exceptions, which carry a Python type', () => {
  for (const { name, message } of examples) {
    const error = message.error as { code: number; data: { type: string } } | undefined;
    if (!error) continue;
    if (error.code === ErrorCodes.RemoteException) assert.notEqual(error.data.type, 'RemoteException', name);
    else if (error.code === ErrorCodes.MethodNotExposed) assert.equal(error.data.type, 'AttributeError', name);
    else assert.equal(error.data.type, errorCodeNames.get(error.code), name);
  }
});

test('every value in the examples decodes with the value codec', () => {
  const acceptProxies = { decodeProxy: (token: unknown) => token };
  for (const { name, message } of examples) {
    const params = message.params as { args?: unknown[]; kwargs?: Record<string, unknown> } | undefined;
    if (message.method === 'object/call' || message.method === 'object/create') {
      assert.doesNotThrow(() => decodeValue(params?.args ?? [], acceptProxies), name);
      for (const value of Object.values(params?.kwargs ?? {})) assert.doesNotThrow(() => decodeValue(value, acceptProxies), name);
    }
    if (name.startsWith('object-call.') && 'result' in message) assert.doesNotThrow(() => decodeValue(message.result, acceptProxies), name);
    // Inspection results are protocol data, but the values inside them are in the wire encoding.
    const result = message.result as { items?: unknown[]; objects?: { details: Record<string, unknown> }[] } | undefined;
    if (name.startsWith('inspect-peek.') && result) for (const item of result.items!) assert.doesNotThrow(() => decodeValue(item), name);
    if (name.startsWith('inspect-snapshot.') && result) {
      for (const o of result.objects!) for (const key of ['typecode', 'value']) if (key in o.details) assert.doesNotThrow(() => decodeValue(o.details[key]), name);
    }
  }
});

test('a 1.0 client is served: the 1.0 initialize example agrees on 1.0 with a server of the current version', () => {
  const request = examples.find(({ name }) => name === 'initialize.v1-0-client.request.json')!.message as { params: { protocolVersion: string } };
  const response = examples.find(({ name }) => name === 'initialize.v1-0-client.response.json')!.message as { result: { protocolVersion: string } };
  assert.equal(request.params.protocolVersion, '1.0');
  assert.equal(response.result.protocolVersion, '1.0');
  const current = examples.find(({ name }) => name === 'initialize.response.json')!.message as { result: { protocolVersion: string } };
  assert.equal(current.result.protocolVersion, PROTOCOL_VERSION);
});

test('what the value codec encodes is a valid Value', () => {
  const samples: unknown[] = [
    null, true, 42, 2.5, 'text', [1, [2, [3]]], { a: 1, b: [true] },
    new Uint8Array([0, 1, 255]), 12345678901234567890n, new Float(2), NaN, Infinity, -Infinity,
    tuple<unknown>(1, 'a'), new Set([1, 2]), new FrozenSet(['x']), new Map<unknown, unknown>([[1, 'one'], [tuple(2, 3), 'pair']]),
    { $ref: 'not a tag' }, new OpaqueValue('python', 'fractions.Fraction', new Uint8Array([0x80, 4, 0x2e])),
  ];
  for (const sample of samples) {
    const encoded = encodeValue(sample);
    assert.deepEqual(validateDefinition('Value', encoded), [], JSON.stringify(encoded));
  }
});

test('SPEC.md names every method, every error code and every value tag', () => {
  for (const method of allMethods) assert.ok(spec.includes(`\`${method}\``), `SPEC.md lacks ${method}`);
  for (const [name, code] of Object.entries(ErrorCodes)) {
    assert.ok(spec.includes(`\`${name}\``), `SPEC.md lacks ${name}`);
    assert.ok(spec.includes(`| ${code} | \`${name}\` |`), `SPEC.md's error table lacks ${code} ${name}`);
  }
  for (const tag of VALUE_TAGS) assert.ok(spec.includes(`\`${tag}\``), `SPEC.md lacks ${tag}`);
  assert.ok(spec.includes(`version ${PROTOCOL_VERSION}`));
});

test("SPEC.md's method summary has a row per method, saying which way each notification goes", () => {
  const summary = spec.slice(spec.indexOf('## 16. Method summary'));
  for (const method of allMethods) {
    const row = summary.split('\n').find((line) => line.startsWith(`| \`${method}\` |`));
    assert.ok(row, `no summary row for ${method}`);
    const kind = row.split('|')[2].trim();
    const entry = schema['x-methods'][method];
    assert.ok(kind.startsWith(entry.kind), `${method}: ${kind}`);
    assert.equal(kind.includes('server → client'), entry.direction === 'serverToClient', `${method}: ${kind}`);
  }
});

test('every json block in SPEC.md parses, and every message in it is valid', () => {
  const blocks = [...spec.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length > 10);
  for (const block of blocks) {
    const parsed = JSON.parse(block) as Record<string, unknown>;
    if ('jsonrpc' in parsed) assert.deepEqual(validateMessage(parsed), [], block);
  }
});

test("SPEC.md's handshake worked example is what handshake.ts computes", () => {
  const key = Buffer.from('lihui');
  const compact = spec.replace(/\s+/g, '');
  const hex = (b: Buffer) => b.toString('hex');
  for (const start of [0x00, 0x40]) {
    const random = Buffer.from(Array.from({ length: 40 }, (_, i) => start + i));
    const challenge = makeChallenge(random);
    const response = createResponse(key, challenge.subarray('#CHALLENGE#'.length));
    assert.ok(compact.includes(hex(frameHandshake(challenge))), `challenge from 0x${start.toString(16)}`);
    assert.ok(compact.includes(hex(frameHandshake(response))), `response to 0x${start.toString(16)}`);
  }
  const legacy = Buffer.from(Array.from({ length: 20 }, (_, i) => i));
  assert.ok(compact.includes(hex(frameHandshake(Buffer.concat([Buffer.from('#CHALLENGE#'), legacy])))));
  assert.ok(compact.includes(hex(frameHandshake(createResponse(key, legacy)))));
  assert.ok(compact.includes(hex(frameHandshake(Buffer.from('#WELCOME#')))));
  assert.ok(compact.includes(hex(frameHandshake(Buffer.from('#FAILURE#')))));
});

test('SPEC.md states the Content-Length of its first example message correctly', () => {
  const match = /Content-Length: (\d+)\\r\\n\\r\\n\n```\n\n```json\n(.*)\n```/.exec(spec);
  assert.ok(match, 'the example session shows a header and then its body');
  assert.equal(Number(match[1]), Buffer.byteLength(match[2], 'utf8'));
});

test('invalid messages are refused', () => {
  const call = (params: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'object/call', params });
  const invalid: [string, unknown][] = [
    ['a call without id', call({ method: 'get' })],
    ['a call without method', call({ id: '1' })],
    ['a call with an unknown param', call({ id: '1', method: 'get', timeout: 1 })],
    ['args that are not an array', call({ id: '1', method: 'put', args: { item: 1 } })],
    ['positional params', { jsonrpc: '2.0', id: 1, method: 'object/call', params: ['1', 'get'] }],
    ['a request with a null id', { jsonrpc: '2.0', id: null, method: 'manager/describe' }],
    ['jsonrpc 1.0', { jsonrpc: '1.0', id: 1, method: 'manager/describe' }],
    ['an unknown method', { jsonrpc: '2.0', id: 1, method: 'object/frobnicate', params: {} }],
    ['initialize without protocolVersion', { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }],
    ['initialize with a bad version', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '1' } }],
    ['initialize with an unknown member', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '1.0', locale: 'en' } }],
    ['describe with params', { jsonrpc: '2.0', id: 1, method: 'manager/describe', params: { verbose: true } }],
    ['decref without params', { jsonrpc: '2.0', id: 1, method: 'object/decref' }],
    ['a cancel without id', { jsonrpc: '2.0', method: '$/cancelRequest', params: {} }],
    ['an unknown notification', { jsonrpc: '2.0', method: '$/progress', params: {} }],
    ['an error without data', { jsonrpc: '2.0', id: 1, error: { code: -31005, message: 'gone' } }],
    ['an error with an unknown code', { jsonrpc: '2.0', id: 1, error: { code: -1, message: 'x', data: { type: 'X', message: 'x' } } }],
    ['a response with both result and error', { jsonrpc: '2.0', id: 1, result: null, error: { code: -31005, message: 'x', data: { type: 'UnknownObject', message: 'x' } } }],
    ['a batch', [{ jsonrpc: '2.0', id: 1, method: 'manager/describe' }]],
    ['a snapshot with params', { jsonrpc: '2.0', id: 1, method: 'inspect/snapshot', params: { objects: true } }],
    ['a peek without params', { jsonrpc: '2.0', id: 1, method: 'inspect/peek' }],
    ['a peek without id', { jsonrpc: '2.0', id: 1, method: 'inspect/peek', params: { offset: 0 } }],
    ['a peek with limit 0', { jsonrpc: '2.0', id: 1, method: 'inspect/peek', params: { id: '1', limit: 0 } }],
    ['a peek with limit 1001', { jsonrpc: '2.0', id: 1, method: 'inspect/peek', params: { id: '1', limit: 1001 } }],
    ['a peek with a negative offset', { jsonrpc: '2.0', id: 1, method: 'inspect/peek', params: { id: '1', offset: -1 } }],
    ['a peek with a fractional offset', { jsonrpc: '2.0', id: 1, method: 'inspect/peek', params: { id: '1', offset: 1.5 } }],
    ['a subscribe with intervalMs under 10', { jsonrpc: '2.0', id: 1, method: 'inspect/subscribe', params: { intervalMs: 5 } }],
    ['a subscribe with intervalMs over 60000', { jsonrpc: '2.0', id: 1, method: 'inspect/subscribe', params: { intervalMs: 60001 } }],
    ['an unsubscribe with params', { jsonrpc: '2.0', id: 1, method: 'inspect/unsubscribe', params: { all: true } }],
    ['inspect/changed without sessions', { jsonrpc: '2.0', method: 'inspect/changed', params: { changed: [], added: [], removed: [] } }],
    ['inspect/changed with numeric ids', { jsonrpc: '2.0', method: 'inspect/changed', params: { changed: [1], added: [], removed: [], sessions: false } }],
    ['inspect/changed as a request', { jsonrpc: '2.0', id: 1, method: 'inspect/changed', params: { changed: [], added: [], removed: [], sessions: true } }],
    ['a string', 'hello'],
  ];
  for (const [what, message] of invalid) assert.notDeepEqual(validateMessage(message), [], what);
});

test('invalid values are refused, and the tag rule is applied exactly', () => {
  const invalid: [string, unknown][] = [
    ['an unknown tag', { $foo: 1 }],
    ['an unknown tag, nested', [1, { a: { $complex: [1, 2] } }]],
    ['$int with non-digits', { $int: '12a' }],
    ['$int as a number', { $int: 12 }],
    ['$float with another word', { $float: 'NaN' }],
    ['$bytes that is not base64', { $bytes: 'abc' }],
    ['a $dict pair of three', { $dict: [[1, 2, 3]] }],
    ['a $dict that is an object', { $dict: { a: 1 } }],
    ['$tuple that is not an array', { $tuple: 'ab' }],
    ['$opaque without data', { $opaque: { lang: 'python', type: 'x' } }],
    ['$proxy without exposed', { $proxy: { id: '1', typeid: 'Queue' } }],
    ['a bare int beyond 2^53-1', 2 ** 60],
    ['an integral float written bare beyond 2^53-1', 1e300],
  ];
  for (const [what, value] of invalid) assert.notDeepEqual(validateDefinition('Value', value), [], what);
  const valid: [string, unknown][] = [
    ['two members, one $-named: a plain dict', { $int: '1', x: 2 }],
    ['an empty object', {}],
    ['a $dict escaping a $-named key', { $dict: [['$ref', 'x']] }],
    ['$float with a whole number', { $float: 2 }],
    ['$float inf', { $float: 'inf' }],
    ['the largest safe int', 9007199254740991],
    ['a big $int', { $int: '-123456789012345678901234567890' }],
  ];
  for (const [what, value] of valid) assert.deepEqual(validateDefinition('Value', value), [], what);
});

test('a $proxy in a call is schema-valid but the codec refuses it without a proxy decoder (InvalidValue)', () => {
  const token = { id: '1', typeid: 'Queue', exposed: ['get'] };
  assert.deepEqual(validateDefinition('Value', { $proxy: token }), []);
  assert.throws(() => decodeValue([{ $proxy: token }]), /\$proxy at \$\[0\] is not accepted here/);
});

test('inspection results are checked against their method', () => {
  const peek = (result: unknown) => validateMessage({ jsonrpc: '2.0', id: 3, result }, 'inspect/peek');
  assert.deepEqual(peek({ id: '1', kind: 'items', total: 1, offset: 0, items: [{ $int: '1' }] }), []);
  assert.deepEqual(peek({ id: '1', kind: 'entries', total: 2, offset: 0, items: [['k', 1], '<Array>'] }), [], 'an entry that cannot be encoded is shown as a string');
  assert.notDeepEqual(peek({ id: '1', kind: 'entries', total: 1, offset: 0, items: [['k', 1, 2]] }), [], 'an entry is a pair');
  assert.notDeepEqual(peek({ id: '1', kind: 'attributes', total: 1, offset: 0, items: [[1, 1]] }), [], 'an attribute is named by a string');
  assert.notDeepEqual(peek({ id: '1', kind: 'value', total: 2, offset: 0, items: [1, 2] }), [], 'a Value holds one item');
  assert.notDeepEqual(peek({ id: '1', kind: 'bytes', total: 0, offset: 0, items: [] }), [], 'unknown kind');
  assert.notDeepEqual(peek({ id: '1', kind: 'items', total: 1, offset: 0, items: [{ $complex: [1, 2] }] }), [], 'items are values');
  const summary = { id: '1', typeid: 'q', type: 'Queue', refcount: 1, holders: [{ sessionId: 's1', references: 1 }], details: {} };
  const snapshot = (objects: unknown[]) =>
    validateMessage({ jsonrpc: '2.0', id: 4, result: { server: { name: 'syncmanager', version: '0', processId: 1, address: '127.0.0.1:1', startedAt: 0 }, typeids: [], objects, sessions: [] } }, 'inspect/snapshot');
  assert.notDeepEqual(snapshot([summary]), [], "a Queue's details name its counters");
  assert.deepEqual(snapshot([{ ...summary, details: { maxsize: 0, unfinishedTasks: 0, waitingGetters: 0, waitingPutters: 0 } }]), []);
  assert.notDeepEqual(snapshot([{ ...summary, type: 'Value', details: {} }]), [], "a Value's details hold its typecode and value");
  assert.deepEqual(snapshot([{ ...summary, type: 'Counter', details: {} }]), [], 'other types may have empty details');
  assert.deepEqual(validateMessage({ jsonrpc: '2.0', id: 5, result: null }, 'inspect/subscribe'), []);
});

test("the types added in 1.2 have their snapshot details checked (SPEC 17.3's table)", () => {
  const summary = { id: '1', typeid: 't', refcount: 1, holders: [{ sessionId: 's1', references: 1 }] };
  const snapshot = (type: string, details: Record<string, unknown>, size?: number) =>
    validateMessage(
      {
        jsonrpc: '2.0',
        id: 4,
        result: {
          server: { name: 'syncmanager', version: '0', processId: 1, address: '127.0.0.1:1', startedAt: 0 },
          typeids: [],
          objects: [{ ...summary, type, details, ...(size === undefined ? {} : { size }) }],
          sessions: [],
        },
      },
      'inspect/snapshot',
    );
  const queue = { maxsize: 0, unfinishedTasks: 0, waitingGetters: 0, waitingPutters: 0 };
  const valid: [string, Record<string, unknown>, number?][] = [
    ['LifoQueue', queue, 0],
    ['PriorityQueue', queue, 0],
    ['set', {}, 2],
    ['Array', { typecode: 'd' }, 3],
    ['Lock', { locked: true, owner: 's1', waiting: 1 }],
    ['Lock', { locked: false, owner: null, waiting: 0 }],
    ['RLock', { locked: true, owner: 'local', count: 2, waiting: 0 }],
    ['Semaphore', { value: 1, waiting: 0, holders: { s1: 1 } }],
    ['BoundedSemaphore', { value: 1, waiting: 0, holders: {}, initial: 2 }],
    ['Condition', { lock: 'RLock', locked: false, owner: null, waiting: 0 }],
    ['Event', { set: false, waiting: 2 }],
    ['Barrier', { parties: 3, waiting: 1, broken: false }],
    ['Iterator', {}],
  ];
  for (const [type, details, size] of valid) assert.deepEqual(snapshot(type, details, size), [], `${type} ${JSON.stringify(details)}`);
  const invalid: [string, Record<string, unknown>][] = [
    ['LifoQueue', {}],
    ['Array', {}],
    ['Lock', { locked: true }],
    ['Lock', { locked: true, owner: 1, waiting: 0 }],
    ['RLock', { locked: true, owner: 's1', waiting: 0 }],
    ['Semaphore', { value: 1, waiting: 0, holders: { s1: 0 } }],
    ['BoundedSemaphore', { value: 1, waiting: 0, holders: {} }],
    ['Condition', { lock: 'Semaphore', locked: false, owner: null, waiting: 0 }],
    ['Event', { set: 'no', waiting: 0 }],
    ['Barrier', { parties: 3, waiting: 0 }],
  ];
  for (const [type, details] of invalid) assert.notDeepEqual(snapshot(type, details), [], `${type} ${JSON.stringify(details)}`);
  // The example shows a session holding a Lock, and another blocked acquiring it.
  const example = examples.find(({ name }) => name === 'inspect-snapshot.locks.response.json')!.message as {
    result: { objects: { id: string; type: string; details: Record<string, unknown> }[]; sessions: { sessionId: string; holds?: string[] }[] };
  };
  const lock = example.result.objects.find((o) => o.type === 'Lock')!;
  const holder = example.result.sessions.find((s) => s.sessionId === lock.details.owner)!;
  assert.deepEqual(holder.holds, [lock.id]);
});

test('validateMessage checks a result against its method when told the method', () => {
  assert.deepEqual(validateMessage({ jsonrpc: '2.0', id: 3, result: { id: '1', typeid: 'Queue', exposed: [] } }, 'object/create'), []);
  assert.notDeepEqual(validateMessage({ jsonrpc: '2.0', id: 3, result: { id: 1 } }, 'object/create'), []);
  assert.notDeepEqual(validateMessage({ jsonrpc: '2.0', id: 3, result: 0 }, 'object/decref'), []);
  assert.deepEqual(validateMessage({ jsonrpc: '2.0', id: 3, result: { extra: 'ignored', typeids: [] } }, 'manager/describe'), []);
});
