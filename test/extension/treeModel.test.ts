import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectSnapshot, PeekResult } from '../../src/common/protocol';
import { contentRows, describeObject, elapsed, filteredRows, nestedRows, objectRows, partsOf, sessionDetailRows, sessionRows, showsState, stateRows, typeidRows } from '../../src/extension/model/treeModel';

const snapshot: InspectSnapshot = {
  server: { name: 'syncmanager', version: '0', processId: 1, address: '127.0.0.1:50000', startedAt: 0 },
  typeids: [
    { typeid: 'Queue', exposed: null, methodToTypeid: {}, createMethod: true, creatable: true, builtin: 'Queue' },
    { typeid: 'dict', exposed: null, methodToTypeid: {}, createMethod: true, creatable: true, builtin: 'dict' },
    { typeid: 'get_task_queue', exposed: null, methodToTypeid: {}, createMethod: true, creatable: true },
    { typeid: 'Counter', exposed: ['increment'], methodToTypeid: {}, createMethod: true, creatable: true },
  ],
  objects: [
    { id: '1', typeid: 'get_task_queue', builtin: 'Queue', type: 'Queue', refcount: 2, holders: [{ sessionId: 's1', references: 1 }, { sessionId: 's2', references: 1 }], size: 3, details: { maxsize: 0, unfinishedTasks: 3, waitingGetters: 0, waitingPutters: 0 } },
    { id: '2', typeid: 'Queue', builtin: 'Queue', type: 'Queue', refcount: 1, holders: [{ sessionId: 's2', references: 1 }], size: 0, details: { maxsize: 5, unfinishedTasks: 0, waitingGetters: 2, waitingPutters: 0 } },
  ],
  sessions: [
    { sessionId: 's1', clientInfo: { name: 'vscode' }, processId: 10, remoteAddress: '127.0.0.1:1', protocol: 'jsonrpc', connectedAt: 0, references: 1, pending: [] },
    { sessionId: 's2', clientInfo: { name: 'worker.ts' }, processId: 11, remoteAddress: '127.0.0.1:2', protocol: 'jsonrpc', connectedAt: 0, references: 2, pending: [{ requestId: 7, objectId: '2', typeid: 'Queue', method: 'get', since: 1000 }] },
  ],
};

test('roots are custom typeids always and built-ins only with live objects', () => {
  const rows = typeidRows(snapshot);
  assert.deepEqual(rows.map((r) => r.label), ['Queue', 'get_task_queue', 'Counter']);
  assert.equal(rows.find((r) => r.label === 'Counter')!.expandable, false);
  assert.match(rows.find((r) => r.label === 'get_task_queue')!.description!, /1 object/);
  assert.ok(rows.every((r) => r.id === `typeid:${r.label}`), 'stable ids');
});

test('counts are written with thousands separators, as the "more" rows are', () => {
  assert.match(describeObject({ ...snapshot.objects[0], size: 100_000 }), /^Queue · 100,000 items/);
});

test('object rows describe state, refs and holders, with a context value per built-in type', () => {
  const [row] = objectRows(snapshot, 'get_task_queue');
  assert.equal(row.id, 'object:1');
  assert.equal(row.contextValue, 'queue');
  assert.equal(row.description, 'Queue · 3 items · 2 refs');
  assert.match(row.tooltip!, /held by: vscode \(10\) \(1\), worker\.ts \(11\) \(1\)/);
  assert.equal(describeObject(snapshot.objects[1]), 'Queue · 0 items · max 5 · 2 waiting to get · 1 ref');
});

test('a page of queue items marks the next one, and a "more" row follows when there are more', () => {
  const page: PeekResult = { id: '1', kind: 'items', total: 250, offset: 0, items: [5, 'x', { $tuple: [1, 2] }] };
  const rows = contentRows(page, 'Queue');
  assert.deepEqual(rows.map((r) => r.label), ['5', "'x'", '(1, 2)', '247 more…']);
  assert.match(rows[0].description!, /^next · \[0\] int/);
  assert.equal(rows[0].contextValue, 'queueItem');
  assert.equal(rows[3].kind, 'more');
  assert.equal(rows[3].offset, 3);
  assert.equal(rows[1].id, 'item:1:i:1');
});

