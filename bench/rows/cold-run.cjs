// Times one cold client for the cold row of bench/rows/run.ts and prints `COLD {json}`: the
// runtime's own start (`runtimeMs`, process start to the script's first line), then loading the
// client library, connecting, and the first result; the process's whole CPU time, its start
// included (on a busy machine the wall times also wait for a CPU); and its CPU time from the
// script's first line (`ownCpuMs`). `start` holds the clocks read at that line:
// `{ runtimeMs: performance.now(), cpu: process.cpuUsage() }`.
exports.coldRun = (start, load, open, firstResult) => {
  const loading = performance.now();
  const library = load();
  const imported = performance.now();
  (async () => {
    const client = await open(library);
    const connected = performance.now();
    await firstResult(client);
    const done = performance.now();
    const { user, system } = process.cpuUsage();
    const own = process.cpuUsage(start.cpu);
    const ms = { runtimeMs: start.runtimeMs, importMs: imported - loading, connectMs: connected - imported, firstResultMs: done - connected, totalMs: done - start.runtimeMs, cpuMs: (user + system) / 1000, ownCpuMs: (own.user + own.system) / 1000 };
    process.stdout.write(`COLD ${JSON.stringify(ms)}\n`);
    process.exit(0);
  })().catch((error) => {
    console.error(error);
    process.exit(1);
  });
};
