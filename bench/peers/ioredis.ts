/**
 * Peer: Redis lists through ioredis, the client Node users pick, beside the minimal RESP client
 * of `redis.ts`. put = LPUSH, get = BRPOP key 0; each connection is one ioredis client, which
 * pipelines the commands of one turn itself. ioredis is a devDependency, loaded when this peer runs.
 */

import type { ClientConn, QueueOps, Served } from '../harness';
import { splitAddress } from '../harness';

export async function serve(): Promise<Served> {
  throw new Error('the ioredis peer is served by redis-server, started by run.ts');
}

export async function connect(address: string): Promise<ClientConn> {
  const { default: Redis } = await import('ioredis');
  const { host, port } = splitAddress(address);
  const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, noDelay: true });
  await client.connect();
  return {
    async queue(typeid: string): Promise<QueueOps> {
      const key = `bench:${typeid}`;
      return {
        put: (value) => client.lpush(key, value instanceof Uint8Array ? Buffer.from(value) : (value as string | number)),
        get: async () => {
          const reply = await client.brpop(key, 0);
          return reply ? Number(reply[1]) : reply;
        },
      };
    },
    close: async () => {
      client.disconnect();
    },
  };
}
