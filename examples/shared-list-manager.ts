/**
 * The tutorial's manager_process.py: a manager serving one shared list, with only `append`, `pop`
 * and `__len__` exposed, until Ctrl-C.
 *
 *   node dist/examples/shared-list-manager.js     then:   node dist/examples/shared-list-workers.js
 */

import { Manager } from 'syncmanager/server';

const address = process.env.SYNCMANAGER_ADDRESS || '127.0.0.1:50000';
const authkey = process.env.SYNCMANAGER_AUTHKEY || 'abracadabra';

async function main(): Promise<void> {
  const manager = new Manager({ address, authkey });
  manager.register('get_my_list', { shared: 'list', exposed: ['append', 'pop', '__len__'] });
  console.log('Starting manager process...');
  await manager.listen();
  console.log(`Manager listening on ${manager.address}; Ctrl-C to stop`);
  process.once('SIGINT', () => {
    console.log('Shutting down manager...');
    void manager.shutdown();
  });
  process.once('SIGTERM', () => void manager.shutdown());
  await manager.serveForever();
}

main().catch((error) => {
  console.error(`manager: ${error.message}`);
  process.exit(1);
});
