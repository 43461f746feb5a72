// A cold ioredis client, in a fresh Node process: node bench/rows/cold-ioredis.cjs host:port
// Imports ioredis, connects, then BRPOPs a filled list.
const runtimeMs = performance.now();
require('./cold-run.cjs').coldRun(
  runtimeMs,
  () => require('ioredis'),
  async (Redis) => {
    const [host, port] = process.argv[2].split(':');
    const client = new Redis({ host, port: Number(port), lazyConnect: true, noDelay: true });
    await client.connect();
    return client;
  },
  (client) => client.brpop('bench:cold', 0),
);
