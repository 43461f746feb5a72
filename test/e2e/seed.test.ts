import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, EmptyError, type QueueProxy } from '../../src/client';
import { AUTHKEY, startManager } from '../helpers/manager';

type Queues = { get_task_queue: QueueProxy<number>; get_result_queue: QueueProxy<number> };

test("the seed's worker squares 0..9 from get_task_queue into get_result_queue", async () => {
  await using manager = await startManager({}, (m) => {
    m.register('get_task_queue', { shared: 'Queue' });
    m.register('get_result_queue', { shared: 'Queue' });
  });
  await using boss = await connect<Queues>({ address: manager.address, authkey: AUTHKEY, name: 'boss' });
  const task = await boss.get_task_queue();
  const result = await boss.get_result_queue();
  for (let i = 0; i < 10; i++) await task.put(i);

  await using worker = await connect<Queues>({ address: manager.address, authkey: AUTHKEY, name: 'worker' });
  const wtask = await worker.get_task_queue();
  const wresult = await worker.get_result_queue();
  assert.equal(wtask.id, task.id, 'both clients see the same shared queue');
  for (let i = 0; i < 10; i++) {
    const n = await wtask.get({ timeout: 1 });
    await wresult.put(n * n);
  }
  await assert.rejects(wtask.get({ timeout: 0.05 }), EmptyError);

  const squares: number[] = [];
  for (let i = 0; i < 10; i++) squares.push(await result.get({ timeout: 1 }));
  assert.deepEqual(squares, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
});