test('dict entries and namespace attributes are key rows with their own context values', () => {
  const dict = contentRows({ id: '4', kind: 'entries', total: 1, offset: 0, items: [[{ $tuple: [1, 2] }, 'v']] }, 'dict');
  assert.equal(dict[0].label, '(1, 2)');
  assert.equal(dict[0].description, ": 'v'");
  assert.equal(dict[0].contextValue, 'dictEntry');
  assert.deepEqual(dict[0].key, { $tuple: [1, 2] });
  const ns = contentRows({ id: '5', kind: 'attributes', total: 1, offset: 0, items: [['x', 1]] }, 'Namespace');
  assert.equal(ns[0].label, 'x');
  assert.equal(ns[0].description, '= 1');
  assert.equal(ns[0].contextValue, 'attribute');
  assert.equal(contentRows({ id: '6', kind: 'items', total: 0, offset: 0, items: [] }, 'list')[0].label, '(empty)');
});

test('clients show name, pid, protocol, references and waiting calls with their age', () => {
  const rows = sessionRows(snapshot, 's1');
  assert.equal(rows[0].label, 'vscode (this sidebar)');
  assert.equal(rows[1].description, 'pid 11 · 127.0.0.1:2 · jsonrpc · 2 refs · 1 waiting');
  const details = sessionDetailRows(snapshot, 's2', 3100);
  assert.equal(details[0].label, 'get on Queue');
  assert.equal(details[0].description, '#2 · 2.1 s');
  assert.deepEqual(details.slice(1).map((r) => r.label), ['get_task_queue #1', 'Queue #2']);
  assert.equal(elapsed(0, 125_000), '2 min 5 s');
});

test('a detached session shows until when it can be resumed', () => {
  const until = Date.UTC(2030, 0, 1, 12, 30, 15);
  const detached = { ...snapshot, sessions: snapshot.sessions.map((s) => (s.sessionId === 's2' ? { ...s, resumableUntil: until } : s)) };
  const row = sessionRows(detached, 's1').find((r) => r.sessionId === 's2')!;
  assert.equal(row.description, `detached, resumable until ${new Date(until).toLocaleTimeString()} · pid 11 · 127.0.0.1:2 · jsonrpc · 2 refs · 1 waiting`);
  assert.equal(row.icon, 'debug-disconnect');
  assert.equal(sessionRows(snapshot, 's1').find((r) => r.sessionId === 's2')!.icon, 'debug-pause');
});

/** A snapshot with one of each primitive, a lock held by the worker, and the worker's holds. */
const primitives: InspectSnapshot = {
  ...snapshot,
  objects: [
    { id: 'a', typeid: 'Lock', builtin: 'Lock', type: 'Lock', refcount: 1, holders: [{ sessionId: 's2', references: 1 }], details: { locked: true, owner: 's2', waiting: 2 } },
    { id: 'b', typeid: 'RLock', builtin: 'RLock', type: 'RLock', refcount: 1, holders: [{ sessionId: 's2', references: 1 }], details: { locked: true, owner: 's2', count: 3, waiting: 0 } },
    { id: 'c', typeid: 'Semaphore', builtin: 'Semaphore', type: 'Semaphore', refcount: 1, holders: [{ sessionId: 's2', references: 1 }], details: { value: 1, waiting: 0, holders: { s2: 2 } } },
    { id: 'd', typeid: 'Event', builtin: 'Event', type: 'Event', refcount: 1, holders: [{ sessionId: 's1', references: 1 }], details: { set: false, waiting: 4 } },
    { id: 'e', typeid: 'Barrier', builtin: 'Barrier', type: 'Barrier', refcount: 1, holders: [{ sessionId: 's1', references: 1 }], details: { parties: 3, waiting: 2, broken: false } },
    { id: 'f', typeid: 'Lock', builtin: 'Lock', type: 'Lock', refcount: 1, holders: [{ sessionId: 's1', references: 1 }], details: { locked: false, owner: null, waiting: 0 } },
    { id: 'g', typeid: 'PriorityQueue', builtin: 'PriorityQueue', type: 'PriorityQueue', refcount: 1, holders: [{ sessionId: 's1', references: 1 }], size: 2, details: { maxsize: 0, unfinishedTasks: 2, waitingGetters: 0, waitingPutters: 0 } },
  ],
  sessions: snapshot.sessions.map((s) => (s.sessionId === 's2' ? { ...s, holds: ['a', 'b', 'c'] } : s)),
};

