/**
 * Inspection traffic (protocol 1.1, capability `inspection`) validates against protocol/schema.json:
 * a relay records a viewer that takes snapshots, peeks and subscribes while a worker changes
 * objects, so real `inspect/changed` notifications flow server → client. Every message of both
 * connections is checked, each response against its method's result schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, kwargs, type DictProxy, type ListProxy, type NamespaceProxy, type QueueProxy } from '../../src/client';
import type { InspectChangedParams } from '../../src/common/protocol';
import { PROTOCOL_VERSION } from '../../src/common/protocol';
import { decodeValue } from '../../src/common/valueCodec';
import { tuple } from '../../src/common/valueTypes';
import { AUTHKEY, startManager } from '../helpers/manager';
import { methodsById, startRelay, type RecordedConnection } from './relay';
import { loadSchema, validateMessage } from './schemaValidator';

const schema = loadSchema();

/** Resolves once `check` passes on a change, failing after 5 s with what was seen. */
function waitForChange(changes: InspectChangedParams[], check: (c: InspectChangedParams) => boolean): { seen(): void; done: Promise<void> } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  const timer = setTimeout(() => reject(new Error(`not seen in 5 s: ${JSON.stringify(changes)}`)), 5000);
  const seen = () => {
    if (changes.some(check)) {
      clearTimeout(timer);
      resolve();
    }
  };
  seen();
  return { seen, done };
}

/** The requests the test sends on purpose with params the server refuses: the schema must refuse them too. */
function deliberatelyInvalid(message: unknown): boolean {
  const m = message as { method?: string; params?: { limit?: unknown; intervalMs?: unknown } };
  return (m.method === 'inspect/peek' && m.params?.limit === 0) || (m.method === 'inspect/subscribe' && m.params?.intervalMs === 5);
}

function checkConnection(name: string, { toServer, toClient }: RecordedConnection): void {
  const methodOf = methodsById(toServer);
  for (const message of toServer) {
    if (deliberatelyInvalid(message)) assert.notDeepEqual(validateMessage(message), [], `the schema refuses what the server refuses: ${JSON.stringify(message)}`);
    else assert.deepEqual(validateMessage(message), [], `${name} → server: ${JSON.stringify(message)}`);
    const method = (message as { method?: string }).method;
    if (method !== undefined) assert.equal(schema['x-methods'][method]?.direction, 'clientToServer', `${name} sent ${method}`);
  }
  for (const message of toClient) {
    const m = message as { id?: unknown; method?: string };
    assert.deepEqual(validateMessage(message, m.method === undefined ? methodOf.get(m.id) : undefined), [], `server → ${name}: ${JSON.stringify(message)}`);
    if (m.method !== undefined) assert.equal(schema['x-methods'][m.method]?.direction, 'serverToClient', `${name} received ${m.method}`);
  }
}

