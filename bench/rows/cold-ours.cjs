// A cold TypeScript client, in a fresh Node process (no tsx, the shipped bundle):
//   node bench/rows/cold-ours.cjs host:port
// Prints `COLD {json}`: the runtime's own start (process start to this line), then importing
// syncmanager/client, connect(), and create() + the first get() of a filled queue.
const runtimeMs = performance.now();
// CPU time of the whole process, its start included: on a busy machine the wall times above wait for a CPU too.
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const { connect } = require('../../dist/client.js');
const imported = performance.now();
(async () => {
  const client = await connect({ address: process.argv[2], authkey: 'bench' });
  const connected = performance.now();
  const queue = await client.create('get_cold_queue');
  await queue.get();
  const done = performance.now();
  const ms = { runtimeMs, importMs: imported - runtimeMs, connectMs: connected - imported, firstResultMs: done - connected, totalMs: done - runtimeMs, cpuMs: cpuMs() };
  process.stdout.write(`COLD ${JSON.stringify(ms)}\n`);
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
