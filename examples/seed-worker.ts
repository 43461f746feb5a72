/**
 * The seed's worker.py in TypeScript: connect to the manager, take up to ten numbers from the task
 * queue and put their squares into the result queue; stop when no task comes within a second.
 *
 *   npm run worker       (with `npm start` running in another terminal)
 *   npm run worker -- --address 127.0.0.1:50001     (the manager's address, when it is not the default)
 */

import { connect, EmptyError, type QueueProxy } from 'syncmanager/client';
import { seedOptions } from './lib/seedOptions';

type Queues = { get_task_queue: QueueProxy<number>; get_result_queue: QueueProxy<number> };

async function main(): Promise<void> {
  const { address, authkey } = seedOptions();
  console.log(`Connect to server ${address}`);
  const m = await connect<Queues>({ address, authkey, name: 'seed-worker' });
  const task = await m.get_task_queue();
  const result = await m.get_result_queue();

  for (let i = 0; i < 10; i++) {
    try {
      const n = await task.get({ timeout: 1 });
      console.log(`Get: ${n} <= manager`);
      const r = n * n;
      console.log(`Put: ${r} => manager`);
      await result.put(r);
    } catch (error) {
      if (!(error instanceof EmptyError)) throw error;
      console.log('task queue is empty');
      break;
    }
  }
  console.log('worker exit');
  await m.close();
}

main().catch((error) => {
  console.error(`worker: ${error.message}`);
  process.exit(1);
});
