// A cold ioredis client, in a fresh Node process: node bench/rows/cold-ioredis.cjs host:port
// Imports ioredis, connects, then BRPOPs a filled list.
const start = { runtimeMs: performance.now(), cpu: process.cpuUsage() };
require('./cold-run.cjs').coldRun(
  start,
  () => require('ioredis'),
  async (Redis) => {
    const [host, port] = process.argv[2].split(':');
    const client = new Redis({ host, port: Number(port), lazyConnect: true, noDelay: true });
    await client.connect();
    return client;
  },
  (client) => client.brpop('bench:cold', 0),
);
