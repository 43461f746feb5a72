/**
 * A manager with two clients, the way inspection is used: a `viewer` (the sidebar) and a `worker`,
 * all closed by `await using`.
 */
import { connect, type Connected } from '../../src/client';
import type { Manager } from '../../src/server';
import { AUTHKEY } from './manager';

/** Connects a viewer and a worker to `manager`; disposing closes both and shuts the manager down. */
export async function viewerAndWorker<W extends object = object>(manager: Manager) {
  const viewer = await connect({ address: manager.address, authkey: AUTHKEY, name: 'viewer' });
  const worker: Connected<W> = await connect<W>({ address: manager.address, authkey: AUTHKEY, name: 'worker' });
  return {
    manager,
    viewer,
    worker,
    async [Symbol.asyncDispose]() {
      await viewer.close();
      await worker.close();
      await manager.shutdown();
    },
  };
}
