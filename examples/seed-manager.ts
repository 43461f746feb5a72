/**
 * The seed's manager.py in TypeScript: a manager serving two queues in a child process (as
 * BaseManager.start() does), ten tasks put into one, and the workers' answers read from the other.
 *
 *   npm start            then, in a second terminal:   npm run worker
 *   npm start -- --address 127.0.0.1:50001      npm run worker -- --address 127.0.0.1:50001
 */

import { connect, type QueueProxy } from 'syncmanager/client';
import { Manager } from 'syncmanager/server';
import { seedOptions } from './lib/seedOptions';

type Queues = { get_task_queue: QueueProxy<number>; get_result_queue: QueueProxy<number> };

async function main(): Promise<void> {
  const { address, authkey } = seedOptions();
  const manager = new Manager({ address, authkey });
  manager.register('get_task_queue', { shared: 'Queue' });
  manager.register('get_result_queue', { shared: 'Queue' });
  try {
    await manager.start();
  } catch (error) {
    if (!/the address is in use/.test((error as Error).message)) throw error;
    throw new Error(`${(error as Error).message}; choose another port: npm start -- --address 127.0.0.1:50001 (then npm run worker -- --address 127.0.0.1:50001)`);
  }
  console.log(`Manager listening on ${manager.address} (authkey '${authkey}')`);

  const m = await connect<Queues>({ address: manager.address, authkey, name: 'seed-manager' });
  const task = await m.get_task_queue();
  const result = await m.get_result_queue();

  for (let i = 0; i < 10; i++) {
    console.log(`Put: ${i} => worker`);
    await task.put(i);
  }
  console.log('Waiting for results ... (start a worker: npm run worker)');
  for (let i = 0; i < 10; i++) {
    const r = await result.get();
    console.log(`Get: ${r} <= worker`);
  }
  console.log('manager exit');
  await m.close();
  await manager.shutdown();
}

main().catch((error) => {
  console.error(`manager: ${error.message}`);
  process.exit(1);
});
