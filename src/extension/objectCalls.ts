/**
 * The sidebar's calls on objects. It calls by id without holding a reference (`callById`), which
 * the manager accepts for any object in its table. A typeid's shared object that no client holds
 * is not in the table, though it is shown with its contents: for it the sidebar takes a reference
 * through the typeid (which gives that same object) for the length of the action, then lets it go.
 */

import type { Connected } from '../client';
import type { ManagerController } from './managerController';

/** Runs `fn(client)` while the object `objectId` can be called by id. */
export async function withObject<T>(controller: ManagerController, objectId: string, fn: (client: Connected) => Promise<T>): Promise<T> {
  const client = controller.client;
  if (!client) throw new Error('No manager is running: start one or attach first.');
  const summary = (await client.inspection.snapshot()).objects.find((o) => o.id === objectId);
  if (!summary || summary.refcount > 0) return fn(client);
  const proxy = (await client.create(summary.typeid)) as { id: string; release(): Promise<void> };
  try {
    if (proxy.id !== objectId) throw new Error(`${summary.typeid} gave object #${proxy.id}, not #${objectId}: it is not a shared object`);
    return await fn(client);
  } finally {
    await proxy.release();
  }
}

/** Calls `method` on the object `objectId`, whether or not a client holds it. */
export function callObject(controller: ManagerController, objectId: string, method: string, args: unknown[] = []): Promise<unknown> {
  return withObject(controller, objectId, (client) => client.callById(objectId, method, args));
}