test('inspection by the real client and server is valid protocol 1.1 in both directions, notifications included', async () => {
  await using manager = await startManager({}, (m) => m.register('get_task_queue', { shared: 'Queue' }));
  const relay = await startRelay(manager.address);
  const changes: InspectChangedParams[] = [];
  try {
    const viewer = await connect({ address: relay.address, authkey: AUTHKEY, name: 'viewer' });
    const worker = await connect<{ get_task_queue: QueueProxy<unknown> }>({ address: relay.address, authkey: AUTHKEY, name: 'worker' });
    assert.equal(viewer.serverInfo.protocolVersion, PROTOCOL_VERSION);
    assert.equal(viewer.serverInfo.capabilities.inspection, true);

    // Objects of every built-in kind, holding values that need tags.
    const q = await worker.get_task_queue();
    await q.put({ nested: [1, 2.5, new Uint8Array([1, 2]), new Set([1]), 2n ** 70n, NaN] });
    await q.put(tuple<unknown>(1, 'a'));
    const d = await worker.create<DictProxy<unknown, unknown>>('dict', kwargs({ a: 1 }));
    await d.set(tuple(1, 2), new Map([[1, 'one']]));
    const l = await worker.create<ListProxy>('list', [1, [2, 3], 'x']);
    const ns = await worker.create<NamespaceProxy>('Namespace', kwargs({ x: 1 }));
    await ns.set('$odd', 'a name that looks like a tag');
    const v = await worker.create('Value', 'd', 2.5);
    const waiting = await worker.create<QueueProxy>('Queue');
    const aborter = new AbortController();
    const blocked = waiting.get({ signal: aborter.signal }).catch(() => 'withdrawn');
    await waiting.qsize();

    // Snapshot: objects, sessions, and the blocked get as a pending call.
    const snapshot = await viewer.inspection.snapshot();
    assert.deepEqual(new Set(snapshot.objects.map((o) => o.id)), new Set([q.id, d.id, l.id, ns.id, v.id, waiting.id]));
    const workerSummary = snapshot.sessions.find((s) => s.sessionId === worker.sessionId)!;
    assert.equal(workerSummary.pending.length, 1);
    assert.equal(workerSummary.pending[0].objectId, waiting.id);
    assert.equal(snapshot.objects.find((o) => o.id === waiting.id)!.details.waitingGetters, 1);
    assert.deepEqual(snapshot.objects.find((o) => o.id === v.id)!.details, { typecode: 'd', value: 2.5 });

    // Peeks of every kind, a second page, and the two refused ones.
    assert.equal((await viewer.inspection.peek(q.id)).kind, 'items');
    assert.deepEqual((await viewer.inspection.peek(q.id, { offset: 1, limit: 1 })).items, [{ $tuple: [1, 'a'] }]);
    assert.deepEqual((await viewer.inspection.peek(d.id)).items, [['a', 1], [{ $tuple: [1, 2] }, { $dict: [[1, 'one']] }]]);
    assert.equal((await viewer.inspection.peek(l.id)).total, 3);
    assert.deepEqual((await viewer.inspection.peek(ns.id)).items, [['x', 1], ['$odd', 'a name that looks like a tag']]);
    assert.deepEqual((await viewer.inspection.peek(v.id)).items, [2.5]);
    await assert.rejects(viewer.inspection.peek('no-such-object'), /no object with id/);
    await assert.rejects(viewer.inspection.peek(q.id, { limit: 0 }), /limit must be/);
    await assert.rejects(viewer.inspection.subscribe(() => {}, { intervalMs: 5 }), /intervalMs must be/);
    assert.equal(await q.qsize(), 2, 'peeks took nothing');

    // Subscribe; the worker's puts, a new object, a release and the withdrawn get are notified.
    const watchers: (() => void)[] = [];
    const watch = (check: (c: InspectChangedParams) => boolean) => {
      const w = waitForChange(changes, check);
      watchers.push(w.seen);
      return w.done;
    };
    const sub = await viewer.inspection.subscribe(
      (c) => {
        changes.push(c);
        for (const w of watchers) w();
      },
      { intervalMs: 20 },
    );
    for (let i = 0; i < 20; i++) await q.put(i);
    await watch((c) => c.changed.includes(q.id));
    const extra = await worker.create('list');
    await watch((c) => c.added.includes(extra.id));
    await extra.release();
    await watch((c) => c.removed.includes(extra.id));
    aborter.abort();
    assert.equal(await blocked, 'withdrawn');
    await watch((c) => c.sessions);
    await sub.dispose();
    await worker.close();
    await viewer.close();
  } finally {
    relay.close();
  }

  assert.equal(relay.connections.length, 2);
  const [viewerTraffic, workerTraffic] = relay.connections;
  checkConnection('viewer', viewerTraffic);
  checkConnection('worker', workerTraffic);

  const sent = new Set(viewerTraffic.toServer.map((m) => (m as { method?: string }).method));
  for (const method of ['initialize', 'inspect/snapshot', 'inspect/peek', 'inspect/subscribe', 'inspect/unsubscribe']) assert.ok(sent.has(method), `the viewer sent ${method}`);
  const notifications = viewerTraffic.toClient.filter((m) => (m as { method?: string }).method === 'inspect/changed');
  assert.ok(notifications.length >= 1, 'at least one inspect/changed reached the viewer');
  assert.ok(!workerTraffic.toClient.some((m) => 'method' in (m as object)), 'a session that did not subscribe gets no notification');

  // Values inside inspection results are in the wire encoding: every one decodes.
  const methodOf = methodsById(viewerTraffic.toServer);
  for (const message of viewerTraffic.toClient as { id?: unknown; result?: { items?: unknown[]; objects?: { details: Record<string, unknown> }[] } }[]) {
    const method = methodOf.get(message.id);
    if (method === 'inspect/peek' && message.result) for (const item of message.result.items!) assert.doesNotThrow(() => decodeValue(item), JSON.stringify(item));
    if (method === 'inspect/snapshot' && message.result) {
      for (const o of message.result.objects!) if ('value' in o.details) assert.doesNotThrow(() => decodeValue(o.details.value));
    }
  }
});
