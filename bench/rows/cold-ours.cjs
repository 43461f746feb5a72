// A cold TypeScript client, in a fresh Node process (no tsx, the shipped bundle):
//   node bench/rows/cold-ours.cjs host:port [client.js of another build]
// Imports syncmanager/client, connect()s, then create() and the first get() of a filled queue.
const start = { runtimeMs: performance.now(), cpu: process.cpuUsage() };
require('./cold-run.cjs').coldRun(
  start,
  () => require(process.argv[3] ?? '../../dist/client.js'),
  ({ connect }) => connect({ address: process.argv[2], authkey: 'bench' }),
  async (client) => {
    const queue = await client.create('get_cold_queue');
    await queue.get();
  },
);