test('locks, semaphores, events and barriers describe their state, naming the owner', () => {
  const names = new Map([['s2', 'worker.ts (11)']]);
  const described = primitives.objects.map((o) => describeObject(o, names));
  assert.deepEqual(described, [
    'Lock · locked by worker.ts (11) · 2 waiting · 1 ref',
    'RLock · locked by worker.ts (11) ×3 · 1 ref',
    'Semaphore · value 1 · 1 ref',
    'Event · clear · 4 waiting · 1 ref',
    'Barrier · 2/3 waiting · 1 ref',
    'Lock · unlocked · 1 ref',
    'PriorityQueue · 2 items · 1 ref',
  ]);
  const rows = objectRows(primitives, 'Lock');
  assert.deepEqual(rows.map((r) => r.icon), ['lock', 'unlock'], 'a free lock shows open');
  assert.equal(objectRows(primitives, 'PriorityQueue')[0].contextValue, 'queue', 'every queue gets the queue actions');
});

test('a primitive expands to its state rows, not to contents', () => {
  const lock = primitives.objects[0];
  assert.equal(showsState(lock), true);
  assert.equal(showsState(primitives.objects[6]), false);
  assert.deepEqual(stateRows(lock, primitives.sessions).map((r) => `${r.label}: ${r.description}`), ['locked: yes', 'owner: worker.ts (11)', 'waiting: 2']);
  assert.deepEqual(stateRows(primitives.objects[2], primitives.sessions).map((r) => `${r.label}: ${r.description}`), ['value: 1', 'held by worker.ts (11): 2 permits', 'waiting: 0']);
  assert.deepEqual(stateRows(primitives.objects[4], primitives.sessions).map((r) => `${r.label}: ${r.description}`), ['parties: 3', 'broken: no', 'waiting: 2']);
  assert.ok(stateRows(lock, primitives.sessions).every((r) => r.id.startsWith('state:a:')), 'stable ids');
});

test('a client that holds locks says so, and lists them before the objects it references', () => {
  const worker = sessionRows(primitives).find((r) => r.sessionId === 's2')!;
  assert.match(worker.description!, /holds 3 locks/);
  const children = sessionDetailRows(primitives, 's2', 2000);
  const holds = children.filter((r) => r.contextValue === 'heldLock');
  assert.deepEqual(holds.map((r) => r.label), ['holds Lock #a', 'holds RLock #b', 'holds Semaphore #c']);
  assert.ok(children.indexOf(holds[0]) > children.findIndex((r) => r.kind === 'pending'), 'after the waiting calls');
});

