/**
 * The tutorial's worker_process.py: five worker processes connect to the manager and each appends
 * one result to the shared list; then the list's contents are read back.
 *
 *   node dist/examples/shared-list-workers.js       (with shared-list-manager running)
 */

import { fork } from 'node:child_process';
import { connect, type ListProxy } from 'syncmanager/client';

const address = process.env.SYNCMANAGER_ADDRESS || '127.0.0.1:50000';
const authkey = process.env.SYNCMANAGER_AUTHKEY || 'abracadabra';

type Lists = { get_my_list: ListProxy<string> };

async function worker(taskId: number): Promise<void> {
  const manager = await connect<Lists>({ address, authkey, name: `worker-${taskId}` });
  const sharedList = await manager.get_my_list();
  console.log(`Worker ${taskId}: Connected. Current list length: ${await sharedList.length()}`);
  await sharedList.append(`Result from worker ${taskId}`);
  console.log(`Worker ${taskId}: Appended item. New list length: ${await sharedList.length()}`);
  await manager.close();
}

async function main(): Promise<void> {
  const workers = Array.from({ length: 5 }, (_, i) => fork(__filename, ['worker', String(i)]));
  const codes = await Promise.all(workers.map((p) => new Promise<number | null>((resolve) => p.once('exit', resolve))));
  if (codes.some((code) => code !== 0)) throw new Error(`a worker failed (exit codes ${codes.join(', ')})`);

  const manager = await connect<Lists>({ address, authkey, name: 'shared-list-reader' });
  const sharedList = await manager.get_my_list();
  const items: string[] = [];
  // Only append, pop and __len__ are exposed: read the list by popping it.
  for (let n = await sharedList.length(); n > 0; n--) items.unshift(await sharedList.pop());
  console.log(`All workers done. The shared list held ${items.length} items:`);
  for (const item of items.sort()) console.log(`  ${item}`);
  await manager.close();
}

const [role, id] = process.argv.slice(2);
(role === 'worker' ? worker(Number(id)) : main()).catch((error) => {
  console.error(`${role === 'worker' ? `worker ${id}` : 'workers'}: ${error.message}`);
  process.exit(1);
});
