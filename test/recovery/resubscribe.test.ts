/**
 * Inspection subscriptions outlive a reconnect: a client that subscribed to change notifications
 * and watched calls (SPEC 17) hears of changes on the manager that replaced the lost one.
 */
import { test, before } from 'node:test';
import { connect, type QueueProxy } from '../../src/client';
import type { CallRecord, InspectChangedParams } from '../../src/common/protocol';
import { buildCli, killServer, serveProcess } from '../helpers/serverProcess';
import { until } from '../helpers/until';

before(buildCli);

test('subscribe and watchCalls carry on after a manager restart: the new manager is asked again, and its changes and calls arrive', async () => {
  let server = await serveProcess(['--address', '127.0.0.1:0', '--authkey', 'k', '--register', 'jobs=Queue']);
  const address = server.address;
  const viewer = await connect({ address, authkey: 'k', reconnect: { initialDelayMs: 10, maxDelayMs: 100 } });
  let producer: Awaited<ReturnType<typeof connect<{ jobs: QueueProxy<string> }>>> | undefined;
  try {
    const changes: InspectChangedParams[] = [];
    const calls: CallRecord[] = [];
    await viewer.inspection.subscribe((change) => changes.push(change), { intervalMs: 20 });
    await viewer.inspection.watchCalls((batch) => calls.push(...batch.calls), { intervalMs: 20 });
    const restored = new Promise<void>((resolve) => viewer.on('restored', () => resolve()));
    await killServer(server);
    server = await serveProcess(['--address', address, '--authkey', 'k', '--register', 'jobs=Queue']);
    await restored;
    changes.length = 0;
    calls.length = 0;
    producer = await connect<{ jobs: QueueProxy<string> }>({ address, authkey: 'k', reconnect: false });
    const jobs = await producer.jobs();
    await jobs.put('after the restart');
    await until('a change notification from the new manager', () => changes.some((c) => c.changed.includes(jobs.id) || c.added.includes(jobs.id)));
    await until('the put, watched on the new manager', () => calls.some((c) => c.method === 'put' && c.objectId === jobs.id));
  } finally {
    await producer?.close();
    await viewer.close();
    await killServer(server);
  }
});
