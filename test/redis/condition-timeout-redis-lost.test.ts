/**
 * A Condition's waiter whose timeout comes while Redis cannot be reached (a relay between the
 * manager and Redis cut at that moment) must not leave its ticket in the line: a later notify
 * would be spent on a waiter that is gone. It leaves as a withdrawn waiter, once Redis is back, as
 * the other primitives' waiters do. (Redis back within the manager's lease, the leave is made
 * again instead and the wait answers: lost-reply-waits.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { connect, type ConditionProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { startRelay } from '../helpers/tcpRelay';
import { eventually } from '../helpers/until';

const redis = redisForTests('condlost');
const { skip } = redis;

test("a Condition wait that times out while Redis is cut off leaves the line once Redis is back, its ticket not left for a notify", { skip, timeout: 60_000 }, async () => {
  const store = new URL(redis.url);
  await using relay = await startRelay(`${store.hostname}:${store.port}`);
  const prefix = redis.prefix();
  await using manager = await startManager({ store: `redis://${relay.address}`, storePrefix: prefix });
  const plain = new Redis(redis.url);
  const client = await connect({ address: manager.address, authkey: AUTHKEY, reconnect: false });
  try {
    const cond = await client.create<ConditionProxy>('Condition');
    const waiters = `${prefix}:o:${cond.id.slice('r:'.length)}:waiters`;
    assert.equal(await cond.acquire(), true);
    const leaves = '$7\r\ntimeout\r\n';
    const before = relay.countUpstream(leaves);
    // Long enough that the waiter is seen in line and the relay holds the manager's writes before
    // it times out, on a loaded machine too (2 s was not, once: the leave went through unheld).
    const waiting = cond.wait({ timeout: 6 });
    waiting.catch(() => {});
    await eventually('the waiter in line', () => plain.llen(waiters), (n) => n === 1);
    // In line is not yet waiting: the manager then tries once, marks the Condition as waited on
    // and tries again (src/server/store/redisWakeups.ts), and may try more (a wake-up); a write of
    // these held, its answer would never come and the waiter never time out. So the manager's writes
    // are held from its leave at the timeout on, however many tries went before, then cut. (Held
    // from the ticket's third write on, the test once waited 20 s for the leave in a loaded run.)
    relay.holdUpstreamFrom(leaves);
    await relay.untilUpstream(leaves, before + 1);
    relay.cut();
    await assert.rejects(waiting, /Redis store .* cannot be used/, 'the wait fails: Redis was away when it timed out');
    relay.releaseUpstream();
    relay.mend();
    await eventually('the waiter out of the line', () => plain.llen(waiters), (n) => n === 0, 20_000);
  } finally {
    // Whatever failed, Redis is reachable again, so that the manager can close.
    relay.releaseUpstream();
    relay.mend();
    await client.close();
    plain.disconnect();
  }
});
