/**
 * The manager's wake-ups connection to Redis subscribes again after each reconnection. When that
 * connection is lost again before Redis answered the subscription (a Redis that flaps), the
 * manager must go on: reconnect, subscribe again, and serve, not end with an unhandled rejection.
 * A real `syncmanager serve` process, its store through a relay cut at that moment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type QueueProxy } from '../../src/client';
import { AUTHKEY } from '../helpers/manager';
import { redisForTests } from '../helpers/redisServer';
import { buildCli, serveProcess, stopServer } from '../helpers/serverProcess';
import { startRelay } from '../helpers/tcpRelay';
import { eventually } from '../helpers/until';

const redis = redisForTests('resub');
const { skip } = redis;

/** How ioredis writes the command (RESP: the command's name as a bulk string). */
const SUBSCRIBE = '$9\r\nsubscribe\r\n';

test('a wake-ups connection lost again while it subscribes anew after a reconnection: the manager reconnects, subscribes and serves', { skip, timeout: 60_000 }, async () => {
  buildCli();
  const store = new URL(redis.url);
  await using relay = await startRelay(`${store.hostname}:${store.port}`);
  const server = await serveProcess(['--address', '127.0.0.1:0', '--store', `redis://${relay.address}`, '--store-prefix', redis.prefix(), '--register', 'get_task_queue=Queue'], {
    SYNCMANAGER_AUTHKEY: AUTHKEY,
  });
  try {
    const subscribed = relay.countUpstream(SUBSCRIBE);
    assert.equal(subscribed, 1, 'subscribed once at start');
    // The next subscription (the one after the reconnection) is cut halfway, with the connections.
    const cutInSubscribe = relay.cutMidway('upstream', SUBSCRIBE);
    relay.cut();
    relay.mend();
    await cutInSubscribe;
    relay.mend();
    const exited = server.exited.then((code) => assert.fail(`the manager exited (${code}):\n${server.stderr()}`));
    await Promise.race([relay.untilUpstream(SUBSCRIBE, subscribed + 2), exited]);
    const client = await connect<{ get_task_queue: QueueProxy<string> }>({ address: server.address, authkey: AUTHKEY, reconnect: false });
    try {
      const queue = await client.get_task_queue();
      await eventually(
        'a put through the store',
        () => queue.put('after').then(() => true, () => false),
        (done) => done,
        20_000,
      );
      assert.equal(await queue.get({ timeout: 10 }), 'after');
    } finally {
      await client.close();
    }
    assert.equal(server.child.exitCode, null, `the manager is still running:\n${server.stderr()}`);
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) assert.equal(await stopServer(server), 0);
  }
});
