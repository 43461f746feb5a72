import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InspectGroup, InspectSnapshot, SessionSummary } from '../../src/common/protocol';
import { clientRootRows, elsewhereRootRow, elsewhereRows, keptSessionRows, managerClientRows, withGroupNotes } from '../../src/extension/model/groupRows';
import { contentRows, objectRows, sessionRows } from '../../src/extension/model/treeModel';

function session(sessionId: string, name: string, references = 0): SessionSummary {
  return { sessionId, clientInfo: { name }, processId: 10, remoteAddress: '127.0.0.1:1', protocol: 'jsonrpc', connectedAt: 0, references, pending: [] };
}

const snapshot: InspectSnapshot = {
  server: { name: 'syncmanager', version: '0', processId: 1, address: '10.0.0.2:50000', startedAt: 0 },
  typeids: [{ typeid: 'Counter', exposed: ['increment'], methodToTypeid: {}, createMethod: true, creatable: true }],
  objects: [
    { id: 'ab-1', typeid: 'Counter', type: 'Counter', refcount: 1, holders: [{ sessionId: 's2', references: 1 }], details: {} },
    { id: 'r:q', typeid: 'Queue', builtin: 'Queue', type: 'Queue', refcount: 1, holders: [{ sessionId: 's2', references: 1 }], size: 0, details: { maxsize: 0, unfinishedTasks: 0, waitingGetters: 0, waitingPutters: 0 } },
  ],
  sessions: [session('s1', 'vscode'), session('s2', 'worker-here', 2)],
};

const self = { managerId: 'm-a', self: true, address: '10.0.0.2:50000', version: '0', processId: 1, startedAt: 0, publishedAt: 0, sessions: snapshot.sessions };
const other = { managerId: 'm-b', self: false, address: '10.0.0.3:50000', version: '0', processId: 2, startedAt: 0, publishedAt: 0, sessions: [session('s1', 'worker-there', 1)] };
const group: InspectGroup = { managers: [self, other], objects: [{ id: 'r:q', typeid: 'Queue', type: 'Queue', managers: ['m-a', 'm-b'], stored: false }] };

test('a manager alone shows its clients at the root, as before', () => {
  assert.deepEqual(clientRootRows(snapshot, { managers: [self], objects: [] }, 's1'), sessionRows(snapshot, 's1'));
  assert.deepEqual(clientRootRows(snapshot, undefined, 's1'), sessionRows(snapshot, 's1'), 'an older server without inspect/group');
});

test('a group shows one row per manager, this one first, with its address and client count', () => {
  const rows = clientRootRows(snapshot, group, 's1');
  assert.deepEqual(rows.map((r) => r.label), ['10.0.0.2:50000 (this manager)', '10.0.0.3:50000']);
  assert.deepEqual(rows.map((r) => r.kind), ['manager', 'manager']);
  assert.match(rows[0]!.description!, /^1 client\b/, "the sidebar's own session is not counted");
  assert.match(rows[1]!.description!, /^1 client · pid 2/);
  assert.ok(rows.every((r) => r.id === `manager:${r.managerId}`), 'stable ids');
});

test("under a manager row: this manager's clients open onto what they hold; another's are shown only", () => {
  assert.deepEqual(managerClientRows(snapshot, group, 'm-a', 's1'), sessionRows(snapshot, 's1'));
  const [there] = managerClientRows(snapshot, group, 'm-b', 's1');
  assert.equal(there!.label, 'worker-there');
  assert.equal(there!.contextValue, 'remoteSession', 'no session actions on a client of another manager');
  assert.equal(there!.expandable, false);
  assert.equal(there!.sessionId, undefined);
  assert.equal(there!.id, 'remote-session:m-b:s1', 'distinct from this manager\'s session s1');
  assert.match(there!.tooltip!, /on the manager at 10\.0\.0\.3:50000/);
  assert.deepEqual(managerClientRows(snapshot, group, 'gone', 's1'), []);
});

test("in a group, an object of a user-registered class says it lives in this manager's process only", () => {
  const counters = withGroupNotes(objectRows(snapshot, 'Counter'), snapshot, group);
  assert.match(counters[0]!.description!, /in this manager only/);
  assert.match(counters[0]!.tooltip!, /lives in the process of the manager at 10\.0\.0\.2:50000/);
  const queues = withGroupNotes(objectRows(snapshot, 'Queue'), snapshot, group);
  assert.doesNotMatch(queues[0]!.tooltip!, /lives in the process/, 'a queue kept in Redis is the group\'s');
  assert.deepEqual(withGroupNotes(objectRows(snapshot, 'Counter'), snapshot, { managers: [self], objects: [] }), objectRows(snapshot, 'Counter'), 'a manager alone: no note');
});

