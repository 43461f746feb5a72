// A cold ioredis client, in a fresh Node process: node bench/rows/cold-ioredis.cjs host:port
// Prints `COLD {json}` as cold-ours.cjs does; the first result is a BRPOP of a filled list.
const runtimeMs = performance.now();
// CPU time of the whole process, its start included: on a busy machine the wall times above wait for a CPU too.
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const Redis = require('ioredis');
const imported = performance.now();
(async () => {
  const [host, port] = process.argv[2].split(':');
  const client = new Redis({ host, port: Number(port), lazyConnect: true, noDelay: true });
  await client.connect();
  const connected = performance.now();
  await client.brpop('bench:cold', 0);
  const done = performance.now();
  const ms = { runtimeMs, importMs: imported - runtimeMs, connectMs: connected - imported, firstResultMs: done - connected, totalMs: done - runtimeMs, cpuMs: cpuMs() };
  process.stdout.write(`COLD ${JSON.stringify(ms)}\n`);
  client.disconnect();
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
