/**
 * The starting point of the Redis store's give-back tests: a manager whose connection to Redis
 * goes through a relay, and a client that left while its gets were held in Redis, so that their
 * items must go back. What each test then does to the give-backs (hold, cut, drop the replies,
 * refuse them, shut the manager down) is its own.
 */
import { Redis } from 'ioredis';
import { connect, type ManagerClient, type QueueProxy } from '../../src/client';
import { frameMessage } from '../../src/common/framing';
import type { Manager } from '../../src/server';
import { AUTHKEY, RawClient, createOver, startManager } from './manager';
import type { redisForTests } from './redisServer';
import { startRelay, type TcpRelay } from './tcpRelay';
import { eventually, until } from './until';

/** A manager, its relay to Redis, and a client that left with gets held in Redis. */
export interface LeftWithGets extends AsyncDisposable {
  readonly relay: TcpRelay;
  /** A connection to Redis that bypasses the relay. */
  readonly plain: Redis;
  readonly manager: Manager;
  /** A client that stays, and its proxy of `get_queue`. */
  readonly client: ManagerClient;
  readonly q: QueueProxy<string>;
  /** The manager's log lines. */
  readonly log: string[];
  /** The Redis key of `get_queue`'s list of items. */
  readonly items: string;
  /** Lets Redis carry the held gets out, holding what the manager sends from its first write holding `holdFrom` on; resolves once `writes` such writes went upstream. */
  release(holdFrom: string, writes: number): Promise<void>;
}

/**
 * Starts a manager serving `get_queue` (a shared `typeid`) through a relay to `redis`, puts
 * `items`, and has a client that then leaves send `gets` gets in one write while Redis is paused
 * for writes (so that the manager reads them together and their items come back in one turn).
 * Resolves once the manager saw the client leave, the gets still held in Redis.
 */
export async function leftWithGetsHeldInRedis(redis: ReturnType<typeof redisForTests>, typeid: 'Queue' | 'PriorityQueue', items: readonly string[], gets = 1): Promise<LeftWithGets> {
  const store = new URL(redis.url);
  const relay = await startRelay(`${store.hostname}:${store.port}`);
  const plain = new Redis(redis.url);
  const log: string[] = [];
  const prefix = redis.prefix();
  const manager = await startManager({ store: `redis://${relay.address}`, storePrefix: prefix, log: (line) => log.push(line) }, (m) => m.register('get_queue', { shared: typeid }));
  const client = await connect<{ get_queue: QueueProxy<string> }>({ address: manager.address, authkey: AUTHKEY, reconnect: false });
  const q = await client.get_queue();
  for (const item of items) await q.put(item);
  const leaving = await RawClient.open(manager.address);
  const { id } = await createOver(leaving, 'get_queue');
  // Redis holds every command that may write: the gets are sent and wait there...
  await plain.client('PAUSE', 60_000, 'WRITE');
  const frames = Array.from({ length: gets }, (_, n) => frameMessage(JSON.stringify({ jsonrpc: '2.0', id: `get-${n + 1}`, method: 'object/call', params: { id, method: 'get', args: [false] } })));
  leaving.sendRaw(frames.join(''));
  await eventually('the gets reached Redis and wait there', async () => /blocked_clients:(\d+)/.exec(await plain.info('clients'))?.[1], (n) => Number(n) >= 1);
  // ...while their client leaves: their answers cannot reach it, so their items go back.
  const sessions = manager.connectedSessions.size;
  leaving.close();
  await until('the manager saw the client leave', () => manager.connectedSessions.size < sessions);
  return {
    relay,
    plain,
    manager,
    client,
    q,
    log,
    items: `${prefix}:o:shared:get_queue:items`,
    async release(holdFrom, writes) {
      const before = relay.countUpstream(holdFrom);
      relay.holdUpstreamFrom(holdFrom);
      await plain.client('UNPAUSE');
      await relay.untilUpstream(holdFrom, before + writes);
    },
    async [Symbol.asyncDispose]() {
      await plain.config('SET', 'maxmemory', '0').catch(() => {});
      await plain.client('UNPAUSE').catch(() => {});
      relay.releaseUpstream();
      relay.mend();
      await client.close().catch(() => {});
      await manager[Symbol.asyncDispose]();
      plain.disconnect();
      await relay.close();
    },
  };
}