test("the Objects view lists the group's objects this manager has not served under Elsewhere in the group, with who holds them", () => {
  const wide: InspectGroup = {
    ...group,
    objects: [
      ...group.objects,
      { id: 'r:made-on-b', typeid: 'Queue', type: 'Queue', managers: ['m-b'], stored: false },
      { id: 'r:in-a-dict', typeid: 'dict', type: 'dict', managers: [], stored: true },
      { id: 'r:orphan', typeid: 'Lock', type: 'Lock', managers: ['m-gone'], stored: false },
    ],
  };
  const root = elsewhereRootRow(snapshot, wide)!;
  assert.equal(root.label, 'Elsewhere in the group');
  assert.equal(root.description, '3 objects', 'r:q is served here, so it is under its typeid, not here');
  const rows = elsewhereRows(snapshot, wide);
  assert.deepEqual(rows.map((r) => r.label), ['Queue #r:made-on-b', 'dict #r:in-a-dict', 'Lock #r:orphan']);
  assert.equal(rows[0]!.description, 'held through 10.0.0.3:50000');
  assert.equal(rows[1]!.description, 'held through a stored value');
  assert.match(rows[2]!.description!, /manager m-gone \(gone\)/);
  assert.deepEqual(rows.map((r) => r.icon), ['list-ordered', 'symbol-namespace', 'lock']);
  assert.ok(rows.every((r) => r.id === `group-object:${r.objectId}` && r.builtin !== undefined));
  assert.deepEqual(
    rows.map((r) => [r.contextValue, r.expandable]),
    [['groupContents', true], ['groupContents', true], ['groupObject', false]],
    'a queue and a dict open onto their contents; a lock has state, not contents, and does not open',
  );
  assert.match(rows[0]!.tooltip!, /its contents are read from the store/);
  assert.equal(elsewhereRootRow(snapshot, group), undefined, 'nothing elsewhere: no row');
  assert.equal(elsewhereRootRow(snapshot, { managers: [self], objects: wide.objects }), undefined, 'a manager alone: no row');
  assert.equal(elsewhereRootRow(snapshot, undefined), undefined, 'an older server');
});

test("an elsewhere object's contents are the rows a local object of its type shows, its pages' more rows carrying its type", () => {
  const snapshotHere: InspectSnapshot = { ...snapshot, objects: [] };
  const wide: InspectGroup = { ...group, objects: [{ id: 'r:jobs', typeid: 'JoinableQueue', type: 'Queue', managers: ['m-b'], stored: false }] };
  const [row] = elsewhereRows(snapshotHere, wide);
  const page = { id: 'r:jobs', kind: 'items' as const, total: 150, offset: 0, items: Array.from({ length: 100 }, (_, i) => i) };
  const children = contentRows(page, row!.builtin);
  assert.equal(children[0]!.contextValue, 'queueItem', 'a queue item: Remove Item and Edit Item apply');
  assert.equal(children[0]!.description, 'next · [0] int');
  const more = children.at(-1)!;
  assert.equal(more.kind, 'more');
  assert.equal(more.builtin, 'Queue', 'the next page knows it is a queue, though the snapshot does not list it');
});

test('sessions the group keeps while no manager serves them show under "Kept by the group", even beside a manager left alone', () => {
  const until = Date.UTC(2026, 11, 7, 9, 30, 0);
  const kept: InspectGroup = { managers: [self], objects: [], keptSessions: [{ sessionId: 's4', managerId: 'm-dead', clientName: 'worker-kept', resumableUntil: until }, { sessionId: 's5', managerId: 'm-dead', resumableUntil: until }] };
  const roots = clientRootRows(snapshot, kept, 's1');
  assert.deepEqual(roots.map((r) => r.kind), ['manager', 'keptSessions'], 'the manager left, then the group\'s own row');
  const row = roots[1]!;
  assert.deepEqual([row.label, row.description, row.expandable, row.contextValue], ['Kept by the group', '2 clients · no manager', true, 'keptSessions']);
  const rows = keptSessionRows(kept);
  assert.deepEqual(rows.map((r) => r.label), ['worker-kept', 'session s5 of manager m-dead']);
  assert.match(rows[0]!.description!, /^no manager · resumable until /);
  assert.match(rows[0]!.tooltip!, /session s4 of manager m-dead, which is gone/);
  assert.match(rows[0]!.tooltip!, new RegExp(new Date(until).toISOString()));
  assert.ok(rows.every((r) => r.contextValue === 'keptSession' && !r.expandable && r.sessionId === undefined), 'shown, not acted on');
  assert.deepEqual(rows.map((r) => r.id), ['kept-session:m-dead:s4', 'kept-session:m-dead:s5']);
  assert.deepEqual(clientRootRows(snapshot, { managers: [self], objects: [] }, 's1'), sessionRows(snapshot, 's1'), 'nothing kept: a manager alone, as before');
  assert.equal(clientRootRows(snapshot, group, 's1').length, 2, 'a group keeping nothing: no such row');
});
