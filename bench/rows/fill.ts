/**
 * Fills our server's `get_queue` for the memory row of bench/rows:
 *
 *   node --import tsx bench/rows/fill.ts host:port N
 *
 * connects, prints `WARM`, waits for a line on stdin, puts 0..N-1 with 100 puts in flight,
 * prints `FILLED <qsize>` and stays connected (the items stay queued) until stdin closes.
 */

import type { QueueProxy } from '../../src/client';
import type * as ClientModule from '../../src/client';
import { AUTHKEY, QUEUE_TYPEIDS } from '../harness';

async function main(): Promise<void> {
  const [address, countText] = process.argv.slice(2);
  const count = Number(countText);
  const bundle = '../../dist/client.js';
  const { connect } = (await import(bundle)) as typeof ClientModule;
  const client = await connect({ address, authkey: AUTHKEY });
  const q = await client.create<QueueProxy<number>>(QUEUE_TYPEIDS.queue);
  await q.put(-1);
  await q.get();
  process.stdout.write('WARM\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  let next = 0;
  const loop = async () => {
    while (next < count) await q.put(next++);
  };
  await Promise.all(Array.from({ length: 100 }, loop));
  process.stdout.write(`FILLED ${await q.qsize()}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