test('deliveries in flight show on their queue and under the client that holds them, not as locks', () => {
  const withDeliveries: InspectSnapshot = {
    ...primitives,
    objects: primitives.objects.map((o) => (o.id === 'g' ? { ...o, details: { ...o.details, deliveriesInFlight: 2 } } : o)),
    sessions: primitives.sessions.map((s) =>
      s.sessionId === 's2'
        ? {
            ...s,
            holds: ['a', 'b', 'c', 'g'],
            deliveries: [
              { deliveryId: 'd1', objectId: 'g', deliveryCount: 1, since: 1000 },
              { deliveryId: 'd4', objectId: 'g', deliveryCount: 3, since: 1500, visibleAt: 31_500 },
            ],
          }
        : s,
    ),
  };
  assert.equal(describeObject(withDeliveries.objects[6]), 'PriorityQueue · 2 items · 2 in flight · 1 ref');
  const worker = sessionRows(withDeliveries).find((r) => r.sessionId === 's2')!;
  assert.match(worker.description!, /holds 3 locks · 2 deliveries in flight/);
  const children = sessionDetailRows(withDeliveries, 's2', 2000);
  assert.deepEqual(children.filter((r) => r.contextValue === 'heldLock').map((r) => r.label), ['holds Lock #a', 'holds RLock #b', 'holds Semaphore #c']);
  const deliveries = children.filter((r) => r.contextValue === 'delivery');
  assert.deepEqual(deliveries.map((r) => [r.label, r.objectId]), [['delivery d1 of PriorityQueue #g', 'g'], ['delivery d4 of PriorityQueue #g', 'g']]);
  assert.match(deliveries[1].description!, /delivery 3/);
  assert.match(deliveries[1].tooltip!, /back to the queue at/);
  assert.ok(children.indexOf(deliveries[0]) > children.findIndex((r) => r.contextValue === 'heldLock'), 'after the locks');
});

test('an item whose value has parts expands into them, nested values too; scalars and tagged scalars do not', () => {
  const rows = contentRows({ id: '7', kind: 'items', total: 3, offset: 0, items: [{ task: 1, tags: ['a', 'b'] }, 5, { $tuple: [1, { $dict: [[2, 'two']] }] }] }, 'Queue');
  assert.deepEqual(rows.map((r) => r.expandable), [true, false, true]);
  const task = nestedRows(rows[0]);
  assert.deepEqual(task.map((r) => [r.label, r.description, r.expandable, r.contextValue]), [
    ["'task'", ': 1', false, 'nestedValue'],
    ["'tags'", ": ['a', 'b']", true, 'nestedValue'],
  ]);
  assert.deepEqual(nestedRows(task[1]).map((r) => [r.label, r.description]), [["'a'", '[0] str'], ["'b'", '[1] str']]);
  assert.ok(task.every((r) => r.id.startsWith(`${rows[0].id}/`)) && new Set(task.map((r) => r.id)).size === 2, 'stable, distinct ids under the item');
  const tuple = nestedRows(rows[2]);
  assert.deepEqual(tuple.map((r) => r.label), ['1', "{2: 'two'}"]);
  assert.deepEqual(nestedRows(tuple[1]).map((r) => [r.label, r.description]), [['2', ": 'two'"]]);
  assert.deepEqual(partsOf({ $bytes: 'AA==' }), []);
  assert.deepEqual(partsOf([]), []);
  const dict = contentRows({ id: '8', kind: 'entries', total: 1, offset: 0, items: [['k', [1, 2]]] }, 'dict');
  assert.equal(dict[0].expandable, true, 'a dict value that is a list expands');
});

test('a filter keeps the items whose shown text contains it, ignoring case, in order with their real positions', () => {
  const pages: PeekResult[] = [
    { id: '9', kind: 'items', total: 5, offset: 0, items: ['Alpha', 'beta'] },
    { id: '9', kind: 'items', total: 5, offset: 2, items: ['ALPHABET', 3, { alpha: 1 }] },
  ];
  const rows = filteredRows('9', pages, 'list', 'alpha', 5);
  assert.equal(rows[0].label, 'filter "alpha": 3 of 5 items match');
  assert.deepEqual(rows.slice(1).map((r) => [r.label, r.index, r.contextValue]), [["'Alpha'", 0, 'listItem'], ["'ALPHABET'", 2, 'listItem'], ["{'alpha': 1}", 4, 'listItem']]);
  const partial = filteredRows('9', pages.slice(0, 1), 'list', 'zzz', 5);
  assert.deepEqual(partial.map((r) => r.label), ['filter "zzz": 0 of 5 items match (the first 2 items read)']);
});
