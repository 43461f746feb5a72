/**
 * All the glue between the benchmark and our implementation (src/server, src/client), in one place.
 *
 * Types come from the real modules (`import type`, erased at run time), so `npm run typecheck`
 * catches API drift. The modules themselves are loaded with a dynamic import of a computed
 * specifier: if they cannot be loaded (not written yet, or broken mid-edit), that becomes an
 * UnavailableError, shown as a "not available" row, and the peers still run.
 */

import type * as ServerModule from '../src/server';
import type * as ClientModule from '../src/client';
import type { QueueProxy } from '../src/client';
import type { ClientConn, ImplModule, QueueOps, Served } from './harness';
import { AUTHKEY, COLD_ITEMS, COLD_TYPEID, QUEUE_TYPEIDS, UnavailableError } from './harness';

/**
 * The bundles `npm run build` makes, as users run them (not the sources through tsx, whose loader
 * is not what ships). `npm run bench` builds first.
 */
const BUNDLES = { server: '../dist/server.js', client: '../dist/client.js' };

const MISSING_CODES = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND', 'ERR_UNSUPPORTED_DIR_IMPORT']);

/** Imports one of our modules, turning "not there (yet)" into an UnavailableError. */
async function load<T>(specifier: string, exports: string[]): Promise<T> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code && MISSING_CODES.has(code)) {
      const first = String((error as Error).message).split('\n')[0];
      throw new UnavailableError(`not available yet: ${specifier} cannot be loaded (${code}: ${first})`);
    }
    throw error;
  }
  const missing = exports.filter((name) => typeof mod[name] !== 'function');
  if (missing.length) throw new UnavailableError(`not available yet: ${specifier} does not export ${missing.join(', ')}`);
  return mod as T;
}

export async function serve(bundle: string = BUNDLES.server): Promise<Served> {
  const { Manager, Queue } = await load<typeof ServerModule>(bundle, ['Manager', 'Queue']);
  const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY });
  for (const typeid of Object.values(QUEUE_TYPEIDS)) {
    const queue = new Queue();
    manager.register(typeid, { callable: () => queue });
  }
  // bench/rows' cold clients each take one item: the first get of a fresh process does not wait.
  const coldQueue = new Queue();
  for (let i = 0; i < COLD_ITEMS; i++) coldQueue.put(i);
  manager.register(COLD_TYPEID, { callable: () => coldQueue });
  await manager.listen();
  return {
    address: manager.address,
    close: async () => {
      await manager.shutdown();
    },
  };
}

/** The environment variable run.ts gives a Redis-store server child: the store's `redis://` URL. */
export const STORE_ENV = 'BENCH_STORE';

/**
 * The same queues kept in a Redis store (`store: redis://…` from {@link STORE_ENV}), registered
 * `shared` so that every manager on that Redis serves the same ones: the `ours-redis` rows. run.ts
 * starts redis-server, and for `ours-redis-2` two of these servers on it.
 */
export async function serveInRedisStore(): Promise<Served> {
  const store = process.env[STORE_ENV];
  if (!store) throw new Error(`${STORE_ENV} is not set: run.ts starts redis-server and passes its URL`);
  const { Manager } = await load<typeof ServerModule>(BUNDLES.server, ['Manager']);
  const manager = new Manager({ address: '127.0.0.1:0', authkey: AUTHKEY, store, storePrefix: 'bench' });
  for (const typeid of Object.values(QUEUE_TYPEIDS)) manager.register(typeid, { shared: 'Queue' });
  await manager.listen();
  return {
    address: manager.address,
    close: async () => {
      await manager.shutdown();
    },
  };
}

/**
 * The same server with one session watching calls (`inspect/watchCalls`, the Activity view), so
 * each call is also timed, summarised and sent to the watcher: the `ours-watched` row, to compare
 * with `ours`, where nobody watches and a call pays one boolean test.
 */
export async function serveWatched(): Promise<Served> {
  const served = await serve();
  const { connect: connectClient } = await load<typeof ClientModule>(BUNDLES.client, ['connect']);
  const watcher = await connectClient({ address: served.address, authkey: AUTHKEY, name: 'bench-watcher' });
  let seen = 0;
  await watcher.inspection.watchCalls((n) => (seen += n.calls.length + n.dropped));
  return {
    address: served.address,
    close: async () => {
      await watcher.close();
      await served.close();
      void seen;
    },
  };
}

/**
 * The same server built from the same sources without the activity hook (the one test of whether
 * anybody watches calls, in the object service): the `ours-unhooked` row, to show what that test
 * costs when nobody watches, beside `ours`.
 */
export async function serveWithoutActivityHook(): Promise<Served> {
  const { buildServerWithoutActivityHook } = await import('./withoutActivityHook');
  return serve(buildServerWithoutActivityHook());
}

/** A client whose queues put plainly and take items with the get `getOf` makes of each proxy. */
async function connectTaking(address: string, getOf: (proxy: QueueProxy<unknown>) => () => Promise<unknown>): Promise<ClientConn> {
  const { connect: connectClient } = await load<typeof ClientModule>(BUNDLES.client, ['connect']);
  const client = await connectClient({ address, authkey: AUTHKEY });
  return {
    async queue(typeid: string): Promise<QueueOps> {
      const proxy = await client.create<QueueProxy<unknown>>(typeid);
      return { put: (value) => proxy.put(value), get: getOf(proxy) };
    },
    close: async () => {
      await client.close();
    },
  };
}

export function connect(address: string): Promise<ClientConn> {
  return connectTaking(address, (proxy) => () => proxy.get());
}

/**
 * A client of several managers at once (`address` is `host:port,host:port`), one connection to
 * each, sending its calls to them in turn: a put through one manager, the next call through the
 * next, so gets are answered, and blocked ones woken, across managers. The `ours-redis-2` row.
 */
export async function connectSpread(addresses: string): Promise<ClientConn> {
  const conns = await Promise.all(addresses.split(',').map((address) => connect(address)));
  let turn = 0;
  const next = <T>(ops: T[]): T => ops[turn++ % ops.length];
  return {
    async queue(typeid: string): Promise<QueueOps> {
      const queues = await Promise.all(conns.map((conn) => conn.queue!(typeid)));
      return { put: (value) => next(queues).put(value), get: () => next(queues).get() };
    },
    close: async () => {
      await Promise.all(conns.map((conn) => conn.close()));
    },
  };
}

/**
 * The same client taking every item with an acknowledged get (`get({ ack: true })`, then
 * `ack()`): the `ours-ack` row, to compare with `ours`, whose get hands the item over at once.
 * One get here is two round trips (the get, then its ack), counted as one op.
 */
export function connectAcknowledging(address: string): Promise<ClientConn> {
  return connectTaking(address, (proxy) => async () => {
    const delivery = await proxy.get({ ack: true });
    await delivery.ack();
    return delivery.value;
  });
}

// Checked here so a drift from the harness's interface shows up in `npm run typecheck`.
const _check: ImplModule[] = [
  { serve, connect },
  { serve, connect: connectAcknowledging },
  { serve: serveInRedisStore, connect: connectSpread },
];
void _check;
