/**
 * Items given back come out in the order they were taken (SPEC 20.3), however many turns of the
 * manager's event loop their give-backs are spread over: visibility timeouts expiring one after
 * another, nacks sent one by one in any order, gets of other clients in between, an item given
 * back and taken again, plain gets of two resumable sessions whose answers were parked, the
 * sessions ending one after the other. Each give-back used to go in front of the earlier ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy, type SessionSummary } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { startRelay } from '../helpers/tcpRelay';
import { eventually } from '../helpers/until';
import { ORDERED_KINDS, drainQueue, expiriesComeBackInTakeOrder, fillTakenFirst, nacksComeBackInTakeOrder, namedClient } from '../helpers/giveBackOrder';

for (const kind of ORDERED_KINDS) {
  test(`${kind}: deliveries whose visibility timeouts expire one after another come back in the order they were taken`, async () => {
    await using manager = await startManager();
    await expiriesComeBackInTakeOrder(manager.address, kind);
  });

  test(`${kind}: nacks sent one at a time, in another order, with another client's get in between, restore the take order`, async () => {
    await using manager = await startManager({}, (m) => m.register('get_jobs', { shared: kind }));
    await nacksComeBackInTakeOrder(manager.address, kind, false);
  });

  test(`${kind}: an item given back and taken again keeps its place among the items given back`, async () => {
    await using manager = await startManager();
    await using c = await namedClient(manager.address, 'again');
    const q = (await c.create(kind)) as QueueProxy<string>;
    await fillTakenFirst(kind, q);
    const a = await q.get({ ack: true });
    const b = await q.get({ ack: true });
    await b.nack();
    await a.nack();
    const again = await q.get({ ack: true });
    assert.equal(again.value, 'a');
    await again.nack();
    assert.deepEqual(await drainQueue(q), ['a', 'b', 'c', 'd']);
  });
}

test('plain gets of two detached sessions, ended one after the other: their items come back in the order they were taken', async () => {
  await using manager = await startManager();
  await using observer = await namedClient(manager.address, 'observer');
  const queue = (await observer.create('Queue')) as QueueProxy<string>;
  const takers = [];
  for (const name of ['first', 'second']) {
    const relay = await startRelay(manager.address);
    const taker = await connect({ address: relay.address, authkey: AUTHKEY, name, resume: { withinMs: 60_000 }, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const waiting = taker.callById(queue.id, 'get').catch((error: unknown) => error);
    const session = async (): Promise<SessionSummary | undefined> => (await observer.inspection.snapshot()).sessions.find((s) => s.sessionId === taker.sessionId);
    await eventually(`${name} waiting in its get`, session, (s) => s?.pending.length === 1);
    takers.push({ relay, taker, waiting, session });
  }
  for (const { relay, session } of takers) {
    relay.cut();
    await eventually('the session detached', session, (s) => s?.resumableUntil !== undefined);
  }
  // The waiting gets take a, then b; their answers wait for a resumption that will not come.
  for (const item of ['a', 'b', 'c', 'd']) await queue.put(item);
  await eventually('the two gets took their items', () => queue.qsize(), (n) => n === 2);
  // Each session ends in a turn of its own: the one that took a first.
  for (const { taker, session } of takers) {
    [...manager.connectedSessions].find((s) => s.id === taker.sessionId)!.close();
    await eventually('the session ended', session, (s) => s === undefined);
  }
  assert.deepEqual(await drainQueue(queue), ['a', 'b', 'c', 'd']);
  for (const { relay, taker, waiting } of takers) {
    await taker.close();
    await waiting;
    await relay.close();
  }
});
